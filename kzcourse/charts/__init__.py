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

The package: :mod:`~kzcourse.charts.networks` (the network builders, layout and label
placement), :mod:`~kzcourse.charts.timeline`, :mod:`~kzcourse.charts._display` (how a figure
shows itself, the HTML that draws offline, the Figure class) and :mod:`~kzcourse.charts._common`
(what they share); everything public is reached as ``kzcourse.charts.<name>``.

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

import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kzcourse import network
from kzcourse._alt import Description
from kzcourse._validate import check_choice
from kzcourse.charts._common import short_label
from kzcourse.charts._display import (
    _PLOTLY_MAJORS_CHECKED,
    _PLOTLY_RENDERER_HINTS,
    CHART_FALLBACK,
    _figure_class,
    figure_html,
    plotly_default_is_mimetype,
    plotly_mime_bundle,
)
from kzcourse.charts.networks import (
    GROUP_COLOURS,
    KIND_SYMBOLS,
    RELATION_FAMILIES,
    RELATION_STYLES,
    circle_layout,
    ego_figure,
    network_figure,
    phase_comparison_figure,
    place_labels,
)
from kzcourse.charts.timeline import (
    EVENT_TYPE_SYMBOLS,
    TIMELINE_AXES,
    TIMELINE_MAX_HEIGHT,
    TIMELINE_MAX_ROWS,
    timeline_figure,
    timeline_table,
)

__all__ = [
    "CHART_FALLBACK", "EVENT_TYPE_SYMBOLS", "GROUP_COLOURS", "KIND_SYMBOLS", "RELATION_FAMILIES", "RELATION_STYLES",
    "TIMELINE_AXES", "TIMELINE_MAX_HEIGHT", "TIMELINE_MAX_ROWS", "circle_layout", "describe", "ego_figure",
    "figure_html", "network_figure", "phase_comparison_figure", "place_labels", "plotly_default_is_mimetype",
    "plotly_mime_bundle", "short_label", "timeline_figure", "timeline_table", "to_html",
]

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go


def __getattr__(name: str) -> Any:
    # ``kzcourse.charts.Figure`` is made on first use, so that importing this module loads no plotly.
    if name == "Figure":
        return _figure_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
