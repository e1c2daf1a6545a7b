"""Resumable grading: interrupted by SIGINT, then by SIGTERM, and run again, every
submission is graded exactly once and the gradebook is consistent. Plus the journal and
layout checks of kzcourse.grading.grade."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kzcourse.grading.course import CourseError, open_course
from kzcourse.grading.grade import check_submitted_layout, read_journal
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
