"""kzcourse.site.render, .article and .build's pieces, without executing a lesson (fast)."""
from __future__ import annotations

import html
import re

import pytest

from kzcourse.site.build import Launch, _sections, lesson_panel
from kzcourse.site.render import ALT_MIME, SNAPSHOT_NOTE, NotebookRenderer, SiteFiles


def _renderer(tmp_path, edition="student"):
    return NotebookRenderer(SiteFiles(tmp_path), "t", edition)


def test_a_folium_map_becomes_a_titled_document_with_its_leaflet_shared(tmp_path):
    from kzcourse import maps

    r = _renderer(tmp_path)
    first = r.rewrite_maps(maps.border_map(offline=True)._repr_html_())
    second = r.rewrite_maps(maps.border_map(offline=True, scale="110m")._repr_html_())
    assert re.fullmatch(r'<div[^>]*><div[^>]*><iframe class="kz-map" src="maps/t-1.html" title="Map: [^"]+" '
                        r'loading="lazy"></iframe></div></div>', first)
    assert "Make this Notebook Trusted" not in first + second
    doc = (tmp_path / "maps" / "t-1.html").read_text(encoding="utf-8")
    assert '<html lang="en"' in doc and "../assets/inline-" in doc
    other = (tmp_path / "maps" / "t-2.html").read_text(encoding="utf-8")
    refs = [set(re.findall(r'"\.\./assets/(inline-[0-9a-f]+\.(?:js|css))"', d)) for d in (doc, other)]
    shared = refs[0] & refs[1]  # Leaflet's script and stylesheet, written once for both maps
    assert {name.rsplit(".", 1)[1] for name in shared} == {"js", "css"}, refs
    assert r.counts.maps == 2


def test_a_map_output_keeps_its_text_alternative(tmp_path):
    r = _renderer(tmp_path)
    out = r.output({"output_type": "execute_result", "data": {"text/html": "<p>map</p>", ALT_MIME: "<figure>alt</figure>"}})
    assert "<details class=\"kz-alt\"><summary>Text alternative of this map</summary><figure>alt</figure>" in out
    assert r.counts.alternatives == 1


def test_a_chart_is_a_figure_captioned_by_its_alternative(tmp_path):
    r = _renderer(tmp_path)
    out = r.output({"output_type": "display_data", "data": {"application/vnd.plotly.v1+json": {
        "data": [{"x": [1], "y": ["</script>"]}], "layout": {"meta": {"alt": "Events by day"}}}}})
    assert "<figcaption>Events by day</figcaption>" in out and "</script>\"" not in out
    assert r.counts.charts == 1


def test_a_widget_is_a_disabled_snapshot_with_the_note(tmp_path):
    r = _renderer(tmp_path)
    r.use_widget_state({"metadata": {"widgets": {"application/vnd.jupyter.widget-state+json": {"state": {
        "box": {"model_name": "VBoxModel", "state": {"children": ["IPY_MODEL_s", "IPY_MODEL_h", "IPY_MODEL_d"]}},
        "s": {"model_name": "IntSliderModel", "state": {"description": "Day", "min": 1, "max": 19, "value": 5}},
        "h": {"model_name": "HTMLModel", "state": {"value": "<p>five</p>"}},
        "d": {"model_name": "SelectMultipleModel", "state": {"description": "Types", "_options_labels": ["a", "b"],
                                                            "index": [1]}},
    }}}}})
    out = r.output({"output_type": "execute_result", "data": {
        "application/vnd.jupyter.widget-view+json": {"model_id": "box"}, "text/plain": "VBox()"}})
    assert html.escape(SNAPSHOT_NOTE, quote=True) in out
    assert re.search(r'<label for="t-w\d+">Day</label> <input type="range"[^>]*value="5" disabled>', out)
    assert "<p>five</p>" in out and "<option>a</option><option selected>b</option>" in out
    assert r.counts.widgets == 1


def test_a_widget_showing_a_whole_map_page_becomes_a_map_document(tmp_path):
    r = _renderer(tmp_path)
    page = "<!DOCTYPE html>\n<html>\n<head><title>Almaty, all days</title></head><body><div>map</div></body></html>"
    r.use_widget_state({"metadata": {"widgets": {"application/vnd.jupyter.widget-state+json": {"state": {
        "b": {"model_name": "AnyModel", "state": {"html": page, "title": "Almaty"}}}}}}})
    out = r.widget_snapshot("b")
    src = re.search(r'<iframe class="kz-map" src="(maps/t-\d+\.html)" title="Map: Almaty, all days"', out).group(1)
    assert '<html lang="en">' in (tmp_path / src).read_text(encoding="utf-8")
    assert r.counts.maps == 1


