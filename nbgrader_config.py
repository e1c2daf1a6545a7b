"""nbgrader configuration for the kzcourse course root (this repository).

Instructors: see README.md, "Instructor guide". Every setting here is an nbgrader
traitlet; `nbgrader --help-all` documents them.
"""
import os

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)
_here = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.course_id = "kzcourse"
c.CourseDirectory.root = _here
# Lessons are the source assignments: lessons/<lesson>/<lesson>.ipynb
c.CourseDirectory.source_directory = "lessons"
# Only notebooks are released (lesson.toml metadata stays with the instructor).
# integrity.json (kzcourse's integrity flags) stays with the instructor: never copied to feedback.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*.toml", "instructor.md",
                            "integrity.json"]

# A student who deletes a test cell gets it back at autograde.
c.OverwriteCells.add_missing_cells = True

# A per-cell time limit: no lesson cell needs more than a few seconds, so an
# infinite loop in a submission cannot hold up a whole batch.
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True

# Feedback never reveals hidden tests — not in the test cells' source (ClearHiddenTests)
# and not in the tracebacks of failing hidden tests (kzcourse's own preprocessor).
from nbgrader.preprocessors import ClearHiddenTests, GetGrades  # noqa: E402
from nbconvert.exporters.html import HTMLExporter  # noqa: E402,F401
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor  # noqa: E402

from kzcourse.grading.preprocessors import HideHiddenTestTracebacks  # noqa: E402

c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTestTracebacks, ClearHiddenTests, CSSHTMLHeaderPreprocessor]

# Sandbox and integrity (README, "Sandbox and integrity"): the kernel that runs student code
# starts inside bubblewrap (no course files, no network) when bubblewrap works here, and
# canary cells around Execute record tampering in autograded/<student>/<lesson>/integrity.json.
# The canaries are removed before grades are saved; they never change a score.
from nbgrader.preprocessors import (  # noqa: E402
    AssignLatePenalties, CheckCellMetadata, Execute, IgnorePattern, LimitOutput, SaveAutoGrades)
from nbconvert.preprocessors import ClearMetadataPreprocessor  # noqa: E402

from kzcourse.grading import integrity, sandbox  # noqa: E402

if sandbox.available():
    Execute = sandbox.Execute  # noqa: F811 (nbgrader's Execute, kernel in the sandbox)
else:
    import logging  # noqa: E402

    logging.getLogger("kzcourse").warning(
        "bubblewrap is not usable here: student code is autograded WITHOUT the sandbox "
        "(apt-get install bubblewrap).")
c.Autograde.autograde_preprocessors = [
    integrity.AddCanaries, Execute, integrity.CheckCanaries,
    IgnorePattern, ClearMetadataPreprocessor, LimitOutput, SaveAutoGrades, AssignLatePenalties, CheckCellMetadata,
]

# One-machine setup: the exchange lives inside the course folder, where the
# instructor can write. On JupyterHub, point this at the shared exchange volume.
c.Exchange.root = os.path.join(_here, ".exchange")
