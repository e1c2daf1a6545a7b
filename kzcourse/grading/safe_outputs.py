"""Instructor pages run no student script: :class:`SafeOutputs`, the last step of autograde.

The autograded notebook is what the Formgrader shows (nbconvert HTML, in the instructor's own
Jupyter origin, with the instructor's session) and what feedback is made from. Every output
in it came from a kernel that ran student code: a student cell's ``_repr_html_``, a display
hook or a patched library can put ``<script>`` into any later output, the lesson's locked cells
included. So :class:`SafeOutputs` rewrites the *outputs of every code cell*, and the source of
every cell a student can edit (solution cells, cells not locked by the lesson, cells the student
added), so that nothing in them can run script in the page that shows them:

* ``text/plain``, ``image/png``, ``image/jpeg`` and ``image/gif`` are kept as they are (nbconvert
  escapes text and shows images as ``<img src="data:...">``, which runs no script).
* Active content (``text/html``, ``text/markdown``, ``image/svg+xml``, plotly's JSON) is shown
  inside ``<iframe sandbox="allow-scripts" srcdoc="...">``, without ``allow-same-origin``: its
  scripts run (the course's folium maps and plotly charts draw) in an opaque origin of their
  own, which can read no cookie, call no Jupyter API, reach neither the page nor other frames
  and open no window. A plotly chart is drawn in its frame from the figure's JSON.
* ``application/javascript``, ``text/latex``, widget views and every other type are dropped; an
  output left with nothing to show says so in ``text/plain``. The notebook's saved widget state
  (``metadata.widgets``, which nbconvert would render in the page) is dropped too.
* A student-editable markdown cell's raw HTML is shown as text (``<`` written ``&lt;``) and
  ``javascript:`` links are disarmed; an editable raw cell is escaped and marked ``text/html``.

The page gets one script of kzcourse's own (no student byte in it), before the first frame: it
sets each frame's height from the size the frame reports (a number, clamped), and hands plotly.js
(the copy of the ``plotly`` package installed here, gzip-compressed, one per page) to a chart frame
that asks. Without that script (a viewer that strips scripts) every frame keeps its default height.

Examples
--------
>>> out = {"output_type": "display_data", "metadata": {},
...        "data": {"text/html": "<script>alert(1)</script>", "text/plain": "<X>"}}
>>> safe = safe_output(out, title="Output of cell 3")
>>> sorted(safe["data"]), safe["data"]["text/html"].startswith('<iframe sandbox="allow-scripts"')
(['text/html', 'text/plain'], True)
>>> "<script>" in safe["data"]["text/html"]
False
>>> escape_markdown_html('Answer <img src=x onerror=alert(1)> and [x](JavaScript:alert(1))')
'Answer &lt;img src=x onerror=alert(1)> and [x](unsafe-JavaScript:alert(1))'
"""
from __future__ import annotations

import base64
import copy
import functools
import gzip
import html
import json
import re
from typing import Any

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

#: Kept as they are: nbconvert shows them escaped or as ``<img>``.
PASSIVE = ("text/plain", "image/png", "image/jpeg", "image/gif")
PLOTLY = "application/vnd.plotly.v1+json"
#: Shown inside the sandboxed frame, in this order of preference.
FRAMED = (PLOTLY, "text/html", "image/svg+xml", "text/markdown")
#: The frame's sandbox: scripts, nothing else (no same-origin, forms, popups, top navigation, modals).
SANDBOX = "allow-scripts"
MIN_HEIGHT, MAX_HEIGHT = 40, 3000

# Runs inside every frame (before the student's HTML): reports the content's height to the page.
_FRAME_HEAD = """<!DOCTYPE html><html><head><meta charset="utf-8"><style>body{margin:0;font-family:sans-serif}</style>
<script>(function () { function h() { try { parent.postMessage({kzcourseFrameHeight:
  Math.ceil(document.body.scrollHeight)}, "*"); } catch (e) {} }
  addEventListener("load", h); addEventListener("resize", h); setTimeout(h, 500); setTimeout(h, 2000);
  if (window.ResizeObserver) addEventListener("DOMContentLoaded", function () {
    new ResizeObserver(h).observe(document.documentElement); }); })();</script></head><body>"""
# A plotly chart's frame: asks the page for plotly.js, runs it at global scope, draws the figure.
_CHART = """<div id="kz-chart" role="figure" aria-label="%(alt)s"><p>%(fallback)s</p></div>
<script>(function () { var fig = %(fig)s;
  addEventListener("message", function (e) {
    if (e.source !== parent || !e.data || typeof e.data.kzcoursePlotlyjs !== "string" || window.Plotly) return;
    var s = document.createElement("script"); s.textContent = e.data.kzcoursePlotlyjs; document.head.appendChild(s);
    var el = document.getElementById("kz-chart"); el.innerHTML = "";
    window.Plotly.newPlot(el, fig.data || [], fig.layout || {}, {displaylogo: false, responsive: true});
  });
  parent.postMessage({kzcourseWantsPlotlyjs: true}, "*"); })();</script>"""
