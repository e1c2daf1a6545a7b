"""Helpers for the sandbox and integrity tests: a real lesson in a temporary nbgrader course.

Submissions are built from the lesson's source notebook: every autograded question gets the
plausible wrong answer from tests/lessons/<lesson>.toml, then a fixture
(tests/grading/fixtures/<name>.toml, named after what it tries) replaces some solution cells
with its trick. Grading goes through the real ``nbgrader`` command line, with this
repository's nbgrader_config.py ("kzcourse") or with that file plus nbgrader's own
``Autograde`` pipeline put back ("plain": no canaries, no sandbox).
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
WRONG = ROOT / "tests" / "lessons"

PLAIN = '''
# --- test override: nbgrader's own autograde pipeline (no kzcourse canaries, no sandbox)
from nbgrader.converters.autograde import Autograde as _Autograde
c.Autograde.autograde_preprocessors = _Autograde.class_traits()["autograde_preprocessors"].default()
'''


def nbgrader(course_dir: Path, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course_dir, capture_output=True, text=True,
                            timeout=1200)
    if result.returncode != 0:
        raise AssertionError(f"nbgrader {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def new_course(course_dir: Path, lesson: str, *, plain: bool) -> tuple[Path, object, object]:
    """A course with one released lesson; returns (course_dir, source notebook, release notebook)."""
    course_dir.mkdir(parents=True, exist_ok=True)
    config = (ROOT / "nbgrader_config.py").read_text(encoding="utf-8")
    (course_dir / "nbgrader_config.py").write_text(config + (PLAIN if plain else ""), encoding="utf-8")
    (course_dir / "lessons").mkdir()
    shutil.copy(ROOT / "lessons" / "course.toml", course_dir / "lessons")
    shutil.copytree(ROOT / "lessons" / lesson, course_dir / "lessons" / lesson,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    nbgrader(course_dir, "generate_assignment", lesson, "--force")
    source = nbformat.read(course_dir / "lessons" / lesson / f"{lesson}.ipynb", as_version=4)
    release = nbformat.read(course_dir / "release" / lesson / f"{lesson}.ipynb", as_version=4)
    return course_dir, source, release


def _copy(nb):
    return nbformat.from_dict(json.loads(json.dumps(nb)))


def wrong_answers(source, lesson: str):
    """The source notebook with every autograded question answered wrongly (but plausibly)."""
    wrong = tomllib.loads((WRONG / f"{lesson}.toml").read_text(encoding="utf-8"))["wrong"]
    nb = _copy(source)
    for cell in nb.cells:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in wrong:
            cell.source = wrong[gid]["code"]
    return nb


def fixture(name: str) -> dict:
    return tomllib.loads((FIXTURES / f"{name}.toml").read_text(encoding="utf-8"))


def trick(source, lesson: str, name: str, **fill: str):
    """Wrong answers, with the cells the fixture names replaced by its trick."""
    spec = fixture(name)
    nb = wrong_answers(source, lesson)
    for cell in nb.cells:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in spec["cells"]:
            code = spec["cells"][gid]
            for key, value in fill.items():
                code = code.replace("{" + key + "}", value)
            cell.source = code
    return nb


def submit(course_dir: Path, lesson: str, submissions: dict) -> None:
    for student, nb in submissions.items():
        folder = course_dir / "submitted" / student / lesson
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, folder / f"{lesson}.ipynb")


def autograde(course_dir: Path, lesson: str) -> subprocess.CompletedProcess:
    return nbgrader(course_dir, "autograde", lesson, "--create", "--force")


def scores(course_dir: Path, lesson: str, student: str) -> dict[str, float]:
    """Every code grade of a submission as the gradebook totals it (manual score if any, else auto)."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}") as gb:
        nb = gb.find_submission_notebook(lesson, lesson, student)
        return {g.name: g.score for g in nb.grades if g.cell.cell_type == "code"}


def total(course_dir: Path, lesson: str, student: str) -> float:
    return sum(scores(course_dir, lesson, student).values())
