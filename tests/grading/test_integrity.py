"""Does kzcourse.grading.integrity catch submissions that game nbgrader's tests, without touching honest ones?

The end-to-end tests grade lesson 01 through the real ``nbgrader autograde`` twice — with
nbgrader's own pipeline ("plain") and with this repository's nbgrader_config.py ("kzcourse":
canaries and sandbox) — on honest submissions and on wrong answers carrying each trick in
tests/grading/fixtures/trick-*.toml.
"""
from __future__ import annotations

import json
import tomllib

import nbformat
import pytest

from kzcourse.grading import integrity
from kzcourse.grading.integrity import Finding, read_flags, scan_notebook, scan_source
from kzcourse.lessons import course
from tests.grading.sandbox_course import (  # noqa: F401 (scenario is a fixture)
    FIXTURES, HONEST, LESSON, ROOT, TRICKS, autograde, fixture, new_course, nbgrader, scenario, submit, total,
    wrong_answers)


def _flags(scenario, student):
    return read_flags(scenario["kzcourse"]["course"] / "autograded" / student / LESSON)


# ----------------------------------------------------------------------------- static scan


def _cells(*sources):
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])


def test_honest_code_is_not_flagged_by_the_scan():
    nb = _cells("%matplotlib inline\nimport pandas as pd\npd.options.display.max_rows = 20",
                "from kzcourse import data\nfrom kzcourse.checks import check_equal\nparas = data.paragraphs()",
                "counts = {}\nfor t in paras['text']:\n    counts[t[:3]] = counts.get(t[:3], 0) + 1\ntotal = sum(counts.values())",
                "def share(a, b):\n    return a / b\nclass Row:\n    def __init__(self, x):\n        self.x = x")
    test = nbformat.v4.new_code_cell("check_equal(total, 38)\nassert isinstance(total, int)")
    test.metadata["nbgrader"] = {"grade": True, "grade_id": "q1_test", "points": 1, "locked": True}
    nb.cells.append(test)
    assert scan_notebook(nb) == []


@pytest.mark.parametrize("name", TRICKS)
def test_every_trick_fixture_is_caught_by_the_scan_alone(name):
    """The static scan flags each trick's code, even before any kernel runs it."""
    codes = {f.code for source in fixture(name)["cells"].values()
             for f in scan_source(source, {"check_equal", "check_type", "check_members", "sum", "isinstance"})}
    assert codes & set(fixture(name)["catch"]), codes


@pytest.mark.parametrize("source, code", [
    ("get_ipython().events.register('post_run_cell', print)", "ipython-internals"),
    ("import kzcourse.checks as kc\nkc.check_equal = print", "patched-module"),
    ("from kzcourse.checks import check_type as check_equal", "shadowed-name"),
    ("isinstance = lambda *a: True", "shadowed-name"),
    ("exec('x = 1')", "dynamic-code"),
    ("check_equal.__code__ = (lambda *a, **k: None).__code__", "dynamic-code"),
    ("import socket", "system-access"),
    ("!curl example.invalid", "system-access"),
    ("class A(str):\n    def __eq__(self, o):\n        return True", "equals-anything"),
    ("__builtins__.len = lambda x: 0", "builtins"),
])
def test_scan_names_what_it_saw(source, code):
    found = scan_source(source, {"check_equal", "isinstance"}, cell="q1")
    assert code in {f.code for f in found}, found
    assert all(f.cell == "q1" and f.message for f in found)


def test_scan_ignores_locked_test_cells():
    cell = nbformat.v4.new_code_cell("import builtins\nbuiltins.len = len")
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": "t", "points": 1, "locked": True}
    assert scan_notebook(nbformat.v4.new_notebook(cells=[cell])) == []


