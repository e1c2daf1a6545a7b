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
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*.toml", "instructor.md"]

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

# One-machine setup: the exchange lives inside the course folder, where the
# instructor can write. On JupyterHub, point this at the shared exchange volume.
c.Exchange.root = os.path.join(_here, ".exchange")