_CHART_FALLBACK = ("This chart is drawn by plotly.js, which this page does not hand to it (a viewer without "
                   "scripts); the notebook's text output below the chart has the same content.")
# kzcourse's one script in the page itself. It reads messages only as a height (a number, clamped)
# or a request for plotly.js (answered with the copy installed here); it never runs what it receives.
_BRIDGE = """<script data-kzcourse-safe-outputs="bridge">(function () {
  if (window.kzcourseSafeOutputs) return; window.kzcourseSafeOutputs = true;
  var gz = %(plotlyjs)s, js = null, waiting = [];
  function frameOf(win) { var fs = document.querySelectorAll("iframe[data-kzcourse-output]");
    for (var i = 0; i < fs.length; i++) if (fs[i].contentWindow === win) return fs[i]; return null; }
  function plotlyjs(cb) { if (js !== null) return cb(js); waiting.push(cb); if (waiting.length > 1 || !gz) return;
    var bytes = Uint8Array.from(atob(gz), function (c) { return c.charCodeAt(0); });
    new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"))).text().then(function (t) {
      js = t; while (waiting.length) waiting.shift()(js); }); }
  addEventListener("message", function (e) {
    var f = frameOf(e.source), d = e.data; if (!f || !d || typeof d !== "object") return;
    if (typeof d.kzcourseFrameHeight === "number" && isFinite(d.kzcourseFrameHeight)) {
      f.style.height = Math.max(%(min)d, Math.min(%(max)d, Math.round(d.kzcourseFrameHeight))) + "px"; }
    else if (d.kzcourseWantsPlotlyjs === true && f.dataset.kzcourseOutput === "chart") {
      plotlyjs(function (t) { e.source.postMessage({kzcoursePlotlyjs: t}, "*"); }); }
  });
})();</script>
"""
_TAG = re.compile(r"<(?=[A-Za-z!/?])")
_SCRIPT_URL = re.compile(r"(?i)\b((?:java|vb)script\s*:)")


@functools.lru_cache(maxsize=1)
def plotlyjs_gzip_base64() -> str:
    """The installed ``plotly`` package's plotly.js, gzip-compressed and base64-encoded (made once per process).

    >>> plotlyjs_gzip_base64()[:4]   # the gzip magic number, in base64
    'H4sI'
    """
    from plotly.offline import get_plotlyjs

    return base64.b64encode(gzip.compress(get_plotlyjs().encode("utf-8"), compresslevel=6, mtime=0)).decode("ascii")


def bridge_script(plotlyjs: bool) -> str:
    """kzcourse's script for the page (frame heights; plotly.js for chart frames when ``plotlyjs``).

    >>> s = bridge_script(False)
    >>> s.startswith("<script"), "var gz = null" in s
    (True, True)
    """
    gz = json.dumps(plotlyjs_gzip_base64()) if plotlyjs else "null"
    return _BRIDGE % {"plotlyjs": gz, "min": MIN_HEIGHT, "max": MAX_HEIGHT}


def framed(body: str, *, title: str, height: int, kind: str = "html") -> str:
    """``body`` (an HTML document's body) inside a sandboxed ``<iframe srcdoc>``, escaped for the attribute.

    >>> framed("<b>hi</b>", title="Output", height=100)[:60]
    '<iframe sandbox="allow-scripts" data-kzcourse-output="html" '
    """
    doc = _FRAME_HEAD + body + "</body></html>"
    return (f'<iframe sandbox="{SANDBOX}" data-kzcourse-output="{kind}" title="{html.escape(title)}" '
            f'referrerpolicy="no-referrer" loading="eager" '
            f'style="width:100%;height:{int(height)}px;border:0;display:block" srcdoc="{html.escape(doc, quote=True)}">'
            f'</iframe>')


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _chart_body(fig: Any) -> tuple[str, int]:
    fig = fig if isinstance(fig, dict) else {}
    layout = fig.get("layout") if isinstance(fig.get("layout"), dict) else {}
    meta = layout.get("meta") if isinstance(layout.get("meta"), dict) else {}
    height = layout.get("height") if isinstance(layout.get("height"), (int, float)) else 450
    body = _CHART % {"alt": html.escape(str(meta.get("alt", "A plotly chart"))), "fallback": html.escape(_CHART_FALLBACK),
                     "fig": json.dumps({"data": fig.get("data"), "layout": layout}).replace("</", "<\\/")}
    return body, int(height) + 20


