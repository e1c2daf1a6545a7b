"""The kzcourse command end to end on a temporary course with two lessons:
init -> release -> submissions -> grade -> feedback -> export -> report -> audit,
and the question that matters most: does parallel grading give exactly the scores
nbgrader's own sequential ``autograde`` gives on the same submissions?
"""
from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import pytest

from tests.grading.helpers import LESSONS, kz, nbgrader, new_course, scores, submit

pytestmark = pytest.mark.slow

PLAN = {
    "01-article": {"aigerim": "right", "nurlan": "partly", "dana": "wrong", "yerlan": "blank", "walkin": "broken"},
    "02-geography": {"aigerim": "partly", "nurlan": "right", "dana": "blank", "yerlan": "wrong", "walkin": "right"},
}


@pytest.fixture(scope="module")
def term(tmp_path_factory):
    """A course graded by ``kzcourse grade --jobs 2`` and a copy graded by plain ``nbgrader autograde``."""
    tmp = tmp_path_factory.mktemp("term")
    course = new_course(tmp)
    for lesson, plan in PLAN.items():
        submit(course, lesson, plan)
    sequential = tmp / "sequential"
    shutil.copytree(course, sequential)
    shutil.rmtree(sequential / "submitted" / "walkin" / "01-article")  # nbgrader would stop on it
    for lesson in LESSONS:
        nbgrader("autograde", lesson, "--create", "--force", cwd=sequential)
    grade = kz("grade", "--jobs", "2", cwd=course)
    return {"course": course, "sequential": sequential, "grade": grade}


def test_grade_reports_the_broken_submission_by_student_and_lesson_and_exits_4(term):
    g = term["grade"]
    assert g.returncode == 4, g.stdout + g.stderr
    broken = [l for l in g.stdout.splitlines() if l.startswith("  walkin  01-article")]
    assert broken and "not a valid notebook" in broken[0], g.stdout


def test_grade_shows_a_progress_bar_and_warns_about_students_not_on_the_roster(term):
    err = term["grade"].stderr
    assert "grading [" in err and "10/10" in err
    assert "'walkin' is not on the roster" in err


def test_parallel_grading_gives_exactly_the_scores_of_nbgraders_sequential_autograde(term):
    parallel, sequential = scores(term["course"]), scores(term["sequential"])
    assert set(parallel) == set(sequential) and len(parallel) == 9
    for key in sequential:
        assert parallel[key] == sequential[key], key


def test_scores_follow_the_quality_of_the_submissions(term):
    got = scores(term["course"])
    totals = {k: sum(v[0] or 0 for c, v in cells.items() if not c.startswith("comment:")) for k, cells in got.items()}
    for lesson in LESSONS:
        assert totals[("yerlan" if lesson == "01-article" else "dana", lesson)] == 0  # blank
        right = "aigerim" if lesson == "01-article" else "nurlan"
        partly = "nurlan" if lesson == "01-article" else "aigerim"
        assert totals[(right, lesson)] > totals[(partly, lesson)] > 0


def test_a_broken_submission_is_never_recorded_as_a_score(term):
    assert ("walkin", "01-article") not in scores(term["course"])
    assert not (term["course"] / "autograded" / "walkin" / "01-article").exists()


def test_grading_again_grades_nothing_that_is_already_graded(term):
    """10 submissions, 1 broken: the 9 graded ones are skipped; the broken one is tried again (and is still broken)."""
    graded = sum(len(plan) for plan in PLAN.values()) - 1
    again = kz("grade", "--jobs", "2", cwd=term["course"])
    assert again.returncode == 4
    assert f"graded 0 submission(s) in this run ({graded} already graded before, skipped)" in again.stdout, again.stdout
    assert "walkin  01-article" in again.stdout


