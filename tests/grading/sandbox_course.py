"""Helpers for the sandbox and integrity tests: a real lesson in a temporary nbgrader course.

Submissions are built from the lesson's source notebook: every autograded question gets the
plausible wrong answer from lessons/<lesson>/wrong.toml, then a fixture
(tests/grading/fixtures/<name>.toml, named after what it tries) replaces some solution cells
with its trick. Grading goes through the real ``nbgrader`` command line, with this
repository's nbgrader_config.py ("kzcourse") or with that file plus nbgrader's own
``Autograde`` pipeline put back ("plain": one kernel for cells and tests, no sandbox).
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"

PLAIN = '''
# --- test override: nbgrader's own autograde pipeline (one kernel, no sandbox)
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
    wrong = tomllib.loads((ROOT / "lessons" / lesson / "wrong.toml").read_text(encoding="utf-8"))["wrong"]
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


# ----------------------------------------------------------------------------- the shared scenario

LESSON = "01-article"
TRICKS = ["trick-input-transformer", "trick-ast-transformer", "trick-custom-exc", "trick-showtraceback",
          "trick-patched-checks", "trick-patched-builtins", "trick-equals-anything"]
ATTACKS = ["sandbox-read-solution", "sandbox-write-outside", "sandbox-network"]
GRADEBOOK_ATTACK = "sandbox-open-gradebook"
HONEST = ["blank", "solution", "wrong"]


def _answer_server():
    """A TCP server on 127.0.0.1 that answers any request with lesson 01's q1 answer."""
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.5)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.recv(100)
                conn.sendall(b"P28\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return server.getsockname()[1], lambda: (stop.set(), thread.join(2), server.close())


def build_scenario(base: Path) -> dict:
    """Grade honest, trick and attack submissions of lesson 01 under plain nbgrader and under kzcourse.

    Returns ``{"plain": {...}, "kzcourse": {...}, "port": int}``; each mode has ``course``
    (Path), ``scores`` ({student: {grade: score}}, read right after its run),
    ``config_before``/``config_after`` (the course's nbgrader_config.py text around the run)
    and ``marker`` (in the names of the files the write-outside attack tries to create).
    Under plain nbgrader the gradebook attack runs last and alone (it rewrites every student's
    scores), and the write-outside attack's damage to nbgrader_config.py is undone before it.
    """
    import secrets

    marker = secrets.token_hex(6)
    port, stop = _answer_server()
    out: dict = {"marker": marker, "port": port}
    try:
        for mode in ("plain", "kzcourse"):
            course, source, release = new_course(base / mode, LESSON, plain=(mode == "plain"))
            subs = {"blank": release, "solution": source, "wrong": wrong_answers(source, LESSON)}
            for name in TRICKS + ATTACKS:
                subs[name] = trick(source, LESSON, name, marker=marker + mode, port=str(port))
            config_before = (course / "nbgrader_config.py").read_text(encoding="utf-8")
            if mode == "plain":
                submit(course, LESSON, subs)
                autograde(course, LESSON)
                result = {s: scores(course, LESSON, s) for s in subs}
                config_after = (course / "nbgrader_config.py").read_text(encoding="utf-8")
                (course / "nbgrader_config.py").write_text(config_before, encoding="utf-8")
                submit(course, LESSON, {GRADEBOOK_ATTACK: trick(source, LESSON, GRADEBOOK_ATTACK)})
                nbgrader(course, "autograde", LESSON, "--create", "--force", f"--student={GRADEBOOK_ATTACK}")
                result[GRADEBOOK_ATTACK] = scores(course, LESSON, GRADEBOOK_ATTACK)
            else:
                subs[GRADEBOOK_ATTACK] = trick(source, LESSON, GRADEBOOK_ATTACK)
                submit(course, LESSON, subs)
                autograde(course, LESSON)
                result = {s: scores(course, LESSON, s) for s in subs}
                config_after = (course / "nbgrader_config.py").read_text(encoding="utf-8")
            out[mode] = {"course": course, "scores": result, "config_before": config_before,
                         "config_after": config_after, "marker": marker + mode}
    finally:
        stop()
    return out


_CACHE: dict = {}


@pytest.fixture(scope="session")
def scenario(tmp_path_factory):
    """The graded scenario of :func:`build_scenario`, built once per test session."""
    if "scenario" not in _CACHE:
        _CACHE["scenario"] = build_scenario(tmp_path_factory.mktemp("integrity"))
    return _CACHE["scenario"]
