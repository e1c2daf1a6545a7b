"""Plotly charts of the crisis: the actors' network by phase, its changes, and the timeline.

Every builder returns a :class:`plotly.graph_objects.Figure` and never displays it;
the notebook decides what to show. Every figure carries a text alternative:
``fig.layout.meta['alt']`` is a caption, and :func:`describe` returns that caption
with the table behind the figure (the ties of a network, the events of the timeline).
:func:`to_html` writes a figure to a self-contained HTML file (plotly.js inlined,
no network access needed) with its caption and table.

The builders' figures are of :class:`kzcourse.charts.Figure`, a subclass of
``plotly.graph_objects.Figure`` that differs in one thing only: how it shows itself
in a Jupyter kernel. Plotly's own display imports its renderer registry, which
imports ``nbformat`` and through it ``jsonschema``; with recent ``jsonschema`` that
builds a grammar at import time, about 1.5 s before the first chart of a lesson
appears. Where plotly itself would display the figure with its ``plotly_mimetype``
renderer and nothing else (see :func:`plotly_default_is_mimetype`), the subclass
sends that renderer's very output without the detour; anywhere else it calls
plotly's display unchanged.

Colours come from the Okabe–Ito palette (:mod:`kzcourse._style`), and no colour is
the only cue: relation types also differ by dash, event types and actor kinds by
marker shape.

Layout of the network charts
----------------------------
The actors sit on a circle cut into one sector per group, in the order of
:data:`kzcourse.network.GROUPS` (foreign powers, Kazakh leadership, security services,
protesters, opposition, commentators), clockwise from the top; inside a sector
actors are ordered by ``actor_id``. The layout is computed, not simulated, so it is
identical on every run and the same in every phase.

Examples
--------
>>> from kzcourse import charts
>>> fig = charts.network_figure("crisis")
>>> fig.layout.meta["alt"][:18]
'Network of actors,'
>>> caption, table = charts.describe(fig)
>>> list(table.columns)[:4]
['relation_id', 'source', 'source_name', 'relation']
"""
from __future__ import annotations

import functools
import html
import math
import os
import re
import sys
import textwrap
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from kzcourse import data, network
from kzcourse._alt import Description
from kzcourse._style import EVENT_STYLES, EVENT_TYPE_COLOURS, OKABE_ITO, event_style
from kzcourse._validate import check_choice, check_choices
from kzcourse.errors import KzCourseError

if TYPE_CHECKING:  # pragma: no cover
    import networkx as nx
    import pandas as pd
    import plotly.graph_objects as go

_O = OKABE_ITO

#: The three families of tie, in legend order, each with one dash; every tie type of a family
#: has a colour of its own (Okabe–Ito), so colour and dash together tell all fifteen apart.
RELATION_FAMILIES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "Hierarchy and kin (solid)": ("leads", "member-of", "served-under", "patron-of", "successor-of", "relative-of"),
        "Support (dashed)": ("allied-with", "supported", "requested-help-from", "sent-troops-to"),
        "Conflict (dotted)": ("dismissed", "arrested", "cracked-down-on", "protested-against", "criticised"),
    }
)
_FAMILY_DASH = {"Hierarchy and kin (solid)": "solid", "Support (dashed)": "dash", "Conflict (dotted)": "dot"}
_TYPE_COLOURS = {
    "leads": "black", "member-of": "sky_blue", "served-under": "blue", "patron-of": "reddish_purple",
    "successor-of": "orange", "relative-of": "bluish_green",
    "allied-with": "bluish_green", "supported": "blue", "requested-help-from": "orange", "sent-troops-to": "vermillion",
    "dismissed": "vermillion", "arrested": "black", "cracked-down-on": "reddish_purple", "protested-against": "orange",
    "criticised": "blue",
}

#: Line colour and dash of each relation type: the dash says the family, the colour the type within it
#: (no two types of a family share a colour).
RELATION_STYLES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {rel: (_O[_TYPE_COLOURS[rel]], _FAMILY_DASH[family]) for family, members in RELATION_FAMILIES.items() for rel in members}
)
_FAMILY_OF = {rel: family for family, members in RELATION_FAMILIES.items() for rel in members}

#: Fill colour of each actor group's nodes.
GROUP_COLOURS: Mapping[str, str] = MappingProxyType(
    {
        "foreign": _O["vermillion"],
        "kz_leadership": _O["blue"],
        "kz_security": _O["black"],
        "protesters": _O["orange"],
        "kz_opposition": _O["bluish_green"],
        "commentators": _O["reddish_purple"],
    }
)

#: Marker shape of each kind of actor (``-open`` is added for actors without ties in the phase).
KIND_SYMBOLS: Mapping[str, str] = MappingProxyType(
    {"person": "circle", "organisation": "square", "state": "diamond", "alliance": "star", "group": "triangle-up"}
)

#: Marker shape of each ACLED event type on the timeline (from :data:`kzcourse._style.EVENT_STYLES`, as on the maps).
EVENT_TYPE_SYMBOLS: Mapping[str, str] = MappingProxyType({t: st.chart_symbol for t, st in EVENT_STYLES.items()})

#: Most rows of ``timeline_figure(y="place")``: the busiest places, then one row for all the others.
TIMELINE_MAX_ROWS = 10
#: Tallest timeline, in pixels (a laptop screen shows it with its date axis).
TIMELINE_MAX_HEIGHT = 760

#: What the timeline's y axis can show.
TIMELINE_AXES: tuple[str, ...] = ("event_type", "place")

_HEIGHT = 720
_FONT = dict(family="Arial, Helvetica, sans-serif", size=12, color="#222222")
_HIGHLIGHT = _O["yellow"]
_CUT = "#8C8C8C"


def _wrap(text: str, width: int = 70) -> list[str]:
    """Lines of hover text; words (and hyphenated words) are never split, so joining with spaces restores the text."""
    return list(_wrapped(text, width))


@functools.lru_cache(maxsize=4096)
def _wrapped(text: str, width: int) -> tuple[str, ...]:
    # The same notes and citations recur in every phase and figure; textwrap is slow enough to matter.
    return tuple(textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False))


def _uid(*parts: str) -> str:
    """A stable trace uid (plotly would otherwise make random ones in the browser), usable in CSS classes."""
    return re.sub(r"[^a-z0-9]+", "-", "-".join(parts).lower()).strip("-")


def _check_size_by(size_by: Any) -> str:
    return check_choice(size_by, network.CENTRALITIES, what="centrality",
                        hint="Node sizes can follow one of the columns of kzcourse.network.centrality_table.")


def short_label(name: str) -> str:
    """Return the short label a chart writes next to an actor (the hover shows the full name).

    An acronym in brackets stands for the name; other bracketed words are dropped;
    names longer than 30 characters become the initials of their capitalised words.

    >>> short_label("National Security Committee (KNB)")
    'KNB'
    >>> short_label("National Defense University (US)")
    'National Defense University'
    >>> short_label("Collective Security Treaty Organization")
    'CSTO'
    >>> short_label("Protesters")
    'Protesters'
    """
    base = name
    if "(" in name and name.rstrip().endswith(")"):
        inside = name[name.rindex("(") + 1:name.rstrip().rindex(")")]
        if len(inside) >= 3 and inside.isalpha() and inside.isupper():
            return inside
        base = name[:name.rindex("(")].strip()
    if len(base) <= 30:
        return base
    capitals = [w for w in base.split() if w[:1].isupper()]
    return "".join(w[0] for w in capitals) if len(capitals) >= 3 else base


