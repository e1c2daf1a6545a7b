"""Flags: what a human should look at in an autograded submission. A flag never changes a score.

With two-phase grading (:mod:`kzcourse.grading.phases`) the tests run in a kernel that never
ran student code, so there is no same-process trick left to detect: the canaries, fingerprints
and static scan of earlier versions are gone. What remains flagged is what a grader should
see with their own eyes:

* ``kernel-died``: the student's kernel died, hit a sandbox limit or ran past the notebook's
  total time limit (where, and why); the answers recorded before were graded, the questions
  after scored 0;
* ``tests-kernel-died``: the tests' kernel died (or hung) on this notebook's answers twice, in a
  fresh kernel the second time; the tests before it kept their result, the rest scored 0 (a
  death of a kernel reused from earlier notebooks is not flagged: the tests are run again);
* ``output-limit``: output over the byte limits was dropped;
* ``no-recording``, ``bad-recording``, ``not-plain-data``: an answer could not cross to the
  tests' kernel as plain data (the test judged it as missing, or as a stand-in object); a
  recording that cannot be read (too big, a dtype or shape :mod:`kzcourse.grading.values` never
  writes, too many values, colliding hashes) makes that test fail with a note in its output;
* ``edited-metadata``: the submission's nbgrader cell metadata differs from the lesson's
  (renamed, duplicated, retyped or extra test cells, changed points); it was graded against
  the lesson's own cells, matched by ``grade_id``;
* ``submission-files``: the submission folder held other entries (links, devices, extra
  files); only the notebook was graded, nothing else was copied.

The flags of one autograded notebook are kept in ``integrity.json`` beside it (never copied
into releases or feedback: ``CourseDirectory.ignore`` lists it), as
``{"flags": [{"code": ..., "cell": ..., "message": ...}, ...]}``.

>>> import tempfile
>>> d = Path(tempfile.mkdtemp())
>>> write_flags(d, [{"code": "kernel-died", "cell": "q2", "message": "the kernel exited"}])
>>> [f.code for f in read_flags(d)]
['kernel-died']
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable

from kzcourse.errors import KzCourseError

REPORT = "integrity.json"


@dataclass(frozen=True)
class Finding:
    """One reason to review a submission by hand: a ``code`` (kind), the ``cell`` and a ``message``."""

    code: str
    cell: str
    message: str

    def to_dict(self) -> dict[str, str]:
        """A JSON-ready dict.

        >>> Finding("x", "q1", "m").to_dict()
        {'code': 'x', 'cell': 'q1', 'message': 'm'}
        """
        return asdict(self)


class IntegrityError(KzCourseError, ValueError):
    """A flags report cannot be read."""


def write_flags(folder: Path, flags: Iterable[dict | Finding]) -> None:
    """Write ``integrity.json`` into ``folder`` (each flag once, in order)."""
    out: list[dict] = []
    for f in flags:
        d = f.to_dict() if isinstance(f, Finding) else {k: str(f.get(k, "")) for k in ("code", "cell", "message")}
        if d not in out:
            out.append(d)
    (Path(folder) / REPORT).write_text(json.dumps({"flags": out}, indent=1), encoding="utf-8")


def read_flags(folder: Path) -> list[Finding]:
    """The flags recorded beside one autograded notebook (none if there is no report).

    >>> import tempfile
    >>> read_flags(Path(tempfile.mkdtemp()))
    []
    """
    path = Path(folder) / REPORT
    if not path.is_file():
        return []
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
        return [Finding(str(f["code"]), str(f["cell"]), str(f["message"])) for f in report["flags"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise IntegrityError(f"{path} is not a flags report: expected JSON with a 'flags' list, got "
                             f"{type(exc).__name__}: {exc}. Autograde the submission again.") from exc
