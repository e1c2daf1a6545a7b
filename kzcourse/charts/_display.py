"""How kzcourse figures show themselves: in JupyterLab (plotly's JSON), and as HTML that draws itself offline
in nbconvert, nbgrader's feedback and the Formgrader (plotly.js carried once per page); the Figure class."""

from __future__ import annotations

import functools
import html
import os
import sys
import threading
from typing import TYPE_CHECKING, Any

from kzcourse.errors import KzCourseError

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go


#: Environment variables with which plotly 7 picks a default renderer of its own
#: (``PLOTLY_RENDERER``, or a hosted notebook it recognises): the fast display steps aside.
_PLOTLY_RENDERER_HINTS: tuple[str, ...] = (
    "PLOTLY_RENDERER", "COLAB_NOTEBOOK_ID", "AZURE_NOTEBOOKS_HOST", "VSCODE_PID", "NTERACT_EXE",
    "COCALC_PROJECT_ID", "DATABRICKS_RUNTIME_VERSION",
)


#: Major versions of plotly whose choice of default renderer :func:`plotly_default_is_mimetype`
#: follows (read from ``plotly/io/_renderers.py`` of plotly 7.0.0 and 7.1.0).
_PLOTLY_MAJORS_CHECKED: tuple[str, ...] = ("7",)


def plotly_mime_bundle(fig: "go.Figure") -> dict[str, Any]:
    """Return what plotly's ``plotly_mimetype`` renderer outputs for ``fig`` (what JupyterLab draws).

    Uses the renderer registered in ``plotly.io.renderers`` when plotly has loaded that
    registry (so its configuration counts), otherwise an unconfigured
    :class:`plotly.io.base_renderers.PlotlyRenderer`, which is what the registry holds.

    Examples
    --------
    >>> from kzcourse.charts import timeline_figure
    >>> bundle = plotly_mime_bundle(timeline_figure())
    >>> list(bundle), bundle["application/vnd.plotly.v1+json"]["layout"]["meta"]["builder"]
    (['application/vnd.plotly.v1+json'], 'timeline_figure')
    """
    return _mime_bundle(fig.to_dict())


def _mime_bundle(fig_dict: dict[str, Any]) -> dict[str, Any]:
    """:func:`plotly_mime_bundle` of a figure already turned into a dict (``fig.to_dict()``); the bundle is a new dict."""
    if "plotly.io._renderers" in sys.modules:
        import plotly.io as pio

        return pio.renderers["plotly_mimetype"].to_mimebundle(fig_dict)
    from plotly.io.base_renderers import PlotlyRenderer

    return PlotlyRenderer().to_mimebundle(fig_dict)


def plotly_default_is_mimetype() -> bool:
    """Tell whether plotly would display a figure here with its ``plotly_mimetype`` renderer alone.

    True only when all of these hold, which is how plotly 7 picks that renderer itself
    (``plotly/io/_renderers.py``): the code runs in a Jupyter kernel (ipykernel's
    ``ZMQInteractiveShell``); plotly's major version is one checked here; no
    environment variable in :data:`_PLOTLY_RENDERER_HINTS` is set and ``/kaggle/input``
    does not exist; and plotly's renderer registry is not loaded yet, so nobody has
    changed its default. Outside a kernel (a script, the test suite) it is False.

    Examples
    --------
    >>> plotly_default_is_mimetype()   # a doctest runs outside any Jupyter kernel
    False
    """
    if "plotly.io._renderers" in sys.modules:
        return False
    if any(name in os.environ for name in _PLOTLY_RENDERER_HINTS) or os.path.exists("/kaggle/input"):
        return False
    get_ipython = getattr(sys.modules.get("IPython"), "get_ipython", None)
    shell = get_ipython() if get_ipython is not None else None
    if type(shell).__name__ != "ZMQInteractiveShell" or not type(shell).__module__.startswith("ipykernel."):
        return False
    import plotly

    return plotly.__version__.split(".")[0] in _PLOTLY_MAJORS_CHECKED


_PLOTLYJS_SENT: list[bool] = []  # set once this process has shown a figure whose HTML carries plotly.js


#: Shown where a chart should be when no output on the page carried plotly.js (replaced once the chart draws).
CHART_FALLBACK = ("This chart is drawn by plotly.js, which this page does not hold: the notebook's cells were run "
                  "out of order. Run the notebook from the top (Kernel > Restart and Run All), then export it again; "
                  "the table below the chart (describe) has the same content.")