def _person_label(name: str, kind: str) -> str:
    return name.split()[-1] if kind == "person" else short_label(name)


# --------------------------------------------------------------------------- display in Jupyter
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

    Figure.__module__ = __name__
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


def __getattr__(name: str) -> Any:
    # ``kzcourse.charts.Figure`` is made on first use, so that importing this module loads no plotly.
    if name == "Figure":
        return _figure_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --------------------------------------------------------------------------- layout
def circle_layout(folder: str | Path | None = None) -> dict[str, tuple[float, float]]:
    """Return the fixed position of every actor on the network charts.

    Actors sit on the unit circle, one sector per group in the order of
    :data:`kzcourse.network.GROUPS`, clockwise from the top, ordered by ``actor_id``
    inside a sector, with a gap between sectors. No randomness: the same data
    always gives the same positions.

    Examples
    --------
    >>> pos = circle_layout()
    >>> pos == circle_layout()
    True
    >>> all(abs(x * x + y * y - 1) < 1e-9 for x, y in pos.values())
    True
    """
    actors = data.load("actors", folder)
    order = {g: i for i, g in enumerate(network.GROUPS)}
    ranked = sorted(zip(actors["group"], actors["actor_id"]), key=lambda ga: (order.get(ga[0], len(order)), ga[1]))
    groups = [g for g in dict.fromkeys(g for g, _ in ranked)]
    slots = len(ranked) + len(groups)  # one empty slot between sectors
    pos: dict[str, tuple[float, float]] = {}
    slot = 0.5
    previous = None
    for group, actor_id in ranked:
        if group != previous and previous is not None:
            slot += 1
        previous = group
        angle = math.pi / 2 - 2 * math.pi * slot / max(slots, 1)
        pos[actor_id] = (round(math.cos(angle), 9), round(math.sin(angle), 9))
        slot += 1
    return pos


def _ego_layout(graph: "nx.MultiDiGraph") -> dict[str, tuple[float, float]]:
    """Centre at the origin, actors at distance d on the ring of radius d (group order, then id)."""
    order = {g: i for i, g in enumerate(network.GROUPS)}
    pos: dict[str, tuple[float, float]] = {}
    rings: dict[int, list[str]] = {}
    for n, d in graph.nodes(data=True):
        rings.setdefault(d["distance"], []).append(n)
    for dist, nodes in rings.items():
        nodes.sort(key=lambda n: (order.get(graph.nodes[n]["group"], len(order)), n))
        if dist == 0:
            pos[nodes[0]] = (0.0, 0.0)
            continue
        scale = dist / max(rings)
        for i, n in enumerate(nodes):
            angle = math.pi / 2 - 2 * math.pi * (i + 0.5 * (dist - 1)) / len(nodes)
            pos[n] = (round(scale * math.cos(angle), 9), round(scale * math.sin(angle), 9))
    return pos


# --------------------------------------------------------------------------- label placement
#: Pixels per layout unit of the network charts (the circle of actors has radius 1), fixed so that
#: label boxes can be placed in pixels: the figures get an explicit width and height to match.
_SCALE = 200.0
_LABEL_PX = 11          # label font size
_CHAR_PX = 7.0          # a generous average advance of an 11 px Arial character (capitals included)
_LINE_PX = 15.0         # height of one label line
_LABEL_GAP = 3.0        # free pixels kept around every label box
_LABEL_WRAP = 16        # characters per label line before it wraps
_LEGEND_PX = 250        # right margin that holds the legend
_HALO = "1px 1px 1px #fff, -1px -1px 1px #fff, 1px -1px 1px #fff, -1px 1px 1px #fff"  # labels stay legible over ties
_MARGIN = dict(l=10, t=60, b=10)


def _label_lines(text: str) -> list[str]:
    return textwrap.wrap(text, _LABEL_WRAP, break_long_words=False, break_on_hyphens=False) or [text]


def _label_size(lines: Sequence[str]) -> tuple[float, float]:
    return max(len(line) for line in lines) * _CHAR_PX, len(lines) * _LINE_PX


def _overlaps(a: tuple[float, float, float, float], b: tuple[float, float, float, float], gap: float = _LABEL_GAP) -> bool:
    return a[0] < b[2] + gap and b[0] < a[2] + gap and a[1] < b[3] + gap and b[1] < a[3] + gap


def place_labels(
    points: Mapping[str, tuple[float, float]], texts: Mapping[str, str], marker_px: Mapping[str, float],
    *, scale: float = _SCALE, order: Sequence[str] | None = None,
) -> dict[str, dict[str, Any]]:
    """Place one horizontal label per node so that no two labels, and no label and marker, overlap.

    Works in pixels (``scale`` pixels per layout unit). A label starts just outside its
    marker, on the side facing away from the origin (right of nodes on the right half,
    left of those on the left, above or below near the vertical axis). When that box is
    taken, the label slides along its ring around the origin in small steps, alternately
    either way, until it is free; a label that moved away from its node gets a leader
    line. Labels longer than 16 characters wrap onto several lines. Nodes in ``order``
    (default: as given) are placed first and so keep their natural place.

    Returns
    -------
    dict
        Per node: ``x``, ``y`` (anchor, layout units), ``position`` (plotly ``textposition``),
        ``text`` (with ``<br>``), ``box`` (x0, y0, x1, y1 in pixels, y up) and ``moved`` (bool).

    Examples
    --------
    >>> pts = {"a": (1.0, 0.0), "b": (0.99, 0.05), "c": (-1.0, 0.0)}
    >>> out = place_labels(pts, {"a": "Alpha", "b": "Beta", "c": "Gamma"}, {"a": 12, "b": 12, "c": 12})
    >>> out["a"]["position"], out["c"]["position"]
    ('middle right', 'middle left')
    >>> _overlaps(out["a"]["box"], out["b"]["box"])
    False
    """
    markers = {n: (x * scale - m / 2, y * scale - m / 2, x * scale + m / 2, y * scale + m / 2)
               for n, (x, y) in points.items() for m in [marker_px.get(n, 12.0)]}
    placed: dict[str, dict[str, Any]] = {}
    boxes: list[tuple[float, float, float, float]] = []
    step = _LINE_PX / 2
    for node in list(order or points):
        x, y = points[node]
        px, py = x * scale, y * scale
        radius = math.hypot(px, py)
        angle = math.atan2(py, px) if radius > 1e-9 else math.pi / 2
        lines = _label_lines(texts[node])
        width, height = _label_size(lines)
        off = marker_px.get(node, 12.0) / 2 + 3
        best = None
        for k in [0, *[j * sign for j in range(1, 40) for sign in (1, -1)]]:
            if radius > 1e-9:
                ring = radius + off
                a = angle + k * step / ring
                ax, ay = ring * math.cos(a), ring * math.sin(a)
            else:  # the centre of an ego network: above it, then further up or down
                ax, ay = 0.0, off + k * step
                a = math.pi / 2 if k >= 0 else -math.pi / 2
            c = math.cos(a)
            if c > 0.2:
                position, box = "middle right", (ax, ay - height / 2, ax + width, ay + height / 2)
            elif c < -0.2:
                position, box = "middle left", (ax - width, ay - height / 2, ax, ay + height / 2)
            elif math.sin(a) >= 0:
                position, box = "top center", (ax - width / 2, ay, ax + width / 2, ay + height)
            else:
                position, box = "bottom center", (ax - width / 2, ay - height, ax + width / 2, ay)
            blocked = any(_overlaps(box, b) for b in boxes) or any(
                _overlaps(box, m, 1.0) for n, m in markers.items() if n != node)
            if not blocked:
                best = (ax, ay, position, box, k != 0 and abs(k) * step > 10)
                break
        if best is None:  # nowhere free within the search: keep the natural place
            best = (ax, ay, position, box, False)
        ax, ay, position, box, moved = best
        boxes.append(box)
        placed[node] = {"x": ax / scale, "y": ay / scale, "position": position, "text": "<br>".join(lines),
                        "box": box, "moved": moved}
    return placed


