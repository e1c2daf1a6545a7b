"""kzcourse.grading.report on a small fixture course: does the report say what it knows?

Numbers are checked against a hand computation written out in the test, not against the
module's own helpers.
"""
from __future__ import annotations

import re

import pytest

from tests.grading.small_gradebook import LESSON, small_course

# Six students. q1 = q1_a + q1_b (2 points), q2 (1 point), w1 written (3 points).
# w1 graded for four students, awaiting hand grading for two (None).
SCORES = {
    "s1": {"q1_a": 1, "q1_b": 1, "q2": 1, "w1": 3},
    "s2": {"q1_a": 1, "q1_b": 1, "q2": 0, "w1": 2},
    "s3": {"q1_a": 1, "q1_b": 0, "q2": 1, "w1": None},
    "s4": {"q1_a": 0, "q1_b": 0, "q2": 1, "w1": 1},
    "s5": {"q1_a": 0, "q1_b": 0, "q2": 1, "w1": 0},
    "s6": {"q1_a": 1, "q1_b": 0, "q2": 1, "w1": None},
}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return small_course(tmp_path_factory.mktemp("report"), SCORES)


@pytest.fixture(scope="module")
def items(course):
    from kzcourse.grading.export import gradebook_rows
    from kzcourse.grading.report import item_analysis

    return {i.question: i for i in item_analysis(gradebook_rows(course))}


def test_written_question_counts_graded_and_pending_answers(items):
    w1 = items["w1"]
    assert (w1.n, w1.pending) == (4, 2)
    # by hand: (3 + 2 + 1 + 0) / 4 = 1.5 points = 0.5 of 3; one of four at full marks
    assert w1.mean == pytest.approx(1.5) and w1.mean_share == pytest.approx(0.5)
    assert w1.full_share == pytest.approx(0.25)
    assert w1.written and not items["q1"].written


def test_autograded_question_statistics_equal_a_hand_computation(items):
    q1 = items["q1"]
    assert (q1.n, q1.pending, q1.points) == (6, 0, 2)
    # q1 scores: 2, 2, 1, 0, 0, 1 -> mean 1.0 (share 0.5); full marks 2 of 6
    assert q1.mean == pytest.approx(1.0) and q1.full_share == pytest.approx(2 / 6)
    # D: ranking on the cells graded for all six (q1_a, q1_b, q2): totals 3, 2, 2, 1, 1, 2.
    # k = round(0.27 * 6) = 2. Upper: s1 (3) then s2, s3, s6 tie at 2 -> first by position: s2.
    # Lower: the last two by total: s4 and s5 (1 each). Upper q1: (2 + 2) / 2 = 2; lower (0 + 0) / 2 = 0.
    assert q1.discrimination == pytest.approx((2 - 0) / 2)
    # q2 on the same ranking: upper s1, s2 -> (1 + 0) / 2; lower s4, s5 -> 1 -> D = -0.5
    assert items["q2"].discrimination == pytest.approx(0.5 - 1.0)
    # w1 over its four graded students; ranking on all their cells: s1 6, s2 4, s4 2, s5 1.
    # k = round(0.27 * 4) = 1: upper s1 (3), lower s5 (0): D = 3 / 3
    assert items["w1"].discrimination == pytest.approx(1.0)


def test_discrimination_is_undefined_without_spread(tmp_path):
    from kzcourse.grading.export import gradebook_rows
    from kzcourse.grading.report import build_report, item_analysis

    same = {f"t{i}": {"q1_a": 1, "q1_b": 1, "q2": i % 2, "w1": None} for i in range(5)}
    course = small_course(tmp_path, same)
    got = {i.question: i for i in item_analysis(gradebook_rows(course))}
    assert got["q1"].discrimination is None, "everyone at full marks: no spread, D undefined, not 1.0"
    assert got["w1"].n == 0 and got["w1"].pending == 5 and got["w1"].discrimination is None
    page = build_report(course)
    row = re.search(r"<tr><td>q1</td>.*?</tr>", page).group(0)
    assert "undefined" in row and "1.00</td></tr>" not in row


def test_the_page_shows_pending_counts_one_rounding_rule_and_plotly_once(course):
    from kzcourse.grading.report import build_report

    page = build_report(course)
    assert "2 of them awaiting hand grading" in page
    row = re.search(r"<tr><td>w1</td>(.*?)</tr>", page).group(1)
    cells = re.findall(r"<td>(.*?)</td>", row)
    assert cells == ["written", "3.00", "4", "2", "1.50", "0.50", "0.25", "1.00"]
    assert "and 2 awaiting hand grading" in page and "incomplete, not low" in page
    # every decimal number in the tables has exactly two decimals
    numbers = re.findall(r"<td>(\d+\.\d+)</td>", page)
    assert numbers and all(len(n.split(".")[1]) == 2 for n in numbers)
    assert page.count("data-kzcourse-plotlyjs=") == 1, "plotly.js inlined once for the whole file"
    assert page.count('"dtick":1') >= 2, "count axes are whole students and points"


def test_late_flagged_and_broken_sections_exist(course):
    from kzcourse.grading.report import build_report

    page = build_report(course)
    for anchor in ("late", "flagged", "broken"):
        assert f"id='{anchor}'" in page
