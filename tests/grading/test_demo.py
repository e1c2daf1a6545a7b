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
    assert totals[0] == 0 and totals[-1] > totals[1], "blank, partly right and right work score differently"
    assert len(list((course / "feedback").glob("*/02-geography/*.html"))) == 4
    assert (course / "report.html").is_file()
    assert kz("audit", cwd=course).returncode == 0


def test_demo_refuses_too_few_students(tmp_path):
    result = kz("demo", str(tmp_path / "term"), "--students", "2")
    assert result.returncode == 3 and "at least 5" in result.stderr
