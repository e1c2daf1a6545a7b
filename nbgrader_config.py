"""nbgrader configuration for the kzcourse course root (this repository).

Instructors: see README.md, "Instructor guide". Every setting here is an nbgrader
traitlet; `nbgrader --help-all` documents them.
"""
import os

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)
_here = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.course_id = "kzcourse"
c.CourseDirectory.root = _here

# The settings every kzcourse course shares, the same ones `kzcourse init` writes for a term
# (kzcourse/grading/settings.py documents each):
#  - lessons/<lesson>/<lesson>.ipynb are the source assignments; only notebooks are released
#    (lesson.toml, instructor.md and kzcourse's integrity.json stay with the instructor);
#  - a student who deletes a test cell gets it back at autograde (OverwriteCells.add_missing_cells);
#  - a 60 s per-cell time limit (Execute.timeout), so an infinite loop cannot hold up a batch;
#  - feedback never reveals hidden tests, in cell source (ClearHiddenTests) or in tracebacks
#    (kzcourse's HideHiddenTestTracebacks);
#  - two-phase grading (README, "How grade works"): student cells run in one kernel, inside
#    bubblewrap when it works here (no course files, no network, resource limits); the tests run
#    in another kernel that never ran student code, on the answers recorded as plain data.
#    What a human should look at is flagged in autograded/<student>/<lesson>/integrity.json.
# Override any of them below the call.
from kzcourse.grading import settings  # noqa: E402

settings.apply(c)

# One-machine setup: the exchange lives inside the course folder, where the
# instructor can write. On JupyterHub, point this at the shared exchange volume.
c.Exchange.root = os.path.join(_here, ".exchange")