def test_read_flags_reports_a_missing_or_broken_report(tmp_path):
    assert [f.code for f in read_flags(tmp_path)] == ["report-missing"]
    (tmp_path / integrity.REPORT).write_text("{not json")
    with pytest.raises(integrity.IntegrityError, match="not an integrity report: expected JSON"):
        read_flags(tmp_path)
    (tmp_path / integrity.REPORT).write_text(json.dumps({"flags": [Finding("x", "q1", "m").to_dict()]}))
    assert read_flags(tmp_path) == [Finding("x", "q1", "m")]


# ----------------------------------------------------------------------------- end to end


@pytest.mark.slow
@pytest.mark.parametrize("name", [t for t in TRICKS if t != "trick-equals-anything"])
def test_each_trick_really_gains_points_under_plain_nbgrader(scenario, name):
    """Without kzcourse, the trick on top of wrong answers scores more than the wrong answers alone."""
    plain = scenario["plain"]["scores"]
    assert sum(plain[name].values()) > sum(plain["wrong"].values()) == sum(plain["blank"].values()) == 0


@pytest.mark.slow
@pytest.mark.parametrize("name", TRICKS)
def test_each_trick_scores_no_more_than_blank_or_is_flagged(scenario, name):
    kz = scenario["kzcourse"]["scores"]
    flags = _flags(scenario, name)
    assert sum(kz[name].values()) <= sum(kz["blank"].values()) or flags
    # and it is flagged for the reason the fixture expects
    assert {f.code for f in flags} & set(fixture(name)["catch"]), flags


@pytest.mark.slow
@pytest.mark.parametrize("student", HONEST)
def test_honest_submissions_are_never_flagged(scenario, student):
    assert _flags(scenario, student) == []


@pytest.mark.slow
@pytest.mark.parametrize("student", HONEST + TRICKS)
def test_canaries_change_no_score(scenario, student):
    """Every grade is what plain nbgrader gives: the canaries observe, they never score."""
    assert scenario["kzcourse"]["scores"][student] == scenario["plain"]["scores"][student]


@pytest.mark.slow
def test_canary_cells_never_reach_the_autograded_notebook_or_feedback(scenario):
    course = scenario["kzcourse"]["course"]
    release = nbformat.read(course / "release" / LESSON / f"{LESSON}.ipynb", as_version=4)
    for student in HONEST + TRICKS:
        nb = nbformat.read(course / "autograded" / student / LESSON / f"{LESSON}.ipynb", as_version=4)
        assert not [c for c in nb.cells if c.metadata.get(integrity.META)]
        assert len(nb.cells) == len(release.cells)
        text = json.dumps(nb)
        assert "kzcanary" not in text and "KZCANARY" not in text
        counts = [c.execution_count for c in nb.cells if c.cell_type == "code" and c.execution_count]
        assert counts == list(range(1, len(counts) + 1))
    nbgrader(course, "generate_feedback", LESSON, "--force")
    pages = list((course / "feedback").glob(f"*/{LESSON}/*.html"))
    assert len(pages) == len(scenario["kzcourse"]["scores"])
    for page in pages:
        assert "kzcanary" not in page.read_text(encoding="utf-8").lower()
    assert not list((course / "feedback").rglob(integrity.REPORT)), "integrity flags are for the instructor only"


@pytest.mark.slow
def test_every_lesson_honest_submission_is_never_flagged(tmp_path):
    """Solutions and plausible wrong answers of all lessons, graded with the canaries: no flag."""
    for lesson in course():
        course_dir, source, release = new_course(tmp_path / lesson.id, lesson.id, plain=False)
        submit(course_dir, lesson.id, {"solution": source, "wrong": wrong_answers(source, lesson.id)})
        autograde(course_dir, lesson.id)
        for student in ("solution", "wrong"):
            flags = read_flags(course_dir / "autograded" / student / lesson.id)
            assert flags == [], (lesson.id, student, flags)


def test_fixtures_say_what_they_try():
    for path in FIXTURES.glob("*.toml"):
        spec = tomllib.loads(path.read_text(encoding="utf-8"))
        assert spec["why"] and spec["cells"], path.name
        if path.name.startswith("trick-"):
            assert spec["catch"], path.name
