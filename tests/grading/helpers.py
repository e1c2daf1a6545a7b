"""Shared helpers for the tests of kzcourse.grading and the kzcourse command.

Every command runs as a real subprocess (``python -m kzcourse``), with the isolated HOME
and Jupyter folders of the test session (set by the root conftest.py).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Two short lessons keep the end-to-end runtime sane.
LESSONS = ["01-article", "02-geography"]
ROSTER = "id,first_name,last_name,email,lms_user_id\n" \
         "aigerim,Aigerim,Akhmetova,aigerim@example.edu,1001\n" \
         "nurlan,Nurlan,Bekov,nurlan@example.edu,1002\n" \
         "dana,Dana,Sadykova,dana@example.edu,1003\n" \
         "yerlan,Yerlan,Omarov,yerlan@example.edu,1004\n"


def env() -> dict[str, str]:
    e = dict(os.environ)
    e["PATH"] = os.path.dirname(sys.executable) + os.pathsep + e.get("PATH", "")
    e["PYTHONPATH"] = str(ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    return e


def kz(*args: str, cwd: Path | None = None, timeout: float = 900, check: int | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m kzcourse ARGS``; with ``check``, assert the exit status."""
    result = subprocess.run([sys.executable, "-m", "kzcourse", *args], cwd=cwd, env=env(), capture_output=True,
                            text=True, timeout=timeout)
    if check is not None:
        assert result.returncode == check, (f"kzcourse {' '.join(args)} exited {result.returncode}, expected {check}\n"
                                            f"stdout:\n{result.stdout}\nstderr:\n{result.stderr[-5000:]}")
    return result


def nbgrader(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=cwd, env=env(), capture_output=True,
                            text=True, timeout=1200)
    assert result.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{result.stdout}\n{result.stderr[-5000:]}"
    return result


def new_course(tmp: Path, lessons: list[str] = LESSONS, roster: str = ROSTER) -> Path:
    """``kzcourse init`` + ``kzcourse release LESSONS`` in ``tmp/course``; return the course folder."""
    (tmp / "roster.csv").write_text(roster, encoding="utf-8")
    kz("init", str(tmp / "course"), "--roster", str(tmp / "roster.csv"), check=0)
    kz("release", *lessons, cwd=tmp / "course", check=0)
    return tmp / "course"


def submit(course_dir: Path, lesson: str, plan: dict[str, str]) -> None:
    """Write submissions (student -> right/partly/wrong/blank/broken) with kzcourse.grading.demo's builders."""
    from kzcourse.grading.course import open_course
    from kzcourse.grading.demo import write_submissions

    write_submissions(open_course(course_dir), lesson, plan)


def scores(course_dir: Path) -> dict[tuple[str, str], dict[str, tuple]]:
    """``(student, lesson) -> {cell: (auto_score, needs_manual_grade, auto_comment)}`` from the gradebook."""
    from nbgrader.api import Gradebook

    out = {}
    with Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}", "kzcourse") as gb:
        for a in gb.assignments:
            for sub in a.submissions:
                cells = {}
                for nb in sub.notebooks:
                    for g in nb.grades:
                        cells[g.name] = (g.auto_score, g.needs_manual_grade)
                    for c in nb.comments:
                        cells[f"comment:{c.name}"] = (c.auto_comment,)
                out[(sub.student_id, a.name)] = cells
    return out