_CHART_JS = """<script type="text/javascript">(function () {
  var w = window, q = (w.kzcoursePlots = w.kzcoursePlots || []);
  q.push(function () { var el = document.getElementById(%(id)s); if (!el || el.dataset.drawn) return;
    el.dataset.drawn = "1"; el.innerHTML = ""; var f = %(fig)s; w.Plotly.newPlot(el, f.data, f.layout, %(config)s); });
  if (w.Plotly) { while (q.length) q.shift()(); }
})();</script>"""


_PLOTLYJS_LOADER = """<script type="text/javascript" data-kzcourse-plotlyjs="plain">window.__kzDefine = window.define; window.define = undefined;</script>
<script type="text/javascript">%s</script>
<script type="text/javascript">window.define = window.__kzDefine;
(function () { var q = (window.kzcoursePlots = window.kzcoursePlots || []); while (q.length) q.shift()(); })();</script>"""


# The same, from the gzip copy in kzcourse/assets (a third of the bytes through the kernel): unpacked with the
# browser's DecompressionStream, then run at global scope with any AMD loader hidden, so it sets window.Plotly.
_PLOTLYJS_GZ_LOADER = """<script type="text/javascript" data-kzcourse-plotlyjs="gzip">(function () {
  var b = atob("%s"), bytes = new Uint8Array(b.length);
  for (var i = 0; i < b.length; i++) { bytes[i] = b.charCodeAt(i); }
  new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"))).text().then(function (js) {
    var define = window.define; window.define = undefined;
    try { (0, eval)(js); } finally { window.define = define; }
    var q = (window.kzcoursePlots = window.kzcoursePlots || []); while (q.length) { q.shift()(); }
  });
})();</script>"""


@functools.lru_cache(maxsize=1)
def _plotlyjs_script() -> str:
    """The script that puts plotly.js on a page: the vendored gzip copy if it matches the installed plotly."""
    import base64
    import json

    import plotly

    from kzcourse._assets import assets_dir

    try:
        assets = assets_dir()
        entry = json.loads((assets / "assets.json").read_text(encoding="utf-8")).get("plotly.min.js.gz", {})
        if entry.get("version") == plotly.__version__:
            packed = (assets / "plotly.min.js.gz").read_bytes()
            return _PLOTLYJS_GZ_LOADER % base64.b64encode(packed).decode("ascii")
    except (OSError, ValueError, KzCourseError):
        pass
    from plotly.offline import get_plotlyjs

    return _PLOTLYJS_LOADER % get_plotlyjs().replace("</script", "<\\/script")


def figure_html(fig: "go.Figure", *, include_plotlyjs: bool = False) -> str:
    """The figure as an HTML fragment that draws itself in nbconvert HTML, nbgrader feedback and the Formgrader.

    The fragment is a ``<div>`` (holding a short note until the chart draws) and a
    script that draws the figure with plotly.js as soon as plotly.js is on the page;
    with ``include_plotlyjs=True`` the fragment also carries plotly.js itself: the
    gzip copy in ``kzcourse/assets`` (1.5 MB, unpacked by the browser) when it was made
    from the installed ``plotly``, else the package's 4.8 MB script; either is hidden from
    any AMD loader on the page so that it sets ``window.Plotly``. Figures that came earlier
    on the page wait for it, so one copy per page serves every chart on it. No
    network access is needed.

    Examples
    --------
    >>> from kzcourse.charts import timeline_figure
    >>> html_ = figure_html(timeline_figure())
    >>> html_.startswith('<div id="kzcourse-timeline_figure-'), "Plotly.newPlot" in html_, len(html_) < 1_000_000
    (True, True, True)
    """
    return _figure_html(fig.to_dict(), include_plotlyjs=include_plotlyjs)


