"""Does SafeOutputs leave no student script in the page, and keep what is not active?

A notebook as autograde leaves it (outputs of a kernel that ran student code: HTML with a
script and an ``onerror``, JavaScript, an SVG with ``onload``, markdown with HTML, a widget view,
a real course map and chart; a markdown answer and a raw cell with HTML) is rewritten, then
converted by nbconvert's real HTML exporter, as nbgrader's feedback and the Formgrader do. The
page is parsed the way a browser parses it (``srcdoc`` is an attribute, not markup): the only
script in it is kzcourse's bridge, no element has an event-handler attribute, every frame is
sandboxed with scripts only, and the student's script is inside a frame.
"""
from __future__ import annotations

import copy
import json
from html.parser import HTMLParser

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output, new_raw_cell

from kzcourse.grading.safe_outputs import SANDBOX, SafeOutputs, bridge_script, safe_output

ATTACK = '<script>document.title="PWNED"</script><img src=x onerror="document.body.dataset.pwned=1">'
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


class Page(HTMLParser):
    """What a browser would make of the page's top-level markup."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.scripts, self.handlers, self.frames, self._in_script = [], [], [], False
        self.outside = []  # every tag and attribute of the page (not the frames' srcdoc), and every script's text

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.outside.append(tag + " " + " ".join(f"{k}={v}" for k, v in attrs.items() if k != "srcdoc"))
        self.handlers += [(tag, k) for k in attrs if k.lower().startswith("on")]
        if tag == "script":
            self._in_script = True
            self.scripts.append(attrs)
        if tag == "iframe":
            self.frames.append(attrs)

    def handle_data(self, data):
        if self._in_script and self.scripts:
            self.outside.append(data)
            self.scripts[-1]["text"] = self.scripts[-1].get("text", "") + data

    def handle_endtag(self, tag):
        self._in_script = self._in_script and tag != "script"


def meta(**kw):
    return {"nbgrader": {"schema_version": 3, "grade": False, "solution": False, "locked": False, "task": False, **kw}}


@pytest.fixture(scope="module")
def notebook():
    from kzcourse import charts, maps

    fig = charts.timeline_figure()
    chart = dict(charts.plotly_mime_bundle(fig), **{"text/html": charts.figure_html(fig, include_plotlyjs=False)})
    the_map = maps.spread_map(offline=True)._repr_html_()
    student = new_code_cell("...", metadata=meta(solution=True, grade_id="q1"), outputs=[
        new_output("display_data", data={"text/html": ATTACK, "text/plain": "<HTML>"}),
        new_output("display_data", data={"application/javascript": "document.title='PWNED'"}),
        new_output("display_data", data={"image/svg+xml": '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'}),
        new_output("display_data", data={"text/markdown": "**hi** " + ATTACK}),
        new_output("display_data", data={"application/vnd.jupyter.widget-view+json": {"model_id": "x"},
                                         "text/plain": "IntSlider()"}),
        new_output("display_data", data={"text/html": the_map, "text/plain": "<folium.Map>"}),
        new_output("display_data", data=chart),
        new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"}),
        new_output("stream", name="stdout", text="<script>not markup</script>\n"),
    ])
    test = new_code_cell("...", metadata=meta(grade=True, locked=True, grade_id="q1_test", points=1),
                         outputs=[new_output("execute_result", data={"text/plain": "0.5"}, execution_count=3)])
    nb = new_notebook(cells=[
        new_markdown_cell("Locked lesson text with <b>bold</b>", metadata=meta(locked=True, grade_id="t1")),
        student, test,
        new_markdown_cell("My answer " + ATTACK + " [link](javascript:alert(1))",
                          metadata=meta(solution=True, grade=True, grade_id="w1", points=3)),
        new_raw_cell(ATTACK),
    ])
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    return nb


@pytest.fixture(scope="module")
def rewritten(notebook):
    nb, _ = SafeOutputs().preprocess(copy.deepcopy(notebook), {})
    return nb


def test_passive_outputs_and_the_test_cells_score_are_kept(notebook, rewritten):
    before, after = notebook.cells[1].outputs, rewritten.cells[1].outputs
    assert after[7] == before[7], "a png with its text stays as it was"
    assert after[8] == before[8], "streams are escaped by nbconvert and stay as they were"
    assert rewritten.cells[2].outputs == notebook.cells[2].outputs, "nbgrader reads partial credit from text/plain"
    assert after[0]["data"]["text/plain"] == "<HTML>" and after[4]["data"] == {"text/plain": "IntSlider()"}
    assert rewritten.cells[0].source == notebook.cells[0].source, "the lesson's locked text is the lesson's"
    assert "widgets" not in rewritten.metadata


def test_every_active_output_is_framed_or_dropped(rewritten):
    bridge = bridge_script(True)
    outs = rewritten.cells[1].outputs
    for i in (0, 3, 5, 6):
        assert outs[i]["data"]["text/html"].split("<iframe", 1)[0] in ("", bridge), i
        assert f'<iframe sandbox="{SANDBOX}"' in outs[i]["data"]["text/html"], i
    assert set(outs[1]["data"]) == {"text/plain"} and "not shown" in outs[1]["data"]["text/plain"]
    assert outs[2]["data"]["text/html"].startswith('<img src="data:image/svg+xml;base64,')
    assert "application/vnd.plotly.v1+json" not in outs[6]["data"], "a chart is drawn inside its frame"


def test_the_html_page_runs_only_kzcourses_bridge_and_frames_the_rest(rewritten):
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(nbformat.from_dict(rewritten))
    page = Page()
    page.feed(body)
    ours = [s for s in page.scripts if s.get("data-kzcourse-safe-outputs") == "bridge"]
    assert len(ours) == 1
    outside = "\n".join(page.outside)
    assert "PWNED" not in outside and "onerror" not in outside, "no student script or markup outside a frame"
    assert "PWNED" in body, "the student's text is still shown (as text, or in its frame)"
    assert "javascript:alert" not in outside.replace("unsafe-javascript:alert", "")
    assert not page.handlers, page.handlers
    assert page.frames and all(f["sandbox"] == SANDBOX and f.get("title") for f in page.frames)
    framed = [f["srcdoc"] for f in page.frames]
    assert any(ATTACK in d for d in framed), "the student's HTML is shown, inside its frame"
    assert any("leaflet" in d.lower() for d in framed), "the course map is in a frame"
    assert any(f.get("data-kzcourse-output") == "chart" for f in page.frames)
    assert "&lt;img src=x" in rewritten.cells[3].source and "unsafe-javascript:" in rewritten.cells[3].source


def test_a_student_cannot_forge_kzcourses_bridge():
    forged = '<script data-kzcourse-safe-outputs="bridge">document.title="PWNED"</script>'
    out = safe_output(new_output("display_data", data={"text/html": forged}), title="t")
    assert out["data"]["text/html"].startswith("<iframe") and "<script" not in out["data"]["text/html"]