def test_student_answer_cells_show_the_question_and_no_output(tmp_path):
    r = _renderer(tmp_path)
    answer = {"cell_type": "code", "source": "# YOUR CODE HERE\nraise NotImplementedError()",
              "metadata": {"nbgrader": {"solution": True, "grade": False}},
              "outputs": [{"output_type": "error", "ename": "NotImplementedError", "evalue": "", "traceback": ["x"]}]}
    test = {"cell_type": "code", "source": "check_type(x, int)", "metadata": {"nbgrader": {"grade": True, "points": 2}},
            "outputs": [{"output_type": "error", "ename": "NameError", "evalue": "x", "traceback": ["NameError"]}]}
    written = {"cell_type": "markdown", "source": "YOUR ANSWER HERE", "metadata": {"nbgrader": {"solution": True}}}
    later = {"cell_type": "code", "source": "x + 1", "metadata": {},
             "outputs": [{"output_type": "error", "ename": "NameError", "evalue": "x", "traceback": ["NameError"]}]}
    out = "".join(r.cell(c) for c in (answer, test, written, later))
    assert "NotImplementedError()" in out and "NameError" not in out and "Traceback" not in out
    assert "Tests for this question (2 points)" in out and "Your written answer goes here" in out
    assert "needs the answers above" in out


def test_launch_links_are_configured_or_absent():
    assert Launch().links("01-article") == []
    links = dict(Launch(binder="https://binder.example/v2/gh/org/kzcourse/main", hub="https://hub.example/",
                        repo="https://git.example/org/kzcourse-student.git", lite="https://lite.example").links("02-geography"))
    assert links["Launch on Binder"].endswith("?urlpath=lab%2Ftree%2F02-geography%2F02-geography.ipynb")
    hub = links["Open on JupyterHub"]
    assert hub.startswith("https://hub.example/hub/user-redirect/git-pull?repo=https%3A%2F%2Fgit.example")
    assert "branch=student" in hub and "targetPath=kzcourse-student" in hub
    assert "urlpath=lab%2Ftree%2Fkzcourse-student%2F02-geography%2F02-geography.ipynb" in hub
    assert links["Try in JupyterLite"] == "https://lite.example/lab/index.html?path=02-geography%2F02-geography.ipynb"


def test_the_lesson_panel_names_minutes_objectives_readings_and_download():
    from kzcourse.lessons import lesson

    l = lesson("02-geography")
    panel = lesson_panel(l, Launch(), "student")
    assert f"about {l.minutes} minutes" in panel
    assert all(html.escape(o) in panel for o in l.objectives)
    assert all(f'href="article.html#{p}"' in panel for p in l.readings)
    assert 'href="notebooks/02-geography/02-geography.ipynb" download' in panel
    assert "source notebook" not in panel


def test_search_records_follow_the_headings():
    recs = _sections("a.html", "A", '<h1>A</h1><p>intro</p><h2 id="x">Sec &amp; more</h2><p>body <b>text</b></p>')
    assert recs == [{"url": "a.html", "title": "A", "text": "intro"},
                    {"url": "a.html#x", "title": "A › Sec & more", "text": "body text"}]


def test_every_claim_is_in_the_article_at_its_paragraph():
    from kzcourse import data
    from kzcourse.site.article import article_html

    body = article_html()
    paras = dict(re.findall(r'<div class="kz-para" id="(P\d+)">(.*?)</div>\s*(?=<div class="kz-para"|$)', body, re.S))
    for _, c in data.load("claims").iterrows():
        text = paras[c["paragraph"]]
        assert re.search(rf'id="{c["claim_id"]}"><span aria-hidden="true">.</span> {c["claim_id"]}: {c["status"]}', text), c["claim_id"]
        assert f'id="{c["claim_id"]}-note"' in text


def test_bad_edition_and_lesson_are_clear_errors(tmp_path):
    from kzcourse.site import SiteError, build_site

    with pytest.raises(SiteError, match="Unknown site edition 'teacher': expected one of student, instructor"):
        build_site(tmp_path / "a", edition="teacher")
    with pytest.raises(SiteError, match="Unknown lesson '99-x': expected one of .*01-article, 02-geography"):
        build_site(tmp_path / "b", lessons=["99-x"])