def _label_traces(graph: "nx.MultiDiGraph", labels: Mapping[str, Mapping[str, Any]], pos: Mapping[str, tuple[float, float]],
                  *, axes: dict[str, str]) -> list[dict[str, Any]]:
    """One text trace per actor group (toggled with the group's legend entry) and one trace of leader lines."""
    traces = []
    present = {d["group"] for _, d in graph.nodes(data=True)}
    for group in [g for g in network.GROUPS if g in present] + sorted(present - set(network.GROUPS)):
        nodes = sorted(n for n, d in graph.nodes(data=True) if d["group"] == group and n in labels)
        traces.append(_scatter(
            x=[labels[n]["x"] for n in nodes], y=[labels[n]["y"] for n in nodes], mode="text",
            text=[labels[n]["text"] for n in nodes], textposition=[labels[n]["position"] for n in nodes],
            textfont=dict(size=_LABEL_PX, color="#222222", shadow=_HALO), hoverinfo="skip", showlegend=False,
            legendgroup=f"group:{group}", cliponaxis=False, customdata=nodes,
            meta={"role": "labels", "group": group}, uid=_uid("labels", group, axes["xaxis"]), **axes,
        ))
    lx: list[float | None] = []
    ly: list[float | None] = []
    for n in sorted(labels):
        if labels[n]["moved"]:
            lx += [pos[n][0], labels[n]["x"], None]
            ly += [pos[n][1], labels[n]["y"], None]
    traces.append(_scatter(x=lx or [None], y=ly or [None], mode="lines", line=dict(color="#8C8C8C", width=0.8),
                           hoverinfo="skip", showlegend=False, meta={"role": "leaders"},
                           uid=_uid("leaders", axes["xaxis"]), **axes))
    return traces


def _graph_labels(graph: "nx.MultiDiGraph", pos: Mapping[str, tuple[float, float]], sizes: Mapping[str, float],
                  scale: float = _SCALE) -> dict[str, dict[str, Any]]:
    table = _centrality(graph)
    order = sorted(graph.nodes, key=lambda n: (-float(table.loc[n, "degree"]), n))
    texts = {n: _person_label(d["name"], d["kind"]) for n, d in graph.nodes(data=True)}
    return place_labels({n: pos[n] for n in graph.nodes}, texts, sizes, scale=scale, order=order)


def _frame(labels: Iterable[Mapping[str, Any]], pos: Iterable[tuple[float, float]], sizes: Iterable[float],
           scale: float = _SCALE, pad: float = 12.0) -> tuple[list[float], list[float]]:
    """Axis ranges (layout units) that hold every marker and label box, with ``pad`` pixels to spare."""
    boxes = [lab["box"] for lab in labels]
    boxes += [(x * scale - m / 2, y * scale - m / 2, x * scale + m / 2, y * scale + m / 2)
              for (x, y), m in zip(pos, sizes)]
    x0 = min(b[0] for b in boxes) - pad
    x1 = max(b[2] for b in boxes) + pad
    y0 = min(b[1] for b in boxes) - pad
    y1 = max(b[3] for b in boxes) + pad
    return [x0 / scale, x1 / scale], [y0 / scale, y1 / scale]


def _union(ranges: Iterable[list[float]]) -> list[float]:
    ranges = list(ranges)
    return [min(r[0] for r in ranges), max(r[1] for r in ranges)]


# --------------------------------------------------------------------------- drawing
def _centrality(graph: "nx.MultiDiGraph") -> "pd.DataFrame":
    """The graph's centrality table, computed once per graph (graphs here are built fresh for each figure)."""
    if "_centrality" not in graph.graph:
        graph.graph["_centrality"] = network.graph_centrality(graph)
    return graph.graph["_centrality"]


def _sizes(graph: "nx.MultiDiGraph", size_by: str) -> dict[str, float]:
    values = _centrality(graph)[size_by]
    top = float(values.max()) if len(values) else 0.0
    return {n: (12.0 + 26.0 * math.sqrt(float(v) / top)) if top > 0 else 14.0 for n, v in values.items()}


def _arc_path(a0: float, a1: float, r: float = 1.0, steps: int = 24) -> str:
    pts = [(r * math.cos(a0 + (a1 - a0) * i / steps), r * math.sin(a0 + (a1 - a0) * i / steps)) for i in range(steps + 1)]
    return "M " + " L ".join(f"{x:.4f},{y:.4f}" for x, y in pts)


def _group_shapes(graph: "nx.MultiDiGraph", pos: Mapping[str, tuple[float, float]], xref: str, yref: str) -> list[dict]:
    """A faint arc in the group's colour behind each group's sector of the circle."""
    shapes = []
    members: dict[str, list[float]] = {}
    for n, d in sorted(graph.nodes(data=True)):  # by actor_id: the clockwise order inside a sector
        x, y = pos[n]
        members.setdefault(d["group"], []).append(math.atan2(y, x))
    for group, angles in sorted(members.items()):
        # unwrap clockwise from the first actor of the sector
        start = angles[0]
        spread = [start - ((start - a) % (2 * math.pi)) for a in angles]
        a0, a1 = max(spread) + 0.12, min(spread) - 0.12
        shapes.append(dict(type="path", path=_arc_path(a0, a1), xref=xref, yref=yref, layer="below",
                           line=dict(color=GROUP_COLOURS.get(group, _O["black"]), width=14), opacity=0.18))
    return shapes