def safe_output(output: dict, *, title: str) -> dict:
    """A copy of ``output`` (an nbformat output dict) that runs no script in the page showing it.

    Passive types are kept; the first active one is shown in a sandboxed frame (``text/html``);
    everything else is dropped. Non-display outputs (streams, errors) are returned unchanged.

    >>> svg = {"output_type": "display_data", "metadata": {}, "data": {"image/svg+xml": "<svg onload='x()'/>"}}
    >>> sorted(safe_output(svg, title="t")["data"])
    ['text/html', 'text/plain']
    >>> js = {"output_type": "display_data", "metadata": {}, "data": {"application/javascript": "alert(1)"}}
    >>> safe_output(js, title="t")["data"]
    {'text/plain': '[an output of type application/javascript, not shown on this page: it could run script]'}
    """
    if output.get("output_type") not in ("display_data", "execute_result", "update_display_data"):
        return output
    data = output.get("data") or {}
    out = copy.deepcopy(output)
    out["data"] = {k: v for k, v in data.items() if k in PASSIVE}
    kind = next((k for k in FRAMED if k in data), None)
    if kind == PLOTLY:
        body, height = _chart_body(data[PLOTLY])
        out["data"]["text/html"] = framed(body, title=title, height=height, kind="chart")
    elif kind == "text/html":
        out["data"]["text/html"] = framed(_text(data[kind]), title=title, height=_html_height(_text(data[kind])))
    elif kind == "image/svg+xml":
        uri = "data:image/svg+xml;base64," + base64.b64encode(_text(data[kind]).encode("utf-8")).decode("ascii")
        out["data"]["text/html"] = f'<img src="{uri}" alt="{html.escape(title)}">'  # an <img> SVG runs no script
    elif kind == "text/markdown":
        # Shown as text: the page's own markdown renderer would pass raw HTML through.
        body = f"<pre style='white-space:pre-wrap'>{html.escape(_text(data[kind]))}</pre>"
        out["data"]["text/html"] = framed(body, title=title, height=120)
    dropped = sorted(k for k in data if k not in out["data"] and k != kind)
    if dropped and not out["data"]:
        out["data"]["text/plain"] = f"[an output of type {', '.join(dropped)}, not shown on this page: it could run script]"
    elif kind and "text/plain" not in out["data"]:
        out["data"]["text/plain"] = f"[{title}: shown in a sandboxed frame]"
    meta = out.get("metadata") or {}
    out["metadata"] = {k: v for k, v in meta.items() if k in PASSIVE and isinstance(v, dict)}
    return out


def _html_height(text: str) -> int:
    """A default height for a frame before it reports its own: a map's or a table's, else a few lines."""
    if "<iframe" in text or "folium" in text:
        match = re.search(r"padding-bottom:\s*(\d+(?:\.\d+)?)%", text)
        return 560 if match is None else max(300, min(800, int(float(match.group(1)) * 9)))
    return min(600, 60 + 22 * text.count("<tr"))


def escape_markdown_html(source: str) -> str:
    """Markdown whose raw HTML shows as text and whose ``javascript:`` links are disarmed."""
    return _SCRIPT_URL.sub(r"unsafe-\1", _TAG.sub("&lt;", source))


def student_editable(cell: dict) -> bool:
    """A cell whose source the student decides: a solution cell, or any cell the lesson did not lock.

    >>> student_editable({"metadata": {"nbgrader": {"locked": True, "solution": False}}})
    False
    >>> student_editable({"metadata": {}})
    True
    """
    meta = (cell.get("metadata") or {}).get("nbgrader") or {}
    return bool(meta.get("solution")) or not meta.get("locked")


class SafeOutputs(Preprocessor):
    """Rewrite the autograded notebook so that the Formgrader and feedback run no student script (module docstring)."""

    enabled = Bool(True, help="nbconvert runs a preprocessor only when it is enabled.").tag(config=True)
    plotlyjs = Bool(True, help="Put plotly.js (the installed copy, gzip) on the page for chart frames.").tag(config=True)

    def preprocess(self, nb: Any, resources: dict):
        nb.metadata.pop("widgets", None)  # saved widget state: nbconvert would render it in the page
        first, charts = None, False
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                outputs = []
                for output in cell.get("outputs", []):
                    safe = safe_output(output, title=f"Output of cell {index + 1}, run in a sandboxed frame")
                    if safe is not output and "text/html" in safe.get("data", {}):
                        charts = charts or 'data-kzcourse-output="chart"' in safe["data"]["text/html"]
                        first = first or safe
                    outputs.append(safe)
                cell.outputs = outputs
            elif student_editable(cell) and cell.cell_type == "markdown":
                cell.source = escape_markdown_html(cell.source)
            elif student_editable(cell) and cell.cell_type == "raw":
                cell.source = html.escape(cell.source)
                cell.metadata["raw_mimetype"] = "text/html"
                cell.metadata.pop("format", None)
        if first is not None:
            first["data"]["text/html"] = bridge_script(charts and self.plotlyjs) + first["data"]["text/html"]
        return nb, resources
