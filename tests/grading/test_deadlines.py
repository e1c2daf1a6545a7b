"""Deadlines end to end: a due date, a late submission, an extension and a moved due date,
through ``kzcourse deadline`` on a course graded by the real ``kzcourse grade`` and nbgrader;
the penalty must agree in the gradebook, the csv export, nbgrader's feedback and the report.

Policy under test (``deadlines.toml`` default): 0.1 of the lesson's points per started day late.
"""
from __future__ import annotations

import csv
import datetime as dt
import re

import pytest

from tests.grading.helpers import kz, new_course, submit
from tests.grading.small_gradebook import LESSON, small_course

DUE = "2026-02-02T23:59:00+05:00"  # 18:59 UTC
TWO_HOURS_LATE = "2026-02-02 20:59:00 UTC"
ON_TIME = "2026-02-02 17:00:00 UTC"


def test_penalty_rule_on_the_fixture_gradebook(tmp_path):
    """2 h late: one started day = 0.1 x max; an extension removes it; a later due date too; an earlier one
    makes the on-time student late."""
    from kzcourse.grading import deadlines

    utc = dt.timezone.utc
    course = small_course(tmp_path, {"late": {"q1_a": 1, "q1_b": 1, "q2": 1, "w1": 3},
                                     "ontime": {"q1_a": 1, "q1_b": 0, "q2": 1, "w1": 2}},
                          timestamps={"late": dt.datetime(2026, 2, 2, 20, 59, tzinfo=utc),
                                      "ontime": dt.datetime(2026, 2, 2, 17, 0, tzinfo=utc)})
    late = deadlines.set_due(course, LESSON, DUE)
    assert [(x.student, round(x.hours_late, 2), x.penalty) for x in late] == [("late", 2.0, pytest.approx(0.6))]
    assert deadlines.extend(course, LESSON, "late", hours=3) == []
    deadlines.extend(course, LESSON, "late")  # extension removed: late again
    assert [x.penalty for x in deadlines.recompute(course)] == [pytest.approx(0.6)]
    late = deadlines.set_due(course, LESSON, "2026-02-01T18:00:00Z")  # a day earlier
    got = {x.student: (round(x.hours_late, 2), x.penalty) for x in late}
    # late: 26.98 h -> two started days -> 1.2 of 6, capped at nothing (score 6); ontime: 23 h -> one day 0.6
    assert got == {"late": (26.98, pytest.approx(1.2)), "ontime": (23.0, pytest.approx(0.6))}


def test_bad_dates_and_unknown_students_are_clear_errors(tmp_path):
    course = small_course(tmp_path, {"s1": {"q1_a": 1, "q1_b": 1, "q2": 1, "w1": 3}})
    r = kz("deadline", "set", LESSON, "2026-02-02 23:59", cwd=course.root)
    assert r.returncode == 3 and "no UTC offset" in r.stderr
    r = kz("deadline", "set", LESSON, "next friday", cwd=course.root)
    assert r.returncode == 3 and "not a date and time" in r.stderr
    r = kz("deadline", "extend", LESSON, "nobody", "--hours", "2", cwd=course.root)
    assert r.returncode == 3 and "No student 'nobody'" in r.stderr
    r = kz("deadline", "set", "99-nothing", DUE, cwd=course.root)
    assert r.returncode == 3 and "Unknown lesson" in r.stderr


def _csv_penalty(course, student):
    kz("export", "-o", str(course / "g.csv"), LESSON, cwd=course, check=0)
    rows = {r["student_id"]: r for r in csv.DictReader(open(course / "g.csv", encoding="utf-8"))}
    return rows[student]["late_penalty"], rows[student]["score"]


def _feedback_penalty(course, student):
    kz("feedback", LESSON, cwd=course, check=0)
    page = (course / "feedback" / student / LESSON / f"{LESSON}.html").read_text(encoding="utf-8")
    m = re.search(r"Late submission penalty \(Score: -([\d.]+)\)", page)
    return m.group(1) if m else None


def _report_penalty(course, student):
    kz("report", LESSON, cwd=course, check=0)
    page = (course / "report.html").read_text(encoding="utf-8")
    m = re.search(rf"<tr><td>{student}</td><td>{LESSON}</td>.*?<td>([\d.]+)</td></tr>", page)
    return m.group(1) if m else None


@pytest.mark.slow
def test_late_extension_and_moved_due_date_agree_in_export_feedback_and_report(tmp_path):
    from nbgrader.api import Gradebook

    course = new_course(tmp_path, [LESSON])
    kz("deadline", "set", LESSON, DUE, cwd=course, check=0)
    release = (course / "release" / LESSON / f"{LESSON}.ipynb").read_text(encoding="utf-8")
    assert "Due: 2026-02-02 23:59 (UTC+05:00)" in release, "students see the due date in the first cell"
    submit(course, LESSON, {"aigerim": "right", "nurlan": "right"})
    (course / "submitted" / "aigerim" / LESSON / "timestamp.txt").write_text(TWO_HOURS_LATE)
    (course / "submitted" / "nurlan" / LESSON / "timestamp.txt").write_text(ON_TIME)
    kz("grade", LESSON, "--jobs", "1", "-q", cwd=course)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "kzcourse") as gb:  # a grader marks the written answers
        for s in ("aigerim", "nurlan"):
            for g in gb.find_submission_notebook(LESSON, LESSON, s).grades:
                if g.needs_manual_grade:
                    g.manual_score, g.needs_manual_grade = g.max_score, False
        gb.db.commit()
        max_score = gb.find_assignment(LESSON).max_score
    expected = f"{0.1 * max_score:g}"
    assert _csv_penalty(course, "aigerim") == (expected, f"{max_score - 0.1 * max_score:g}")
    assert _csv_penalty(course, "nurlan")[0] == "0"
    assert float(_feedback_penalty(course, "aigerim")) == pytest.approx(0.1 * max_score)
    assert _feedback_penalty(course, "nurlan") is None
    assert float(_report_penalty(course, "aigerim")) == pytest.approx(0.1 * max_score)

    kz("deadline", "extend", LESSON, "aigerim", "--hours", "3", cwd=course, check=0)
    assert _csv_penalty(course, "aigerim") == ("0", f"{max_score:g}")
    assert _feedback_penalty(course, "aigerim") is None
    assert _report_penalty(course, "aigerim") is None

    kz("deadline", "extend", LESSON, "aigerim", "--remove", cwd=course, check=0)
    out = kz("deadline", "set", LESSON, "2026-02-01T18:00:00Z", cwd=course, check=0).stdout
    assert "late: aigerim" in out and "late: nurlan" in out
    # aigerim 26.98 h late (two started days), nurlan 23 h (one)
    assert float(_csv_penalty(course, "aigerim")[0]) == pytest.approx(0.2 * max_score)
    assert float(_feedback_penalty(course, "nurlan")) == pytest.approx(0.1 * max_score)
    assert float(_report_penalty(course, "nurlan")) == pytest.approx(0.1 * max_score)
    release = (course / "release" / LESSON / f"{LESSON}.ipynb").read_text(encoding="utf-8")
    assert "Due: 2026-02-01 18:00 (UTC+00:00)" in release and "2026-02-02 23:59" not in release
