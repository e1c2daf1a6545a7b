"""The course website (kzcourse.site): built once per session, opened page by page in headless Chromium.

The slow tests share two builds: the whole student site (the default, what ``make site`` makes)
and an instructor edition of two lessons (enough to prove the audit sees what it must not
publish). Every page is opened with every non-local request blocked.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.browser.helpers import count
from tests.browser.axe import audit, serious
from tests.course_site.helpers import ARTIFACTS, audit_site, headings_in_order

pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="session")
def student_site(tmp_path_factory):
    from kzcourse.site import build_site

    return build_site(tmp_path_factory.mktemp("site") / "student")


@pytest.fixture(scope="session")
def instructor_site(tmp_path_factory):
    from kzcourse.site import build_site

    return build_site(tmp_path_factory.mktemp("site") / "instructor", edition="instructor",
                      lessons=["01-article", "04-almaty"])


def test_the_student_site_has_every_page_and_the_student_notebooks(student_site):
    from kzcourse.lessons import course

    root = student_site.root
    ids = [l.id for l in course()]
    for name in ["index.html", "article.html", "data.html", "instructor.html", "credits.html", "search.html"] + \
            [f"{i}.html" for i in ids]:
        assert (root / name).is_file(), name
    for i in ids:
        nb = json.loads((root / "notebooks" / i / f"{i}.ipynb").read_text(encoding="utf-8"))
        assert not any(c.get("outputs") for c in nb["cells"]), f"{i}: the download is the clean student edition"
    manifest = json.loads((root / "site.json").read_text(encoding="utf-8"))
    assert manifest["edition"] == "student"
    assert not (root / "INSTRUCTOR-EDITION.txt").exists()


def test_assets_are_included_once_per_site(student_site):
    root = student_site.root
    leaflet = [p for p in (root / "assets").glob("inline-*.js")]
    assert leaflet, "the maps' Leaflet is a shared asset"
    for page in root.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        # An inlined map is an iframe element carrying srcdoc (prose may name the attribute: the guide does).
        assert not re.search(r"<iframe\b[^>]*\ssrcdoc=", text), f"{page.name} inlines a map document"
        assert len(text) < 1_500_000, f"{page.name} is {len(text)} bytes: an asset is inlined"
    for doc in (root / "maps").glob("*.html"):
        assert len(doc.read_text(encoding="utf-8")) < 200_000, f"{doc.name} carries its own copy of Leaflet"
    assert len(list((root / "assets").glob("plotly*.js"))) == 1


def test_student_site_audit_finds_nothing_and_instructor_edition_is_found(student_site, instructor_site):
    """`kzcourse audit SITE`: 0 findings on the student site; the instructor edition's solutions are found."""
    import subprocess
    import sys

    def audit(folder):
        return subprocess.run([sys.executable, "-m", "kzcourse", "audit", str(folder)], capture_output=True, text=True,
                              timeout=600)

    student = audit(student_site.root)
    assert student.returncode == 0, student.stdout[-3000:] + student.stderr[-3000:]
    instructor = audit(instructor_site.root)
    assert instructor.returncode == 7, instructor.stdout[-3000:] + instructor.stderr[-3000:]
    assert "solution" in instructor.stdout and "04-almaty" in instructor.stdout
    assert audit_site(student_site.root) == []  # the same per lesson with the release audit's secrets
    assert {"solution", "hidden test"} <= {leak.kind for leak in audit_site(instructor_site.root)}
    assert (instructor_site.root / "INSTRUCTOR-EDITION.txt").is_file()
    assert "Instructor edition" in (instructor_site.root / "04-almaty.html").read_text(encoding="utf-8")