def test_feedback_export_report_and_audit(term):
    course = term["course"]
    out = kz("feedback", cwd=course, check=0).stdout
    held = re.search(r"feedback 01-article:.*\n.*held back until hand grading is done: (.*) \(", out)
    assert held and "aigerim" in held.group(1), out  # her written answer awaits a grader
    assert not (course / "feedback" / "aigerim" / "01-article").exists()
    out = kz("feedback", "--release-ungraded", cwd=course, check=0).stdout
    assert "feedback 01-article: 4 page(s)" in out and "feedback 02-geography: 5 page(s)" in out
    page = (course / "feedback" / "aigerim" / "01-article" / "01-article.html").read_text(encoding="utf-8")
    assert "Not graded yet" in page and page.index("Not graded yet") < page.index("Written response")

    kz("export", cwd=course, check=0)
    rows = list(csv.DictReader(open(course / "grades-csv.csv", encoding="utf-8")))
    by = {(r["student_id"], r["lesson"]): r for r in rows}
    assert by[("walkin", "01-article")]["status"] == "broken" and by[("walkin", "01-article")]["score"] == ""
    assert by[("yerlan", "01-article")]["score"] == "0" and by[("yerlan", "01-article")]["status"] == "graded"
    assert by[("aigerim", "01-article")]["needs_manual_grade"] == "yes"  # its written answer awaits a grader

    kz("export", "--format", "canvas", cwd=course, check=0)
    canvas = list(csv.reader(open(course / "grades-canvas.csv", encoding="utf-8")))
    assert canvas[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert canvas[0][5].endswith("(01-article)") and canvas[1][0] == "Points Possible"
    aigerim = next(r for r in canvas if r[2] == "aigerim")
    assert aigerim[:2] == ["Akhmetova, Aigerim", "1001"]
    walkin = next(r for r in canvas if r[2] == "walkin")
    assert walkin[5] == ""  # broken: empty, never 0

    kz("export", "--format", "moodle", "-o", str(course / "m.csv"), cwd=course, check=0)
    moodle = list(csv.reader(open(course / "m.csv", encoding="utf-8")))
    assert moodle[0] == ["First name", "Last name", "ID number", "Email address", "01-article", "02-geography"]

    kz("report", cwd=course, check=0)
    page = (course / "report.html").read_text(encoding="utf-8")
    assert "discrimination index" in page and "Plotly.newPlot" in page
    # works offline: plotly.js is inlined, nothing is loaded from elsewhere (the inlined bundle itself
    # mentions CDN addresses as defaults of features the report does not use, e.g. topojsonURL)
    assert not re.search(r"<(script|link|img)\b[^>]*\b(src|href)\s*=\s*[\"']?(https?:)?//", page, re.I)
    assert "walkin" in page  # in the broken list

    assert kz("audit", cwd=course).returncode == 0


def test_audit_finds_a_solution_copied_into_release_and_exits_7(term, tmp_path):
    course = tmp_path / "leaky"
    shutil.copytree(term["course"], course, ignore=shutil.ignore_patterns("autograded", ".kzcourse"))
    shutil.copy(course / "lessons" / "02-geography" / "02-geography.ipynb",
                course / "release" / "02-geography" / "02-geography.ipynb")
    shutil.copy(course / "lessons" / "02-geography" / "instructor.md", course / "release" / "02-geography")
    result = kz("audit", cwd=course)
    assert result.returncode == 7
    for kind in ("solution", "hidden test", "marker", "instructor file"):
        assert f": {kind}: " in result.stdout, kind


def test_audit_finds_solution_text_without_markers(term, tmp_path):
    """A release hand-edited to drop the markers but keep the solution is still caught."""
    course = tmp_path / "leaky2"
    shutil.copytree(term["course"], course, ignore=shutil.ignore_patterns("autograded", ".kzcourse", "feedback"))
    path = course / "release" / "01-article" / "01-article.ipynb"
    nb = json.loads(path.read_text(encoding="utf-8"))
    from kzcourse.grading.audit import secrets
    from kzcourse.grading.course import open_course

    kind, line = next((k, l) for k, l in secrets(open_course(course), "01-article") if k == "solution")
    nb["cells"].append({"cell_type": "code", "metadata": {}, "source": line, "outputs": [], "execution_count": None})
    path.write_text(json.dumps(nb), encoding="utf-8")
    result = kz("audit", "01-article", cwd=course)
    assert result.returncode == 7 and ": solution: " in result.stdout


@pytest.mark.slow
def test_a_kernel_killed_by_the_student_is_flagged_and_honest_work_is_not(tmp_path):
    """`kzcourse init`'s config and `kzcourse grade` together: wrong answers then `os._exit` is graded
    on what came before (0 here), listed as flagged (exit 5) with where and why, flagged in the
    gradebook and the report; honest wrong work next to it is not."""
    import nbformat
    from nbgrader.api import Gradebook

    from tests.grading.sandbox_course import trick, wrong_answers

    lesson = "01-article"
    course = new_course(tmp_path, lessons=[lesson])
    source = nbformat.read(course / "lessons" / lesson / f"{lesson}.ipynb", as_version=4)
    for student, nb in {"aigerim": wrong_answers(source, lesson),
                        "nurlan": trick(source, lesson, "os-exit")}.items():
        (course / "submitted" / student / lesson).mkdir(parents=True)
        nbformat.write(nb, course / "submitted" / student / lesson / f"{lesson}.ipynb")
    g = kz("grade", "--jobs", "2", cwd=course)
    assert g.returncode == 5, g.stdout + g.stderr
    flagged = g.stdout.split("FLAGGED for manual review", 1)[1].splitlines()[1:]
    assert [l.split()[:2] for l in flagged] == [["nurlan", lesson]], g.stdout
    assert "kernel-died" in flagged[0] and "exited with status 1" in flagged[0] and "(cell q2)" in flagged[0]
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "kzcourse") as gb:
        assert gb.find_submission_notebook(lesson, lesson, "nurlan").flagged
        assert not gb.find_submission_notebook(lesson, lesson, "aigerim").flagged
    kz("report", cwd=course, check=0)
    page = (course / "report.html").read_text(encoding="utf-8")
    assert "nurlan" in page.split("id='flagged'", 1)[1]


def test_command_works_without_an_activated_environment(tmp_path):
    """`.venv/bin/kzcourse` run from make or cron has no venv on PATH, yet nbgrader calls `alembic` by name."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, PATH="/usr/bin:/bin")
    result = subprocess.run([sys.executable, "-m", "kzcourse", "init", str(tmp_path / "term")],
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "term" / "gradebook.db").is_file()


@pytest.mark.browser
def test_report_page_has_no_serious_accessibility_violation(term, browser_page):
    """axe-core on the instructor's report page (offline): 0 serious or critical violations anywhere on it."""
    from tests.browser.axe import audit, serious

    course = term["course"]
    kz("report", cwd=course, check=0)
    browser_page.set_viewport_size({"width": 1200, "height": 800})
    browser_page.goto((course / "report.html").as_uri(), wait_until="load")
    browser_page.wait_for_timeout(500)
    violations = audit(browser_page, content=None)  # the whole page is kzcourse's
    assert serious(violations, ours=True) == []
    assert browser_page.kz_blocked == []