def _edge_geometry(graph: "nx.MultiDiGraph", pos: Mapping[str, tuple[float, float]], sizes: Mapping[str, float],
                   extra: Iterable[tuple[str, str, str]] = (), scale: float = _SCALE) -> dict[str, tuple[list[float], list[float]]]:
    """Points (start, middle, end) of every edge keyed by relation_id; parallel ties bend apart."""
    unit_px = scale
    pairs: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    for u, v, k in [*graph.edges(keys=True), *extra]:
        pairs.setdefault(tuple(sorted((u, v))), []).append((u, v, k))
    out = {}
    for (a, b), ties in pairs.items():
        ties.sort(key=lambda t: t[2])
        (ax, ay), (bx, by) = pos[a], pos[b]
        length = math.hypot(bx - ax, by - ay) or 1.0
        px, py = -(by - ay) / length, (bx - ax) / length  # perpendicular to a -> b
        for i, (u, v, k) in enumerate(ties):
            bend = (i - (len(ties) - 1) / 2) * 0.09
            (ux, uy), (vx, vy) = pos[u], pos[v]
            dx, dy = (vx - ux) / length, (vy - uy) / length
            cut_u = (sizes.get(u, 14) / 2 + 2) / unit_px
            cut_v = (sizes.get(v, 14) / 2 + 5) / unit_px
            x0, y0 = ux + dx * cut_u + px * bend * 0.3, uy + dy * cut_u + py * bend * 0.3
            x2, y2 = vx - dx * cut_v + px * bend * 0.3, vy - dy * cut_v + py * bend * 0.3
            xm, ym = (ux + vx) / 2 + px * bend, (uy + vy) / 2 + py * bend
            out[k] = ([x0, xm, x2], [y0, ym, y2])
    return out


def _edge_hover(graph: "nx.MultiDiGraph", u: str, v: str, d: Mapping[str, Any], note: str = "") -> str:
    span = f"{d['valid_from'] or 'long before'} to {d['valid_to'] or 'still holds'}"
    lines = [
        f"<b>{html.escape(graph.nodes[u]['name'])} {d['relation']} {html.escape(graph.nodes[v]['name'])}</b>",
        f"{d['relation_id']} · {d['sign']} · {span}",
    ]
    if d.get("notes"):
        lines += _wrap(html.escape(d["notes"]))
    lines += _wrap("Source: " + html.escape(d["readable"]))
    if note:
        lines.append(f"<i>{note}</i>")
    return "<br>".join(lines)


def _scatter(**props: Any) -> dict[str, Any]:
    """A scatter trace as a plain dict, without the properties left unset (``None``).

    Plotly validates a trace each time a figure takes it, also when it was a
    ``go.Scatter`` already; handing the figure dicts validates every trace once.
    """
    return {"type": "scatter", **{k: v for k, v in props.items() if v is not None}}


