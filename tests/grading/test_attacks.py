"""Can a determined student beat ``kzcourse grade``? Every attack in tests/grading/fixtures/, through the real CLI.

Each fixture (named after what it tries) is put on top of wrong answers to lesson 01 (honest
score 0), handed in to a course made by ``kzcourse init``, and graded with ``kzcourse grade
--jobs 2`` (real nbgrader, real bubblewrap) in an environment holding an instructor's secret
variable; then ``kzcourse feedback`` runs. For every attack: it scores no more than the honest
wrong answers; nothing it printed, wrote or linked puts a solution, a hidden test, a mark scheme,
the gradebook or the secret into ``autograded/`` or ``feedback/``; the batch finishes. The honest
controls (right, wrong, blank, and a right one under a student id with glob characters) score
exactly what they should.
"""
from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest

from kzcourse.grading import sandbox
from kzcourse.grading.demo import strip_solution_markers
from kzcourse.grading.preprocessors import hidden_lines
from tests.browser.helpers import CHROMIUM
from tests.e2e import helpers as e2e
from tests.grading.helpers import env, kz, new_course, scores
from tests.grading.sandbox_course import FIXTURES, wrong_answers

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not sandbox.available(), reason="bubblewrap is not usable here")]

LESSON = "01-article"
SECRET = "kz-instructor-secret-6f1d2a"
ATTACKS = sorted(p.stem for p in FIXTURES.glob("*.toml")
                 if p.stem not in ("sandbox-network", "glob-student-id"))  # the network one needs a server


def _spec(name: str) -> dict:
    return tomllib.loads((FIXTURES / f"{name}.toml").read_text(encoding="utf-8"))


def build(source, release, name: str):
    """Wrong answers to lesson 01 with the fixture's trick applied; (notebook, files, links).

    Test cells hold what the student was given (the release's: no hidden tests).
    """
    spec = _spec(name)
    nb = wrong_answers(source, LESSON)
    given = {c.metadata.get("nbgrader", {}).get("grade_id"): c.source for c in release.cells}
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        gid = meta.get("grade_id")
        if meta.get("grade") and not meta.get("solution"):
            cell.source = given[gid]
        if gid in spec.get("cells", {}):
            cell.source = spec["cells"][gid].replace("{marker}", "attack").replace("{port}", "9")
        if gid in spec.get("cell_metadata", {}):
            cell.metadata.update(spec["cell_metadata"][gid])
        if gid in spec.get("metadata", {}):
            meta.update(spec["metadata"][gid])
    if "append" in spec:
        cell = nbformat.v4.new_code_cell(spec["append"])
        if "append_metadata" in spec:
            cell.metadata["nbgrader"] = dict(spec["append_metadata"])
        nb.cells.append(cell)
    return nb, spec.get("files", {}), spec.get("links", {})


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = new_course(tmp_path_factory.mktemp("attacks"), lessons=[LESSON])
    source = nbformat.read(course / "lessons" / LESSON / f"{LESSON}.ipynb", as_version=4)
    release = nbformat.read(course / "release" / LESSON / f"{LESSON}.ipynb", as_version=4)
    subs = {"honest-right": (source, {}, {}), "honest-wrong": (wrong_answers(source, LESSON), {}, {}),
            "honest-blank": (release, {}, {}), _spec("glob-student-id")["student"]: (source, {}, {})}
    for name in ATTACKS:
        subs[name] = build(source, release, name)
    for student, (nb, files, links) in subs.items():
        folder = course / "submitted" / student / LESSON
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{LESSON}.ipynb")
        for rel, text in files.items():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_text(text, encoding="utf-8")
        for rel, target in links.items():
            (folder / rel).symlink_to(target)
    grade_env = dict(env(), KZ_INSTRUCTOR_SECRET=SECRET)
    result = subprocess.run([sys.executable, "-m", "kzcourse", "grade", "--jobs", "2", "--timeout", "20"],
                            cwd=course, env=grade_env, capture_output=True, text=True, timeout=1800)
    feedback = kz("feedback", "--release-ungraded", cwd=course)  # written answers await hand grading
    got = {s: sum(v[0] or 0 for c, v in cells.items() if not c.startswith(("comment:", "w")))
           for (s, _), cells in scores(course).items()}
    return {"course": course, "source": source, "grade": result, "feedback": feedback, "totals": got,
            "journal": [json.loads(l) for l in (course / ".kzcourse" / "journal.jsonl").read_text().splitlines()]}


def _secrets(source) -> list[str]:
    """Text that must never reach a student cell's output or feedback: solutions, hidden tests, mark scheme."""
    public = "\n".join(c.source for c in source.cells if not c.get("metadata", {}).get("nbgrader", {}).get("solution"))
    out = [SECRET, "SQLite format 3", "BEGIN MARK SCHEME"]
    for cell in source.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("solution") and cell.cell_type == "code":
            out += [l.strip() for l in strip_solution_markers(cell.source).splitlines()
                    if len(l.strip()) > 20 and l.strip() not in public]
        out += [l for l in hidden_lines(cell.source) if len(l) > 20]
    return out