def test_answer_cells_show_the_question_without_tracebacks(student_site):
    page = (student_site.root / "04-almaty.html").read_text(encoding="utf-8")
    assert "Traceback" not in page and "NotImplementedError()" in page  # the question's stub, not its error
    assert "NameError" not in page
    assert "BEGIN SOLUTION" not in page and "BEGIN HIDDEN TESTS" not in page
    import nbformat

    from kzcourse.lessons import lesson

    source = nbformat.read(lesson("04-almaty").notebook, as_version=4)
    answers = [c for c in source.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")]
    assert answers and page.count("Your answer (write it in the notebook)") == len(answers)


def test_an_existing_folder_that_is_no_site_is_left_alone(tmp_path, student_site):
    from kzcourse.site import SiteError, build_site

    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(SiteError, match="not a kzcourse site"):
        build_site(tmp_path)
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"
    with pytest.raises(SiteError, match="holds the student edition"):
        build_site(student_site.root, edition="instructor", lessons=["01-article"])


# ---------------------------------------------------------------------------- in the browser
def _axe(page) -> list[str]:
    """axe-core's serious and critical findings on the whole document (every part of a site page is ours)."""
    found = serious(audit(page, None), ours=True)
    # axe reads stylesheets with XHR, which Chromium refuses for file: pages; that console error is axe's own
    page.kz_errors[:] = [e for e in page.kz_errors if "XMLHttpRequest" not in e and "ERR_FAILED" not in e]
    return found


def _pages(site) -> list[str]:
    return sorted(p.name for p in site.root.glob("*.html"))


@pytest.mark.browser
def test_every_page_loads_offline_without_errors_and_passes_axe(student_site, site_page):
    page, report = site_page, {}
    for name in _pages(student_site):
        page.goto((student_site.root / name).as_uri(), wait_until="load")
        page.wait_for_timeout(300)
        # maps are lazy iframes: bring each into view so it loads, as a reader scrolling would
        for frame in page.locator("iframe.kz-map").all():
            frame.scroll_into_view_if_needed()
        page.wait_for_load_state("load")
        assert page.kz_blocked == [], f"{name} asked the network for {page.kz_blocked[:3]}"
        assert page.kz_errors == [], f"{name}: {page.kz_errors[:3]}"
        report[name] = _axe(page)
        assert count(page, "h1") == 1, name
        assert headings_in_order(page), name
        assert page.evaluate("document.documentElement.lang") == "en", name
    bad = {k: v for k, v in report.items() if v}
    assert not bad, json.dumps(bad, indent=1)[:3000]


@pytest.mark.browser
def test_every_map_document_passes_axe_and_has_a_language(student_site, site_page):
    page = site_page
    docs = sorted((student_site.root / "maps").glob("*.html"))
    assert docs
    bad = {}
    for doc in docs:
        page.goto(doc.as_uri(), wait_until="load")
        assert page.evaluate("document.documentElement.lang") == "en", doc.name
        assert count(page, ".leaflet-container") == 1, doc.name
        found = _axe(page)
        if found:
            bad[doc.name] = found
    assert page.kz_blocked == [] and page.kz_errors == [], (page.kz_blocked[:3], page.kz_errors[:3])
    assert not bad, json.dumps(bad, indent=1)[:3000]


@pytest.mark.browser
def test_every_map_chart_and_widget_of_the_lessons_is_drawn(student_site, site_page):
    """Outputs counted in the DOM against the build's count and against what each lesson's metadata says it uses."""
    from kzcourse.lessons import course

    page = site_page
    for lesson in course():
        counts = student_site.lessons[lesson.id]
        page.goto((student_site.root / f"{lesson.id}.html").as_uri(), wait_until="load")
        for frame in page.locator("iframe.kz-map").all():
            frame.scroll_into_view_if_needed()
        page.wait_for_load_state("load")
        drawn_maps = sum(1 for f in page.frames[1:] if f.locator(".leaflet-container").count() == 1)
        assert count(page, "iframe.kz-map") == drawn_maps == counts["maps"], lesson.id
        assert count(page, ".kz-plotly svg.main-svg") >= count(page, ".kz-plotly") == counts["charts"], lesson.id
        assert count(page, ".kz-widget") == counts["widgets"], lesson.id
        uses = " ".join(lesson.uses)
        if re.search(r"kzcourse\.maps\.\w+_map\b", uses):
            assert counts["maps"] >= 1, f"{lesson.id} uses a map builder but its page has no map"
        if re.search(r"kzcourse\.charts\.\w+_figure\b", uses):
            assert counts["charts"] >= 1, f"{lesson.id} uses a chart builder but its page has no chart"
        if re.search(r"kzcourse\.explore\.\w+", uses):
            assert counts["widgets"] >= 1, f"{lesson.id} uses an explorer but its page has no snapshot"
        for frame in page.frames[1:]:
            assert frame.evaluate("document.title"), f"{lesson.id}: a map without a title"
        assert page.kz_blocked == [] and page.kz_errors == [], (page.kz_blocked[:3], page.kz_errors[:3])


@pytest.mark.browser
def test_search_works_from_disk(student_site, site_page):
    page = site_page
    page.goto((student_site.root / "index.html").as_uri(), wait_until="load")
    page.fill("#kz-q", "Masimov")
    page.press("#kz-q", "Enter")
    page.wait_for_selector("#kz-results ol li a")
    first = page.locator("#kz-results ol li a").first
    assert count(page, "#kz-results ol li") >= 3
    first.click()
    page.wait_for_load_state("load")
    assert "Masimov" in page.inner_text("main")
    assert page.kz_blocked == [] and page.kz_errors == []


@pytest.mark.browser
def test_every_claim_is_marked_at_its_paragraph_with_its_status(student_site, site_page):
    from kzcourse import data

    page = site_page
    page.goto((student_site.root / "article.html").as_uri(), wait_until="load")
    claims = data.load("claims")
    for _, c in claims.iterrows():
        tag = page.locator(f"#{c['paragraph']} a#{c['claim_id']}")
        assert tag.count() == 1, f"{c['claim_id']} is not in {c['paragraph']}"
        assert c["status"] in tag.inner_text()
        note = page.locator(f"#{c['paragraph']} details#{c['claim_id']}-note")
        assert note.count() == 1 and c["status"] in note.locator("summary").inner_text()
    # one click on the mark opens the finding and its sources
    page.locator("a#C13").click()
    assert page.locator("details#C13-note").evaluate("d => d.open")
    assert page.locator("details#C13-note a[href^='http']").count() >= 1
    page.screenshot(path=str(ARTIFACTS / "site-article-claim.png"))


@pytest.mark.browser
def test_keyboard_reaches_the_lesson_controls(student_site, site_page):
    page = site_page
    page.goto((student_site.root / "04-almaty.html").as_uri(), wait_until="load")
    reached = set()
    for _ in range(400):  # the maps' own markers and controls take many stops on the way
        page.keyboard.press("Tab")
        reached.add(page.evaluate("(() => { const e = document.activeElement; return e.className + '|' + "
                                  "(e.getAttribute('href') || e.tagName) })()"))
        if any(r.endswith("|SUMMARY") for r in reached):
            break
    assert any("kz-skip" in r for r in reached)
    assert any("notebooks/04-almaty/04-almaty.ipynb" in r for r in reached), sorted(reached)[:20]
    assert any(r.endswith("|SUMMARY") for r in reached), "a test cell's summary is reachable"
    assert any("kz-map" in r for r in reached), "a map is reachable"


@pytest.mark.browser
def test_screenshots_of_home_lesson_and_article(student_site, site_page):
    page = site_page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name in ("index.html", "04-almaty.html", "05-network.html", "article.html"):
        page.goto((student_site.root / name).as_uri(), wait_until="load")
        page.wait_for_timeout(500)
        page.screenshot(path=str(ARTIFACTS / f"site-{name.removesuffix('.html')}.png"))
        assert (ARTIFACTS / f"site-{name.removesuffix('.html')}.png").stat().st_size > 10_000


@pytest.mark.browser
def test_served_by_a_static_server_it_reaches_no_other_host(student_site, site_page):
    """The same site from Python's http.server on 127.0.0.1: pages, maps, charts and search, nothing from elsewhere."""
    import sys

    from tests.e2e import helpers

    port = helpers.free_port()
    args = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(student_site.root)]
    url = f"http://127.0.0.1:{port}"
    with helpers.server(args, cwd=student_site.root, env=helpers.isolated_env(student_site.root.parent / "http-env"),
                        log=ARTIFACTS / "site-http-server.log", ready_url=f"{url}/index.html"):
        page = site_page
        page.goto(f"{url}/04-almaty.html", wait_until="load")
        for frame in page.locator("iframe.kz-map").all():
            frame.scroll_into_view_if_needed()
        page.wait_for_load_state("load")
        assert sum(1 for f in page.frames[1:] if f.locator(".leaflet-container").count() == 1) == \
            student_site.lessons["04-almaty"]["maps"]
        page.goto(f"{url}/05-network.html", wait_until="load")
        assert count(page, ".kz-plotly svg.main-svg") >= student_site.lessons["05-network"]["charts"] > 0
        page.goto(f"{url}/search.html?q=Tokayev", wait_until="load")
        page.wait_for_selector("#kz-results ol li a")
        assert page.kz_blocked == [] and page.kz_errors == [], (page.kz_blocked[:3], page.kz_errors[:3])