def _edge_traces(graph: "nx.MultiDiGraph", geometry: Mapping[str, tuple[list[float], list[float]]], *,
                 relations: Sequence[str], shown: set[str], axes: dict[str, str]) -> list[dict[str, Any]]:
    """One line trace per relation type present, with arrowheads at the target end."""
    traces = []
    for rel in relations:
        xs: list[float | None] = []
        ys: list[float | None] = []
        texts: list[str | None] = []
        sizes: list[float] = []
        for u, v, k, d in sorted(graph.edges(keys=True, data=True), key=lambda e: e[2]):
            if d["relation"] != rel:
                continue
            gx, gy = geometry[k]
            hover = _edge_hover(graph, u, v, d)
            xs += [*gx, None]
            ys += [*gy, None]
            texts += ["", hover, "", ""]  # hover at the middle of the tie only (the ends belong to the nodes)
            sizes += [0, 0, 11, 0]
        if not xs:
            continue
        colour, dash = RELATION_STYLES.get(rel, (_O["black"], "solid"))
        family = _FAMILY_OF.get(rel, "Other ties")
        first_of_family = not any(_FAMILY_OF.get(r, "Other ties") == family for r in shown)
        traces.append(_scatter(
            x=xs, y=ys, mode="lines+markers", name=rel, legendgroup=f"ties:{family}", showlegend=rel not in shown,
            legendrank=100 + [*RELATION_FAMILIES, "Other ties"].index(family) * 20 + relations.index(rel),
            legendgrouptitle=dict(text=f"Ties: {family.lower()}") if first_of_family else None,
            line=dict(color=colour, width=2.5 if dash == "solid" else 3, dash=dash),
            marker=dict(symbol="arrow", angleref="previous", size=sizes, color=colour, line=dict(width=0)),
            hovertext=texts, hoverinfo=["none", "text", "none", "none"] * (len(xs) // 4), meta={"role": "edges", "relation": rel},
            uid=_uid("edges", rel, axes["xaxis"]), **axes,
        ))
        shown.add(rel)
    return traces


def _node_traces(graph: "nx.MultiDiGraph", pos: Mapping[str, tuple[float, float]], sizes: Mapping[str, float],
                 size_by: str, *, shown: set[str], axes: dict[str, str], centre: str | None = None) -> list[dict[str, Any]]:
    """One marker trace per actor group: colour by group, shape by kind, size by centrality."""
    table = _centrality(graph)
    traces = []
    present = {d["group"] for _, d in graph.nodes(data=True)}
    for group in [g for g in network.GROUPS if g in present] + sorted(present - set(network.GROUPS)):
        nodes = sorted(n for n, d in graph.nodes(data=True) if d["group"] == group)
        xs, ys, hovers, symbols, widths = [], [], [], [], []
        for n in nodes:
            d = graph.nodes[n]
            x, y = pos[n]
            xs.append(x)
            ys.append(y)
            symbol = KIND_SYMBOLS.get(d["kind"], "circle")
            symbols.append(symbol if d["active"] else f"{symbol}-open")
            widths.append(3 if n == centre else 1)
            row = table.loc[n]
            lines = [f"<b>{html.escape(d['name'])}</b>", f"{d['kind']} · {network.GROUP_LABELS.get(group, group)} · {d['country']}"]
            lines += _wrap(html.escape(d["role"]))
            lines.append(f"{row['degree']} ties ({row['out_degree']} out, {row['in_degree']} in) · "
                         f"betweenness {row['betweenness']:.3f}" if d["active"] else "no ties in this phase")
            lines += _wrap("Source: " + html.escape(d["readable"]))
            hovers.append("<br>".join(lines))
        colour = GROUP_COLOURS.get(group, _O["black"])
        traces.append(_scatter(
            x=xs, y=ys, mode="markers", name=network.GROUP_LABELS.get(group, group), legendgroup=f"group:{group}",
            showlegend=group not in shown, legendrank=500 + len(traces), cliponaxis=False,
            legendgrouptitle=dict(text=f"Actors (size: {size_by.replace('_', ' ')})") if not shown else None,
            marker=dict(size=[sizes[n] for n in nodes], color=colour, symbol=symbols,
                        line=dict(color=["#000000" if n == centre else colour for n in nodes], width=widths)),
            hovertext=hovers, hoverinfo="text", customdata=nodes, meta={"role": "nodes", "group": group},
            uid=_uid("nodes", group, axes["xaxis"]), **axes,
        ))
        shown.add(group)
    return traces


def _merge(into: dict[str, Any], updates: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``updates`` into the plain dict ``into`` the way ``fig.update_layout`` merges (nested dicts key by key)."""
    for key, value in updates.items():
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = dict(value) if isinstance(value, Mapping) else value
    return into


def _axis_frame(traces: Sequence[Mapping[str, Any]], layout: dict[str, Any], xrange: list[float], yrange: list[float],
                *, panels: int = 1, scale: float = _SCALE, title_px: float = 0.0) -> None:
    """Give the layout the pixel size at which ``scale`` holds: the plot area is exactly the ranges times the scale.

    Works on the plain trace and layout dicts before they become a figure (``layout`` is
    updated in place). Panels are stacked top to bottom, each ``title_px`` high above its
    plot for its title; the legend sits in the right margin, so it never takes room from the plot.
    """
    legend = [t for t in traces if t.get("showlegend") is not False and t.get("name")]
    titles = len({t.get("legendgroup") for t in legend if (t.get("legendgrouptitle") or {}).get("text")})
    legend_px = 20 * len(legend) + 27 * titles + 12
    if panels * ((yrange[1] - yrange[0]) * scale + title_px) < legend_px:  # the legend must not be cut off
        extra = (legend_px / panels - title_px) / scale - (yrange[1] - yrange[0])
        yrange = [yrange[0] - extra / 2, yrange[1] + extra / 2]
    plot_w = (xrange[1] - xrange[0]) * scale
    plot_h = (yrange[1] - yrange[0]) * scale
    total_h = panels * (plot_h + title_px)
    _merge(layout, dict(width=round(plot_w + _MARGIN["l"] + _LEGEND_PX), height=round(total_h + _MARGIN["t"] + _MARGIN["b"]),
                        margin=dict(**_MARGIN, r=_LEGEND_PX, autoexpand=False),
                        legend=dict(x=1.0, xanchor="left", y=1.0, yanchor="top", xref="paper", yref="paper")))
    for i in range(1, panels + 1):
        suffix = "" if i == 1 else str(i)
        top = 1 - (i - 1) * (plot_h + title_px) / total_h - title_px / total_h
        bottom = top - plot_h / total_h
        _merge(layout, {
            f"xaxis{suffix}": dict(visible=False, range=xrange, domain=[0, 1], anchor=f"y{suffix}", fixedrange=False),
            f"yaxis{suffix}": dict(visible=False, range=yrange, domain=[max(bottom, 0), min(top, 1)],
                                   anchor=f"x{suffix}", scaleanchor=f"x{suffix}", scaleratio=1),
        })


def _base_layout(title: str, meta: dict[str, Any], *, folder: str | Path | None = None, template: Any = None,
                 **extra: Any) -> dict[str, Any]:
    """The layout every builder shares; a data ``folder`` other than the packaged one is noted in ``meta``.

    ``template=None`` lets plotly apply its default template when the figure is made (the
    timeline's grid comes from it); the network charts pass ``{}``, no template: they set
    every colour, font and margin they use and hide their axes, and plotly's default
    template would cost a JSON load in each kernel and 7 KB in each figure's output.
    """
    if folder is not None:
        meta["folder"] = str(folder)
    return dict(
        title=dict(text=title, x=0.01, xanchor="left"), meta=meta, height=_HEIGHT, font=dict(_FONT),
        template=template, paper_bgcolor="white", plot_bgcolor="white", hovermode="closest",
        hoverlabel=dict(bgcolor="white", font=dict(size=12), align="left"),
        legend=dict(groupclick="toggleitem", itemsizing="constant", tracegroupgap=3),
        margin=dict(l=10, r=10, t=60, b=10), **extra,
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _network_caption(graph: "nx.MultiDiGraph", what: str) -> str:
    table = _centrality(graph)
    active = int((table["degree"] > 0).sum())
    top = table[table["degree"] > 0].head(3)
    leaders = ", ".join(f"{r['name']} ({r['degree']})" for _, r in top.iterrows()) or "none"
    kinds = sorted({d["relation"] for _, _, d in graph.edges(data=True)})
    return (
        f"Network of actors, {what}: {graph.number_of_nodes()} actors, {active} of them with ties, "
        f"and {_count(graph.number_of_edges(), 'tie')} of {_count(len(kinds), 'type')} ({', '.join(kinds) or 'none'}). "
        f"Most ties: {leaders}. Actors sit in sectors by group; arrows point from the actor who acts "
        "to the one acted on. The table of ties (with citations) is the text alternative."
    )


# --------------------------------------------------------------------------- network figures
def network_figure(
    phase: str, size_by: str = "degree", relations: str | Iterable[str] | None = None,
    *, folder: str | Path | None = None,
) -> "go.Figure":
    """Draw the actors' network in one phase.

    Parameters
    ----------
    phase : str
        ``'before'``, ``'crisis'`` or ``'after'`` (see :data:`kzcourse.network.PHASES`).
    size_by : str
        Centrality that sets node size: one of :data:`kzcourse.network.CENTRALITIES`.
    relations : str or list of str, optional
        Draw only these relation types; all by default.
    folder : str or Path, optional
        A folder holding a copy of the data files; by default the packaged data.

    Returns
    -------
    plotly.graph_objects.Figure
        One line trace per relation type present (colour and dash by type, arrowheads
        at the target, hover with the tie and its citation) and one marker trace per
        actor group. ``fig.layout.meta['alt']`` is the caption; :func:`describe` gives
        the table of ties.

    Raises
    ------
    kzcourse.errors.ChoiceError
        For an unknown phase, centrality or relation type.

    Examples
    --------
    >>> fig = network_figure("after", size_by="betweenness")
    >>> sorted({t.meta["role"] for t in fig.data})
    ['edges', 'labels', 'leaders', 'nodes']
    >>> network_figure("after", size_by="fame")
    Traceback (most recent call last):
    ...
    kzcourse.errors.ChoiceError: Unknown centrality 'fame' (str). Valid choices: 'betweenness', 'degree', 'in_degree', 'out_degree'. Node sizes can follow one of the columns of kzcourse.network.centrality_table.
    """
    network.check_phase(phase)
    _check_size_by(size_by)
    kinds = check_choices(relations, network.relation_types(folder), what="relation type")
    graph = network.actor_graph(phase, kinds if relations is not None else None, folder=folder)
    pos = circle_layout(folder)
    sizes = _sizes(graph, size_by)
    geometry = _edge_geometry(graph, pos, sizes)
    axes = dict(xaxis="x", yaxis="y")
    traces = _edge_traces(graph, geometry, relations=kinds, shown=set(), axes=axes)
    traces += _node_traces(graph, pos, sizes, size_by, shown=set(), axes=axes)
    labels = _graph_labels(graph, pos, sizes)
    traces += _label_traces(graph, labels, pos, axes=axes)
    meta = {"alt": _network_caption(graph, f"phase '{phase}' ({network.PHASE_LABELS[phase]})"),
            "builder": "network_figure", "phase": phase, "relations": kinds if relations is not None else None}
    layout = _base_layout(f"Who was tied to whom: {network.PHASE_LABELS[phase]}", meta, folder=folder, template={},
                          shapes=_group_shapes(graph, pos, "x", "y"))
    xrange, yrange = _frame(labels.values(), [pos[n] for n in graph.nodes], [sizes[n] for n in graph.nodes])
    _axis_frame(traces, layout, xrange, yrange)
    return _built_figure(traces, layout)


def phase_comparison_figure(
    phases: Sequence[str] | None = None, size_by: str = "degree", *, folder: str | Path | None = None
) -> "go.Figure":
    """Draw the network side by side in several phases, with the changes marked.

    Every panel puts the same actors at the same positions. From the second panel
    on, ties *made* since the previous panel get a yellow halo, and ties *cut*
    since then are drawn as grey dotted lines with a cross at their middle, so
    both what appeared and what disappeared are visible.

    Parameters
    ----------
    phases : list of str, optional
        Phases to show, left to right; by default all of :data:`kzcourse.network.PHASES`.
    size_by : str
        Centrality that sets node size (per phase).

    Examples
    --------
    >>> fig = phase_comparison_figure()
    >>> [a.text for a in fig.layout.annotations][:1]
    ['Before (to 4 Jan 2022)']
    >>> phase_comparison_figure(["before", "durng"])
    Traceback (most recent call last):
    ...
    kzcourse.errors.ChoiceError: Unknown phase 'durng' (str). Valid choices: 'after', 'before', 'crisis'.
    """
    chosen = check_choices(phases, network.PHASES, what="phase")
    _check_size_by(size_by)
    pos = circle_layout(folder)
    frames: list[tuple[list[float], list[float]]] = []
    shown: set[str] = set()
    previous = None
    summary = []
    traces: list[dict[str, Any]] = []
    shapes: list[dict[str, Any]] = []
    for col, phase in enumerate(chosen, start=1):
        suffix = "" if col == 1 else str(col)
        axes = dict(xaxis=f"x{suffix}", yaxis=f"y{suffix}")
        graph = network.actor_graph(phase, folder=folder)
        sizes = _sizes(graph, size_by)
        cut: list[tuple[str, str, str, dict]] = []
        made: set[str] = set()
        if previous is not None:
            now = {k for _, _, k in graph.edges(keys=True)}
            before = {k: (u, v, d) for u, v, k, d in previous.edges(keys=True, data=True)}
            made = now - set(before)
            cut = [(u, v, k, d) for k, (u, v, d) in sorted(before.items()) if k not in now]
        geometry = _edge_geometry(graph, pos, sizes, extra=[(u, v, k) for u, v, k, _ in cut])
        if previous is not None:
            hx, hy, ht = [], [], []
            for k in sorted(made):
                u, v = next((a, b) for a, b, key in graph.edges(keys=True) if key == k)
                gx, gy = geometry[k]
                hx += [*gx, None]
                hy += [*gy, None]
                note = f"made since phase '{chosen[col - 2]}'"
                ht += ["", _edge_hover(graph, u, v, graph.edges[u, v, k], note), "", ""]
            traces.append(_scatter(
                x=hx or [None], y=hy or [None], mode="lines", name="Tie made since the previous panel",
                legendgroup="made", showlegend="made" not in shown, legendgrouptitle=dict(text="Changes"),
                line=dict(color=_HIGHLIGHT, width=10), opacity=0.7, legendrank=1, hovertext=ht or None, hoverinfo=["none", "text", "none", "none"] * (len(hx) // 4) or "none",
                meta={"role": "made", "phase": phase, "since": chosen[col - 2]}, uid=_uid("made", phase), **axes,
            ))
            cx, cy, ct, cs = [], [], [], []
            for u, v, k, d in cut:
                gx, gy = geometry[k]
                note = f"cut: held in phase '{chosen[col - 2]}', not in '{phase}'"
                cx += [*gx, None]
                cy += [*gy, None]
                ct += ["", _edge_hover(previous, u, v, d, note), "", ""]
                cs += [0, 9, 0, 0]
            traces.append(_scatter(
                x=cx or [None], y=cy or [None], mode="lines+markers", name="Tie cut since the previous panel",
                legendgroup="cut", showlegend="cut" not in shown, legendrank=2,
                line=dict(color=_CUT, width=1.5, dash="dot"),
                marker=dict(symbol="x-thin", size=cs or 0, color=_CUT, line=dict(color=_CUT, width=2)),
                hovertext=ct or None, hoverinfo=["none", "text", "none", "none"] * (len(cx) // 4) or "none", meta={"role": "cut", "phase": phase, "since": chosen[col - 2]}, uid=_uid("cut", phase),
                **axes,
            ))
            shown.update({"made", "cut"})
            summary.append(f"{chosen[col - 2]} → {phase}: {_count(len(made), 'tie')} made, {len(cut)} cut")
        for trace in _edge_traces(graph, geometry, relations=network.relation_types(folder), shown=shown, axes=axes):
            traces.append({**trace, "meta": {**trace["meta"], "phase": phase}})
        for trace in _node_traces(graph, pos, sizes, size_by, shown=shown, axes=axes):
            traces.append({**trace, "meta": {**trace["meta"], "phase": phase}})
        labels = _graph_labels(graph, pos, sizes)
        for trace in _label_traces(graph, labels, pos, axes=axes):
            traces.append({**trace, "meta": {**trace["meta"], "phase": phase}})
        frames.append(_frame(labels.values(), [pos[n] for n in graph.nodes], [sizes[n] for n in graph.nodes]))
        shapes += _group_shapes(graph, pos, f"x{suffix}", f"y{suffix}")
        previous = graph
    alt = (
        f"The actors' network in {len(chosen)} phases, one panel below the other ({', '.join(chosen)}), every actor at the "
        f"same place in each panel. {'; '.join(summary) or 'No changes shown'}. Ties made since the previous "
        "panel have a yellow halo; ties cut are grey dotted lines with a cross. The table lists every tie and "
        "the phases it holds in."
    )
    meta = {"alt": alt, "builder": "phase_comparison_figure", "phases": chosen}
    layout = _base_layout("Ties cut and made as the crisis unfolded", meta, folder=folder, template={}, shapes=shapes)
    xrange, yrange = _union(f[0] for f in frames), _union(f[1] for f in frames)
    title_px = 34.0
    _axis_frame(traces, layout, xrange, yrange, panels=len(chosen), title_px=title_px)
    layout["annotations"] = [
        dict(text=network.PHASE_LABELS[phase], xref="paper", yref="paper", x=0.0, xanchor="left",
             y=layout["yaxis" if i == 1 else f"yaxis{i}"]["domain"][1], yanchor="bottom", showarrow=False,
             font=dict(size=15, color="#222222"))
        for i, phase in enumerate(chosen, start=1)
    ]
    return _built_figure(traces, layout)


def ego_figure(
    actor_id: str, phase: str, radius: int = 1, size_by: str = "degree", *, folder: str | Path | None = None
) -> "go.Figure":
    """Draw one actor's ego network: the actor in the middle, actors one tie away on the first ring, and so on.

    Parameters
    ----------
    actor_id : str
        An ``actor_id`` of ``actors.csv``.
    phase : str
        One of :data:`kzcourse.network.PHASES`.
    radius : int
        How many ties away to go (1, 2 or 3).
    size_by : str
        Centrality, within the ego network, that sets node size.

    Examples
    --------
    >>> ego_figure("nobody", "crisis")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    kzcourse.errors.ChoiceError: Unknown actor id 'nobody' (str)...
    """
    _check_size_by(size_by)
    graph = network.ego_graph(actor_id, phase, radius, folder=folder)
    pos = _ego_layout(graph)
    sizes = _sizes(graph, size_by)
    rings = max((d["distance"] for _, d in graph.nodes(data=True)), default=0)
    scale = 60.0 + 110.0 * max(rings, 1)  # pixels per unit: the outer ring is at 1, a ring every 110 px
    axes = dict(xaxis="x", yaxis="y")
    traces = _edge_traces(graph, _edge_geometry(graph, pos, sizes, scale=scale), relations=network.relation_types(folder),
                          shown=set(), axes=axes)
    traces += _node_traces(graph, pos, sizes, size_by, shown=set(), axes=axes, centre=actor_id)
    labels = _graph_labels(graph, pos, sizes, scale=scale)
    traces += _label_traces(graph, labels, pos, axes=axes)
    name = graph.nodes[actor_id]["name"]
    alt = _network_caption(graph, f"within {radius} tie{'s' if radius > 1 else ''} of {name}, phase '{phase}'")
    alt = alt.replace("Actors sit in sectors by group", f"{name} is in the middle; rings show distance in ties")
    meta = {"alt": alt, "builder": "ego_figure", "actor_id": actor_id, "phase": phase, "radius": radius}
    layout = _base_layout(f"{name}'s ties: {network.PHASE_LABELS[phase]}", meta, folder=folder, template={})
    xrange, yrange = _frame(labels.values(), [pos[n] for n in graph.nodes], [sizes[n] for n in graph.nodes], scale=scale)
    # Room for the title and the legend, whatever the size of the network.
    yrange = [yrange[0], max(yrange[1], yrange[0] + 420 / scale)]
    _axis_frame(traces, layout, xrange, yrange, scale=scale)
    return _built_figure(traces, layout)


# --------------------------------------------------------------------------- timeline
def _events_in_window(folder: str | Path | None) -> "pd.DataFrame":
    from kzcourse import queries

    events = queries.january_events(folder=folder)  # the after phase (queries.after_events) is not on this axis
    places = data.load("places", folder).set_index("place_id")["name"]
    actors = data.load("actors", folder).set_index("actor_id")["name"]
    events["place"] = [places.get(p, p) for p in events["place_id"]]
    events["actors"] = [
        actors.get(a, a) + (f" → {actors.get(b, b)}" if b else "") for a, b in zip(events["actor1"], events["actor2"])
    ]
    return events


def timeline_table(*, folder: str | Path | None = None) -> "pd.DataFrame":
    """Return the events of 1-19 January 2022 as a readable table: the timeline's text alternative.

    >>> list(timeline_table().columns)
    ['event_id', 'date', 'phase', 'event_type', 'sub_event_type', 'place', 'actors', 'fatalities', 'notes', 'citation']
    """
    import pandas as pd

    events = _events_in_window(folder)
    readable = data.citer(folder)
    phase_of = [next(p for p in network.PHASES if network.overlaps_phase(d.date(), d.date(), p)) for d in events["event_date"]]
    columns = ["event_id", "date", "phase", "event_type", "sub_event_type", "place", "actors", "fatalities", "notes", "citation"]
    return pd.DataFrame(
        {
            "event_id": events["event_id"], "date": [d.date().isoformat() for d in events["event_date"]],
            "phase": phase_of, "event_type": events["event_type"], "sub_event_type": events["sub_event_type"],
            "place": events["place"], "actors": events["actors"], "fatalities": events["fatalities"],
            "notes": events["notes"], "citation": [readable(c) for c in events["cite"]],
        },
        columns=columns,
    )


def timeline_figure(y: str = "event_type", *, folder: str | Path | None = None) -> "go.Figure":
    """Draw the events of 1-19 January 2022 on a timeline, with the phases shaded.

    Parameters
    ----------
    y : str
        What the rows are: ``'event_type'`` (ACLED event type) or ``'place'``.
    folder : str or Path, optional
        A folder holding a copy of the data files; by default the packaged data.

    Returns
    -------
    plotly.graph_objects.Figure
        One marker trace per ACLED event type (colour from
        :data:`kzcourse._style.EVENT_TYPE_COLOURS` and a shape per type), events of
        the same day and row stacked, hover with notes and citation, and the three
        phases of :data:`kzcourse.network.PHASES` as shaded bands.

    Examples
    --------
    >>> fig = timeline_figure()
    >>> [s.name for s in fig.layout.shapes if s.type == "rect"]
    ['phase:before', 'phase:crisis', 'phase:after']
    >>> timeline_figure(y="city")
    Traceback (most recent call last):
    ...
    kzcourse.errors.ChoiceError: Unknown timeline axis 'city' (str). Valid choices: 'event_type', 'place'.
    """
    import pandas as pd

    check_choice(y, TIMELINE_AXES, what="timeline axis")
    events = _events_in_window(folder)
    table = timeline_table(folder=folder)
    if y == "event_type":
        rows = [t for t in EVENT_TYPE_COLOURS if t in set(events["event_type"])]
        rows += sorted(set(events["event_type"]) - set(rows))
    else:
        rows = list(dict.fromkeys(events["place"]))  # first-seen order: by date
        if len(rows) > TIMELINE_MAX_ROWS:  # the busiest places keep a row; the others share one, named in the hover
            busiest = events["place"].value_counts(sort=False)
            ranked = sorted(rows, key=lambda r: (-int(busiest[r]), rows.index(r)))[:TIMELINE_MAX_ROWS - 1]
            others = [r for r in rows if r not in ranked]
            other_row = f"{len(others)} other places"
            events["place"] = [p if p in ranked else other_row for p in events["place"]]
            rows = [r for r in rows if r in ranked] + [other_row]
    row_of = {r: i for i, r in enumerate(rows)}
    ys: list[float] = []
    counts = events.groupby([events["event_date"], events[y]], sort=False).size()
    seen: dict[tuple, int] = {}
    most = int(counts.max()) if len(counts) else 1
    step = min(0.25, 0.85 / most)  # the same spacing everywhere; rows grow with the tallest stack
    for date, key in zip(events["event_date"], events[y]):
        m = int(counts[(date, key)])
        k = seen.get((date, key), 0)
        seen[(date, key)] = k + 1
        ys.append(row_of[key] - (k - (m - 1) / 2) * step)
    events["y"] = ys
    traces = []
    for etype in [t for t in EVENT_TYPE_COLOURS if t in set(events["event_type"])] + sorted(set(events["event_type"]) - set(EVENT_TYPE_COLOURS)):
        sel = events["event_type"] == etype
        hovers = []
        for (_, e), (_, t) in zip(events[sel].iterrows(), table[sel.to_numpy()].iterrows()):
            lines = [f"<b>{e['event_date']:%d %b %Y} · {html.escape(etype)}</b> ({html.escape(e['sub_event_type'])})",
                     f"{html.escape(t['place'])} · {html.escape(e['actors'])}"]
            if not pd.isna(e["fatalities"]):
                lines.append(f"Fatalities reported: {e['fatalities']}")
            lines += _wrap(html.escape(e["notes"]))
            lines += _wrap("Source: " + html.escape(t["citation"]))
            lines.append(f"<i>{e['event_id']}</i>")
            hovers.append("<br>".join(lines))
        colour, symbol = event_style(etype).colour, event_style(etype).chart_symbol
        traces.append(_scatter(
            x=[d.date().isoformat() for d in events.loc[sel, "event_date"]], y=list(events.loc[sel, "y"]),
            mode="markers", name=etype, customdata=list(events.loc[sel, "event_id"]),
            marker=dict(color=colour, symbol=symbol, size=13, line=dict(color="white" if "open" not in symbol else colour, width=1)),
            hovertext=hovers, hoverinfo="text", meta={"role": "events", "event_type": etype}, uid=_uid("events", etype),
        ))
    shapes = []
    annotations = []
    bands = {"before": ("2021-12-31 12:00", "2022-01-04 12:00", "#F2F2F2"),
             "crisis": ("2022-01-04 12:00", "2022-01-19 12:00", "#DEDEDE"),
             "after": ("2022-01-19 12:00", "2022-01-21 12:00", "#F2F2F2")}
    for phase, (x0, x1, fill) in bands.items():
        shapes.append(dict(type="rect", name=f"phase:{phase}", xref="x", yref="paper", x0=x0, x1=x1, y0=0, y1=1,
                           fillcolor=fill, line=dict(width=0), layer="below"))
        annotations.append(dict(xref="x", yref="paper", x=x0, y=1.0, xanchor="left", yanchor="bottom",
                                text=f"<b>{phase}</b>", showarrow=False, font=dict(size=11, color="#444444")))
    for x in ("2022-01-04 12:00", "2022-01-19 12:00"):
        shapes.append(dict(type="line", name="phase boundary", xref="x", yref="paper", x0=x, x1=x, y0=0, y1=1,
                           line=dict(color="#666666", width=1, dash="dash"), layer="below"))
    per_type = events["event_type"].value_counts()
    alt = (
        f"Timeline of {len(events)} events from 1 to 19 January 2022, one row per "
        f"{'ACLED event type' if y == 'event_type' else 'place'}, coloured and shaped by event type "
        f"({', '.join(f'{t}: {per_type[t]}' for t in per_type.index) or 'no events yet'}). Shaded bands mark the "
        "phases: before (to 4 January), crisis (5-19 January) and after. The table of events (with citations) is "
        "the text alternative."
    )
    if rows and rows[-1].endswith(" other places"):
        alt += f" The {TIMELINE_MAX_ROWS - 1} places with most events have a row each; the {rows[-1]} share the last row."
    meta = {"alt": alt, "builder": "timeline_figure", "y": y}
    layout = _base_layout("Events of 1-19 January 2022", meta, folder=folder, shapes=shapes, annotations=annotations)
    # Rows shrink (stacks get tighter) before the chart outgrows a screen, so the date axis stays in view.
    layout.update(height=min(TIMELINE_MAX_HEIGHT, max(360, 140 + max(55, 16 * most) * len(rows))),
                  margin=dict(l=10, r=10, t=80, b=40))
    fig = _figure_class()(traces, layout=layout)
    fig.update_xaxes(type="date", range=["2021-12-31 12:00", "2022-01-21 12:00"], dtick=86400000,
                     tickformat="%d %b", showgrid=False, linecolor="#444444", title_text="Date (January 2022)")
    fig.update_yaxes(tickvals=list(range(len(rows))), ticktext=rows, range=[len(rows) - 0.5, -0.5],
                     showgrid=True, gridcolor="#E5E5E5", zeroline=False, automargin=True)
    return fig


# --------------------------------------------------------------------------- text alternatives and export
def describe(fig: "go.Figure") -> Description:
    """Return the text alternative of a kzcourse figure: its caption and the table behind it.

    The result is a :class:`kzcourse._alt.Description`, the same type
    :func:`kzcourse.maps.describe` returns: a notebook shows it as a caption above a
    table, and it unpacks as ``caption, table``.

    Network figures give the table of their ties (:func:`kzcourse.network.edge_table`),
    the phase comparison every tie with one yes/no column per phase, the timeline
    the table of events (:func:`timeline_table`).

    Raises
    ------
    kzcourse.errors.ChoiceError
        If ``fig`` was not made by a kzcourse builder.

    Examples
    --------
    >>> caption, table = describe(timeline_figure())
    >>> caption.startswith("Timeline of")
    True
    """
    import pandas as pd

    meta = fig.layout.meta if isinstance(fig.layout.meta, dict) else {}
    builders = ("network_figure", "phase_comparison_figure", "ego_figure", "timeline_figure")
    check_choice(meta.get("builder"), builders, what="figure builder",
                 hint="describe() works on figures made by kzcourse.charts builders.")
    folder = meta.get("folder")
    if meta["builder"] == "network_figure":
        table = network.edge_table(network.actor_graph(meta["phase"], meta.get("relations"), folder=folder))
    elif meta["builder"] == "ego_figure":
        table = network.edge_table(network.ego_graph(meta["actor_id"], meta["phase"], meta["radius"], folder=folder))
    elif meta["builder"] == "timeline_figure":
        table = timeline_table(folder=folder)
    else:
        parts = {p: network.edge_table(network.actor_graph(p, folder=folder)) for p in meta["phases"]}
        table = pd.concat(parts.values(), ignore_index=True).drop_duplicates("relation_id")
        table = table.sort_values("relation_id", kind="stable").reset_index(drop=True)
        for p, part in parts.items():
            table[p] = table["relation_id"].isin(part["relation_id"])
    return Description(meta["alt"], table)


def to_html(fig: "go.Figure", path: str | Path) -> Path:
    """Write ``fig`` to a self-contained HTML page: plotly.js inlined, caption and data table included.

    The page needs no network access (no CDN), so it opens offline and can be
    handed out as a file.

    Parameters
    ----------
    fig : plotly.graph_objects.Figure
        A figure from one of this module's builders.
    path : str or Path
        Where to write the ``.html`` file; its folder must exist.

    Returns
    -------
    pathlib.Path
        The path written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = to_html(timeline_figure(), pathlib.Path(tempfile.mkdtemp()) / "timeline.html")
    >>> text = out.read_text(encoding="utf-8")
    >>> '<script src="http' in text, "<figcaption>" in text   # plotly.js is inline, not from a CDN
    (False, True)
    """
    import plotly.io as pio

    caption, table = describe(fig)
    builder = fig.layout.meta["builder"]
    div = pio.to_html(fig, include_plotlyjs=True, full_html=False, div_id=f"kzcourse-{builder}",
                      config={"displaylogo": False, "responsive": True})
    page = (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{html.escape(fig.layout.title.text or builder)}</title>\n"
        "<style>body{font-family:Arial,Helvetica,sans-serif;margin:1em;} figcaption{max-width:60em;margin:.5em 0;}"
        " table{border-collapse:collapse;font-size:0.85em;} td,th{border:1px solid #ccc;padding:2px 6px;}</style>\n"
        "</head>\n<body>\n<figure>\n" + div + f"\n<figcaption>{html.escape(caption)}</figcaption>\n</figure>\n"
        "<details>\n<summary>Data table (text alternative)</summary>\n"
        + table.to_html(index=False, escape=True, border=0, na_rep="")
        + "\n</details>\n</body>\n</html>\n"
    )
    path = Path(path)
    path.write_text(page, encoding="utf-8")
    return path
