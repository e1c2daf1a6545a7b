"""Resumable grading: interrupted by SIGINT, then by SIGTERM, and run again, every
submission is graded exactly once and the gradebook is consistent. Submissions whose cell
runs past the time limit or whose kernel dies are reported by student and lesson, never stop
the batch and are never recorded as a 0. Plus the journal and layout checks of
kzcourse.grading.grade."""
from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kzcourse.grading.course import CourseError, open_course
from kzcourse.grading.journal import read_journal
from kzcourse.grading.submission import check_submitted_layout
from tests.grading.helpers import env, kz, new_course, scores, submit

LESSON = "01-article"
PLAN = {s: k for s, k in zip(["aigerim", "nurlan", "dana", "yerlan", "s5", "s6", "s7"],
                             ["right", "partly", "wrong", "blank", "right", "wrong", "partly"])}


def _journal_lines(course: Path) -> list[dict]:
    path = course / ".kzcourse" / "journal.jsonl"
    return [json.loads(l) for l in path.read_text().splitlines()] if path.exists() else []


def _interrupt_after_next_record(course: Path, sig: int) -> subprocess.CompletedProcess:
    before = len(_journal_lines(course))
    p = subprocess.Popen([sys.executable, "-m", "kzcourse", "grade", "--jobs", "2"], cwd=course, env=env(),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while len(_journal_lines(course)) <= before and time.monotonic() < deadline and p.poll() is None:
        time.sleep(0.1)
    p.send_signal(sig)
    out, err = p.communicate(timeout=120)
    return subprocess.CompletedProcess(p.args, p.returncode, out, err)


@pytest.mark.slow
def test_interrupted_by_sigint_then_sigterm_and_rerun_every_submission_is_graded_exactly_once(tmp_path):
    course = new_course(tmp_path, lessons=[LESSON])
    submit(course, LESSON, PLAN)

    first = _interrupt_after_next_record(course, signal.SIGINT)
    assert first.returncode == 130, first.stdout + first.stderr
    assert "INTERRUPTED by SIGINT" in first.stdout
    after_first = len(_journal_lines(course))
    assert 1 <= after_first < len(PLAN)

    second = _interrupt_after_next_record(course, signal.SIGTERM)
    assert second.returncode == 143, second.stdout + second.stderr
    assert "INTERRUPTED by SIGTERM" in second.stdout
    assert f"({after_first} already graded before, skipped)" in second.stdout

    last = kz("grade", "--jobs", "2", cwd=course)
    assert last.returncode == 0, last.stdout + last.stderr
    entries = _journal_lines(course)
    keys = [(e["student"], e["lesson"]) for e in entries if e["status"] == "graded"]
    assert sorted(keys) == sorted((s, LESSON) for s in PLAN), "each submission recorded exactly once"
    got = scores(course)
    assert set(got) == {(s, LESSON) for s in PLAN}
    assert all(len(cells) > 0 for cells in got.values())
    for s in PLAN:
        assert (course / "autograded" / s / LESSON / f"{LESSON}.ipynb").is_file()
    assert not list((course / "autograded").glob("*/.*incoming")), "no half-copied folder left behind"
    assert not (course / ".kzcourse" / "run").exists(), "scratch removed after a complete run"
    # the same scores as a run that was never interrupted
    for s, kind in PLAN.items():
        twin = next(t for t, k in PLAN.items() if k == kind)
        assert got[(s, LESSON)] == got[(twin, LESSON)]


def test_files_misplaced_in_submitted_are_refused_with_where_they_belong(tmp_path):
    root = tmp_path / "c"
    (root / "submitted" / "abai").mkdir(parents=True)
    (root / "nbgrader_config.py").write_text("c = get_config()\n")
    (root / "submitted" / "grades.xlsx").write_text("x")
    (root / "submitted" / "abai" / "01-article.ipynb").write_text("{}")
    with pytest.raises(CourseError, match=r"submitted/abai/01-article.ipynb .*submitted/grades.xlsx .*Expected each "
                                          r"submission in submitted/<student>/<lesson>/<lesson>.ipynb"):
        check_submitted_layout(open_course(root))


def test_a_torn_last_journal_line_is_ignored(tmp_path):
    root = tmp_path / "c"
    (root / ".kzcourse").mkdir(parents=True)
    (root / "nbgrader_config.py").write_text("c = get_config()\n")
    good = {"student": "a", "lesson": "l", "status": "graded", "digest": "d"}
    (root / ".kzcourse" / "journal.jsonl").write_text(json.dumps(good) + "\n{\"student\": \"b\", \"les")
    assert read_journal(open_course(root)) == {("a", "l"): good}


# --------------------------------------------------------------------------- submissions that break the kernel

SABOTAGE = {
    # student: (code put at the top of the lesson's last solution cell, flag, words its message must contain)
    "looper": ("while True:\n    pass", "time-limit", "time limit of 3 s"),
    "exiter": ("import os as o\no._exit(3)", "kernel-died", "exited with status 3"),
    "killer": ("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)", "kernel-died", "SIGKILL"),
}


def _sabotage(course: Path, lesson: str, student: str, code: str) -> None:
    """A right submission whose last solution cell first runs ``code``: earlier cells pass, then the kernel stops."""
    submit(course, lesson, {student: "right"})
    path = course / "submitted" / student / lesson / f"{lesson}.ipynb"
    nb = json.loads(path.read_text(encoding="utf-8"))
    cell = [c for c in nb["cells"] if c["cell_type"] == "code" and c["metadata"].get("nbgrader", {}).get("solution")][-1]
    source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    cell["source"] = code + "\n" + source
    path.write_text(json.dumps(nb), encoding="utf-8")


@pytest.fixture(scope="module")
def sabotaged(tmp_path_factory):
    """Two honest submissions, three that loop forever or kill their kernel in the last question, and
    one that is not a notebook, graded with --timeout 3."""
    course = new_course(tmp_path_factory.mktemp("sabotaged"), lessons=[LESSON])
    submit(course, LESSON, {"aigerim": "right", "nurlan": "wrong", "walkin": "broken"})
    for student, (code, _, _) in SABOTAGE.items():
        _sabotage(course, LESSON, student, code)
    started = time.monotonic()
    result = kz("grade", "--jobs", "2", "--timeout", "3", cwd=course)
    return {"course": course, "grade": result, "seconds": time.monotonic() - started}


def _totals(course: Path) -> dict[str, dict[str, float]]:
    return {s: {c: v[0] for c, v in cells.items() if not c.startswith(("comment:", "w"))}  # autograded cells only
            for (s, _), cells in scores(course).items()}


@pytest.mark.slow
@pytest.mark.parametrize("student", sorted(SABOTAGE))
def test_a_cell_over_the_time_limit_or_a_dying_kernel_is_graded_on_what_came_before_and_flagged(sabotaged, student):
    """The answers before the sabotaged cell keep their points, the question after scores 0, and
    the submission is listed as flagged with where and why (saved in the journal)."""
    g = sabotaged["grade"]
    assert g.returncode == 6, g.stdout + g.stderr[-3000:]  # one broken (walkin) and flagged ones
    got = _totals(sabotaged["course"])
    right = got["aigerim"]
    last = sorted(right)[-1]
    assert got[student] == {**right, last: 0.0}, got[student]
    flagged = g.stdout.split("FLAGGED for manual review", 1)[1]
    line = next(l for l in flagged.splitlines() if l.startswith(f"  {student}  {LESSON}  "))
    _, flag, words = SABOTAGE[student]
    assert flag in line and words in line, line
    entry = read_journal(open_course(sabotaged["course"]))[(student, LESSON)]
    assert entry["status"] == "graded" and any(f["code"] == flag and words in f["message"] for f in entry["flags"])


@pytest.mark.slow
def test_only_a_file_that_is_not_a_notebook_is_broken_and_its_reason_is_saved(sabotaged):
    g = sabotaged["grade"]
    assert "5 graded, 1 broken, 3 flagged" in g.stdout, g.stdout
    assert ("walkin", LESSON) not in scores(sabotaged["course"]), "nothing in the gradebook, so no 0 either"
    entry = read_journal(open_course(sabotaged["course"]))[("walkin", LESSON)]
    assert entry["status"] == "broken" and "not a valid notebook" in entry["reason"]
    assert _totals(sabotaged["course"])["aigerim"] and sum(_totals(sabotaged["course"])["nurlan"].values()) == 0
    # the infinite loop held its worker for about the 3 s limit, not the default 60 s
    assert sabotaged["seconds"] < 120, sabotaged["seconds"]
    assert not (sabotaged["course"] / ".kzcourse" / "run").exists(), "a finished run leaves no scratch behind"


@pytest.mark.slow
def test_a_broken_submission_is_tried_again_on_the_next_run_and_graded_work_is_not(sabotaged):
    again = kz("grade", "--jobs", "2", "--timeout", "3", cwd=sabotaged["course"])
    assert again.returncode == 6, again.stdout + again.stderr[-3000:]
    assert "graded 0 submission(s) in this run (5 already graded before, skipped)" in again.stdout, again.stdout
    assert "5 graded, 1 broken, 3 flagged" in again.stdout


def test_a_submission_is_taken_as_data_links_and_extra_files_are_never_followed(tmp_path):
    """Only the notebook is copied; a link, a folder and a FIFO beside it are flagged, never read."""
    import os

    import nbformat

    from kzcourse.grading.submission import submission_digest, take_submission

    src = tmp_path / "submitted"
    src.mkdir()
    nbformat.write(nbformat.v4.new_notebook(), src / "l1.ipynb")
    (tmp_path / "secret.db").write_text("SQLite format 3")
    (src / "gradebook.db").symlink_to(tmp_path / "secret.db")
    (src / "kzcourse").mkdir()
    (src / "kzcourse" / "checks.py").write_text("def check_equal(*a, **k): pass")
    os.mkfifo(src / "pipe")
    digest = submission_digest(src)  # a FIFO is never opened (this would hang)
    reason, flags = take_submission(src, tmp_path / "dest", ["l1"])
    assert reason is None and sorted(p.name for p in (tmp_path / "dest").iterdir()) == ["l1.ipynb"]
    message = flags[0]["message"]
    assert "gradebook.db (a symbolic link)" in message and "kzcourse (a folder)" in message and "pipe" in message
    (src / "l1.ipynb").unlink()
    (src / "l1.ipynb").symlink_to(tmp_path / "secret.db")
    reason, _ = take_submission(src, tmp_path / "dest2", ["l1"])
    assert "symbolic link" in reason and not (tmp_path / "dest2" / "l1.ipynb").exists()
    assert submission_digest(src) != digest


def test_workers_started_ahead_match_the_work_left(tmp_path):
    """`kzcourse grade` starts workers before it opens the course: no more than the submissions
    the journal does not list as graded (none for a folder that is not a course)."""
    from kzcourse.grading.journal import JOURNAL
    from kzcourse.grading.workers import Prestarted

    assert Prestarted.worthwhile(tmp_path) == 0
    (tmp_path / "nbgrader_config.py").write_text("", encoding="utf-8")
    for student in ("abai", "zhanna", "erlan"):
        (tmp_path / "submitted" / student / "01-article").mkdir(parents=True)
    (tmp_path / "submitted" / "erlan" / "02-geography").mkdir()
    assert Prestarted.worthwhile(tmp_path) == 4
    (tmp_path / ".kzcourse").mkdir()
    (tmp_path / ".kzcourse" / JOURNAL).write_text(
        json.dumps({"student": "abai", "lesson": "01-article", "status": "graded"}) + "\n"
        + json.dumps({"student": "zhanna", "lesson": "01-article", "status": "broken"}) + "\n"
        + "not json\n", encoding="utf-8")
    assert Prestarted.worthwhile(tmp_path) == 3
