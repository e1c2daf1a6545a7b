"""The actors' network charts: the fixed circle layout, label placement in pixels, and the three builders
(:func:`network_figure`, :func:`phase_comparison_figure`, :func:`ego_figure`)."""

from __future__ import annotations

import html
import math
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from kzcourse import data, network
from kzcourse._validate import check_choices
from kzcourse.charts._common import (
    _CUT,
    _HIGHLIGHT,
    _O,
    _base_layout,
    _check_size_by,
    _count,
    _merge,
    _person_label,
    _scatter,
    _uid,
    _wrap,
)
from kzcourse.charts._display import (
    _built_figure,
)

if TYPE_CHECKING:  # pragma: no cover
    import networkx as nx
    import pandas as pd
    import plotly.graph_objects as go


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