def test_the_batch_finishes_and_every_submission_is_graded(graded):
    g = graded["grade"]
    assert g.returncode in (0, 5), g.stdout + g.stderr[-4000:]
    entries = {e["student"]: e for e in graded["journal"]}
    for name in ATTACKS:
        assert entries[name]["status"] == "graded", entries[name]


def test_the_honest_controls_score_what_they_should(graded):
    t = graded["totals"]
    assert t["honest-right"] == 4 and t["honest-wrong"] == 0 and t["honest-blank"] == 0
    assert t[_spec("glob-student-id")["student"]] == 4, "a student id with glob characters is graded like any other"


@pytest.mark.parametrize("attack", ATTACKS)
def test_no_attack_scores_above_the_honest_wrong_answers(graded, attack):
    assert graded["totals"][attack] <= graded["totals"]["honest-wrong"], f"{attack} gained points"


@pytest.mark.parametrize("attack", ATTACKS)
def test_no_attack_leaks_a_secret_into_autograded_or_feedback(graded, attack):
    course = graded["course"]
    secrets = _secrets(graded["source"])
    autograded = course / "autograded" / attack / LESSON
    assert sorted(p.name for p in autograded.iterdir()) == [f"{LESSON}.ipynb", "integrity.json"]
    nb = nbformat.read(autograded / f"{LESSON}.ipynb", as_version=4)
    student_outputs = json.dumps([c.get("outputs", []) for c in nb.cells if c.cell_type == "code"
                                  and not c.metadata.get("nbgrader", {}).get("grade")])
    pages = list((course / "feedback" / attack / LESSON).rglob("*"))
    assert [p.name for p in pages] == [f"{LESSON}.html"], pages
    page = html.unescape(re.sub(r"<[^>]+>", "", pages[0].read_text(encoding="utf-8")))
    for secret in secrets:
        assert secret not in student_outputs and json.dumps(secret)[1:-1] not in student_outputs, (attack, secret)
        assert secret not in page, (attack, secret)
    assert not [p for p in autograded.rglob("*") if p.is_symlink()]


def test_a_100mb_print_is_cut_to_the_output_limit(graded):
    course = graded["course"]
    assert (course / "autograded" / "print-100mb" / LESSON / f"{LESSON}.ipynb").stat().st_size < 3 << 20
    assert (course / "feedback" / "print-100mb" / LESSON / f"{LESSON}.html").stat().st_size < 5 << 20
    assert "output-limit" in _flag_codes(graded, "print-100mb")


def _flag_codes(graded, student: str) -> set[str]:
    entry = [e for e in graded["journal"] if e["student"] == student][-1]
    return {f["code"] for f in entry["flags"]}


def test_what_a_human_should_look_at_is_flagged_and_honest_work_is_not(graded):
    assert "kernel-died" in _flag_codes(graded, "os-exit")
    assert "kernel-died" in _flag_codes(graded, "uninterruptible-loop")
    bomb = nbformat.read(graded["course"] / "autograded" / "memory-bomb" / LESSON / f"{LESSON}.ipynb", as_version=4)
    printed = json.dumps([c.get("outputs", []) for c in bomb.cells if c.cell_type == "code"])
    assert "memory refused" in printed and "processes refused after" in printed
    assert "file-size-limit" in _flag_codes(graded, "file-200mb")
    for student in ("renamed-grade-id", "meta-string", "unhashable-grade-id", "meta-schema-99"):
        assert "edited-metadata" in _flag_codes(graded, student), student
    assert "submission-files" in _flag_codes(graded, "symlink-to-gradebook")
    assert "submission-files" in _flag_codes(graded, "shadow-package")
    for student in ("honest-right", "honest-wrong", "honest-blank"):
        assert _flag_codes(graded, student) == set(), student
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{graded['course'] / 'gradebook.db'}", "kzcourse") as gb:
        assert gb.find_submission_notebook(LESSON, LESSON, "os-exit").flagged
        assert not gb.find_submission_notebook(LESSON, LESSON, "honest-wrong").flagged


def _flags(graded, student: str) -> list[dict]:
    return [e for e in graded["journal"] if e["student"] == student][-1]["flags"]


@pytest.mark.parametrize("attack,refused", [("decode-mem-bomb", "numpy strings of more than"),
                                            ("decode-set-hang", "with the same hash")])
def test_a_forged_recording_is_refused_by_the_tests_kernel_and_the_answer_is_wrong(graded, attack, refused):
    """The grader never decodes student data; the tests' kernel refuses it (no 200 MB string, no quadratic set)."""
    bad = [f for f in _flags(graded, attack) if f["code"] == "bad-recording"]
    assert bad and bad[0]["cell"] == "q1_test" and refused in bad[0]["message"], _flags(graded, attack)
    nb = nbformat.read(graded["course"] / "autograded" / attack / LESSON / f"{LESSON}.ipynb", as_version=4)
    test = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "q1_test")
    assert "could not be read" in test.outputs[0]["text"] and any(o["output_type"] == "error" for o in test.outputs)


