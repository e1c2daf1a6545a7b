"""`kzcourse demo DIR`: a newcomer gets a graded sample term with every kind of submission."""
from __future__ import annotations

import csv

import pytest

from tests.grading.helpers import kz, scores


@pytest.mark.slow
def test_demo_builds_a_graded_term_with_feedback_report_and_one_broken_submission(tmp_path):
    result = kz("demo", str(tmp_path / "term"), "--students", "5", "--lessons", "02-geography", "--jobs", "2", check=0)
    course = tmp_path / "term" / "course"
    assert "BROKEN" in result.stdout and "not a valid notebook" in result.stdout
    roster = list(csv.DictReader(open(tmp_path / "term" / "roster.csv", encoding="utf-8")))
    assert len(roster) == 5
    got = scores(course)
    assert len(got) == 4  # five students, one broken submission not recorded
    totals = sorted(sum(v[0] or 0 for k, v in cells.items() if not k.startswith("comment:")) for cells in got.values())
    assert totals[-1] > totals[0], "right, varied and wrong work score differently"
    assert len(list((course / "feedback").glob("*/02-geography/*.html"))) == 4
    assert (course / "report.html").is_file()
    assert kz("audit", cwd=course).returncode == 0
    ids = [r["id"] for r in roster]
    # one late submission (ids[1], 2 h), one extension (ids[2]), one planted copy (ids[3] of ids[0])
    page = kz("report", cwd=course, check=0) and (course / "report.html").read_text(encoding="utf-8")
    late = page.split("id='late'", 1)[1].split("</table>", 1)[0]
    assert f"<td>{ids[1]}</td>" in late and f"<td>{ids[2]}</td>" not in late
    out = kz("similarity", "02-geography", cwd=course, check=0).stdout
    first = out.split("read: ", 1)[1].split()[:3]
    assert {first[0], first[2]} == {ids[0], ids[3]}, out
    assert (course / "similarity.html").is_file()
    from kzcourse.grading.course import open_course

    status = {a["name"]: a["status"] for a in open_course(course).api().get_assignments()}
    assert status["02-geography"] == "released", "the Formgrader shows the demo's lessons as released, not draft"


def test_demo_refuses_too_few_students(tmp_path):
    result = kz("demo", str(tmp_path / "term"), "--students", "2")
    assert result.returncode == 3 and "at least 5" in result.stderr
