"""The instructor's report and similarity pages in headless Chromium, every network request blocked.

Each chart of the report is drawn from the one inlined plotly.js (offline), count axes show whole numbers
only, and an undefined discrimination index is written on the chart. The similarity page shows its pairs
side by side. Screenshots go to ``test-artifacts/report.png`` and ``test-artifacts/similarity.png``.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.grading.small_gradebook import small_course

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SCORES = {
    "s1": {"q1_a": 1, "q1_b": 1, "q2": 1, "w1": 3}, "s2": {"q1_a": 1, "q1_b": 1, "q2": 1, "w1": 2},
    "s3": {"q1_a": 1, "q1_b": 0, "q2": 1, "w1": None}, "s4": {"q1_a": 0, "q1_b": 0, "q2": 1, "w1": 1},
    "s5": {"q1_a": 0, "q1_b": 0, "q2": 1, "w1": 0}, "s6": {"q1_a": 1, "q1_b": 0, "q2": 1, "w1": None},
}


def test_report_draws_every_chart_offline_with_whole_number_counts(browser_page, tmp_path):
    from kzcourse.grading.report import write_report

    course = small_course(tmp_path, SCORES)
    out = write_report(course)
    browser_page.set_viewport_size({"width": 1100, "height": 900})
    browser_page.goto(out.as_uri(), wait_until="load")
    browser_page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length == 3", timeout=30000)
    assert browser_page.eval_on_selector_all(".js-plotly-plot .main-svg", "els => els.length") >= 3
    ticks = browser_page.evaluate("() => [...document.querySelectorAll('.js-plotly-plot')[0]"
                                  ".querySelectorAll('.ytick text, .xtick text')].map(e => e.textContent)")
    assert ticks and all(t.strip().lstrip("−-").isdigit() for t in ticks), ticks
    notes = browser_page.eval_on_selector_all(".annotation-text", "els => els.map(e => e.textContent)")
    assert "undefined" in notes, "q2 (everyone scored 1) has no spread: its D is written as undefined"
    assert not browser_page.kz_blocked and not browser_page.kz_errors
    ARTIFACTS.mkdir(exist_ok=True)
    browser_page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)


def test_similarity_page_shows_pairs_side_by_side(browser_page, tmp_path):
    pytest.importorskip("copydetect")
    from kzcourse.grading.course import init_course
    from kzcourse.grading.similarity import write_similarity
    from tests.grading.similarity_class import LESSON, build_class

    course = init_course(tmp_path / "course")
    assert course.api().generate_assignment(LESSON, force=True, create=True)["success"]
    build_class(course, n_honest=8, seed=2022)
    out, _ = write_similarity(course, [LESSON], top=5)
    browser_page.set_viewport_size({"width": 1200, "height": 900})
    browser_page.goto(out.as_uri(), wait_until="load")
    sides = browser_page.eval_on_selector_all(".side", "els => els.map(e => e.children.length)")
    assert sides and all(n == 2 for n in sides)
    left, right = browser_page.eval_on_selector(
        ".side", "s => [s.children[0].getBoundingClientRect().left, s.children[1].getBoundingClientRect().left]")
    assert right > left + 300, "the two students' passages sit side by side"
    assert browser_page.eval_on_selector_all("mark", "els => els.length") > 0
    assert not browser_page.kz_blocked and not browser_page.kz_errors
    ARTIFACTS.mkdir(exist_ok=True)
    browser_page.screenshot(path=str(ARTIFACTS / "similarity.png"))