def _figure_html(fig_dict: dict[str, Any], *, include_plotlyjs: bool) -> str:
    """:func:`figure_html` of a figure already turned into a dict (``fig.to_dict()``, whose trace uids this drops)."""
    import json

    import plotly.io as pio

    layout = fig_dict.get("layout", {})
    meta = layout.get("meta") if isinstance(layout.get("meta"), dict) else {}
    text = pio.to_json(fig_dict, validate=False)
    div_id = f"kzcourse-{meta.get('builder', 'figure')}-{_crc(text)}"
    config = json.dumps({"displaylogo": False, "responsive": True})
    js = _CHART_JS % {"id": json.dumps(div_id), "fig": text.replace("</", "<\\/"), "config": config}
    alt = html.escape(meta.get("alt", ""))
    width = f"width:{layout['width']}px;" if layout.get("width") else ""
    div = (f'<div id="{div_id}" class="kzcourse-chart" role="figure" aria-label="{alt}" '
           f'style="{width}min-height:2em"><p>{html.escape(CHART_FALLBACK)}</p></div>')
    return div + "\n" + js + ("\n" + _plotlyjs_script() if include_plotlyjs else "")


def _crc(text: str) -> str:
    """A short, stable hex digest of ``text`` (ids that stay the same when the same figure is shown again)."""
    import zlib

    return f"{zlib.crc32(text.encode('utf-8')):08x}"


_FIGURE_CLASS: list[type] = []  # the one Figure class, made on first use


_FIGURE_CLASS_LOCK = threading.Lock()


def _figure_class() -> type:
    """Return :class:`Figure`, making it once (under a lock, so two threads cannot make two)."""
    if _FIGURE_CLASS:
        return _FIGURE_CLASS[0]
    with _FIGURE_CLASS_LOCK:
        if not _FIGURE_CLASS:
            _FIGURE_CLASS.append(_make_figure_class())
    return _FIGURE_CLASS[0]


def _make_figure_class() -> type:
    import plotly.graph_objects as go

    class Figure(go.Figure):
        """A ``plotly.graph_objects.Figure`` that shows itself in Jupyter without loading plotly's renderer registry.

        Everything but display is plotly's. Where :func:`plotly_default_is_mimetype` is
        true, showing the figure sends :func:`plotly_mime_bundle` (the output plotly
        would send, drawn the same by JupyterLab); anywhere else plotly displays it.
        """

        def _ipython_display_(self) -> None:
            if not plotly_default_is_mimetype():
                return super()._ipython_display_()
            from IPython.display import display

            fig_dict = self.to_dict()  # once for both outputs: plotly's to_dict deep-copies the whole figure
            bundle = _mime_bundle(fig_dict)
            # JupyterLab draws the plotly JSON; nbconvert, nbgrader's feedback and the Formgrader show the HTML,
            # the first figure of the kernel carrying plotly.js for the whole page.
            bundle["text/html"] = _figure_html(fig_dict, include_plotlyjs=not _PLOTLYJS_SENT)
            _PLOTLYJS_SENT.append(True)
            display(bundle, raw=True)
            return None

    Figure.__module__ = "kzcourse.charts"  # where users reach it (kzcourse.charts.Figure)
    Figure.__qualname__ = "Figure"
    return Figure


#: Major versions of plotly whose ``Figure(..., _validate=False)`` :func:`_built_figure` relies on (read from
#: ``plotly/basedatatypes.py`` of plotly 7.0.0 and 7.1.0: ``BaseFigure.__init__`` pops ``_validate`` and hands
#: it to the data and layout validators, which then store the given properties as they are).
_PLOTLY_UNVALIDATED_MAJORS: tuple[str, ...] = ("7",)


def _built_figure(traces: list[dict[str, Any]], layout: dict[str, Any]) -> "go.Figure":
    """A :class:`Figure` of the network builders' own trace and layout dicts, without plotly re-checking them.

    Plotly checks every property of every trace against its schema when a figure takes it:
    for the 81 traces of :func:`phase_comparison_figure` that is half of its build time, and
    the first figure of a kernel loads the checkers of every property it uses. These dicts
    are the builders' own, and ``tests/test_charts.py`` rebuilds every builder's figure with
    plotly's checks on and compares. Once built, the figure checks again as any plotly figure
    does, so a student's ``fig.update_layout(titel=...)`` still fails. With a plotly whose
    major version is not in :data:`_PLOTLY_UNVALIDATED_MAJORS`, the figure is built with
    plotly's checks (slower, the same figure).
    """
    import plotly

    cls = _figure_class()
    if plotly.__version__.split(".")[0] not in _PLOTLY_UNVALIDATED_MAJORS:
        return cls(traces, layout=layout)
    fig = cls(traces, layout=layout, _validate=False)
    fig._validate = True  # from now on plotly checks what anyone changes, as in any figure
    fig._layout_obj._validate = True
    for trace in fig.data:
        trace._validate = True
    return fig