@pytest.mark.parametrize("attack", ["renamed-grade-id", "meta-string", "unhashable-grade-id", "meta-schema-99"])
def test_an_edited_notebook_is_graded_against_the_lesson_cells(graded, attack):
    """Each answers wrongly, so it scores 0; graded, not broken, with the lesson's own test cells."""
    from nbgrader.api import Gradebook

    tests = sorted(c.metadata.nbgrader["grade_id"] for c in graded["source"].cells if c.cell_type == "code"
                   and c.get("metadata", {}).get("nbgrader", {}).get("grade"))
    assert len(tests) >= 3
    with Gradebook(f"sqlite:///{graded['course'] / 'gradebook.db'}", "kzcourse") as gb:
        nb = gb.find_submission_notebook(LESSON, LESSON, attack)
        assert sorted(g.name for g in nb.grades if g.cell.cell_type == "code") == tests
        assert nb.max_score == gb.find_submission_notebook(LESSON, LESSON, "honest-wrong").max_score


@pytest.mark.browser
def test_the_formgrader_runs_no_script_of_script_output_and_still_draws_its_map_and_chart(graded, tmp_path):
    """The real Formgrader submission page of ``script-output`` in Chromium (127.0.0.1 only), then its feedback page.

    The student's script and ``onerror`` run only inside their sandboxed frame (its own title
    says so), never in the page's origin: the page's title and body are untouched and the frame
    cannot reach the page. The course map (Leaflet) and chart (plotly) of the same cell draw.
    """
    import secrets as _secrets

    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    pytest.importorskip("playwright.sync_api")
    from nbgrader.api import Gradebook

    from kzcourse.grading.course import open_course

    course = graded["course"]
    with Gradebook(open_course(course).db_url, open_course(course).course_id) as gb:
        sid = gb.find_submission_notebook(LESSON, LESSON, "script-output").id
    port, token = e2e.free_port(), _secrets.token_hex(16)
    args = [sys.executable, "-m", "jupyter", "server", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
            f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={course}"]
    if os.geteuid() == 0:
        args.append("--allow-root")
    url = f"http://127.0.0.1:{port}"
    log = e2e.ARTIFACTS / "formgrader-server.log"
    server_env = e2e.isolated_env(tmp_path / "env")
    with e2e.server(args, cwd=course, env=server_env, log=log, ready_url=f"{url}/api/status?token={token}"), \
            e2e.offline_chromium(tmp_path / "chromium") as context:
        page = context.new_page()
        page.goto(f"{url}/formgrader/submissions/{sid}/?token={token}", wait_until="load")
        _assert_safe_and_drawn(page, "formgrader")
        page.route(lambda u: u.startswith("file:"), lambda route: route.continue_())  # the feedback page itself
        page.goto((course / "feedback" / "script-output" / LESSON / f"{LESSON}.html").as_uri(), wait_until="load")
        _assert_safe_and_drawn(page, "feedback")
        # the only requests that tried to leave 127.0.0.1: the pages' own templates asking for MathJax (blocked)
        assert all("mathjax" in u.lower() for u in context.kz_blocked), context.kz_blocked


def _assert_safe_and_drawn(page, name: str) -> None:
    page.wait_for_timeout(1500)
    frames = lambda: [f for f in page.frames if f is not page.main_frame]  # noqa: E731
    # the student's frame ran its script there, confined
    page.wait_for_function("() => document.querySelectorAll('iframe[sandbox]').length > 0")
    deadline = 60
    for _ in range(deadline * 2):
        titles = [f.evaluate("document.title") for f in frames()]
        maps = [f for f in frames() if f.evaluate("!!document.querySelector('.leaflet-container path, .leaflet-marker-icon')")]
        charts = [f for f in frames() if f.evaluate("!!document.querySelector('.main-svg')")]
        if "PWNED" in titles and maps and charts:
            break
        page.wait_for_timeout(500)
    e2e.screenshot(page, f"script-output-{name}")
    assert "PWNED" in titles, f"{name}: the student's script should run, inside its sandboxed frame"
    assert page.title() != "PWNED", f"{name}: the student's script ran in the page's origin"
    assert page.evaluate("document.body.getAttribute('data-pwned')") is None, f"{name}: an onerror ran in the page"
    assert not page.evaluate("[...document.querySelectorAll('script')].some(s => s.textContent.includes('PWNED'))")
    sandboxes = page.eval_on_selector_all("iframe", "fs => fs.map(f => f.getAttribute('sandbox'))")
    assert sandboxes and set(sandboxes) == {"allow-scripts"}, sandboxes
    assert maps, f"{name}: the course map (Leaflet) did not draw in its frame"
    assert charts, f"{name}: the course chart (plotly) did not draw in its frame"
    heights = page.eval_on_selector_all("iframe[data-kzcourse-output]", "fs => fs.map(f => f.offsetHeight)")
    assert min(heights) >= 40 and max(heights) <= 3000, heights
