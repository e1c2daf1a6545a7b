"""The timeline of events of 1-19 January 2022 (:func:`timeline_figure`) and its table."""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from kzcourse import data, network
from kzcourse._style import EVENT_STYLES, EVENT_TYPE_COLOURS, event_style
from kzcourse._validate import check_choice
from kzcourse.charts._common import (
    _base_layout,
    _scatter,
    _uid,
    _wrap,
)
from kzcourse.charts._display import (
    _figure_class,
)

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    import plotly.graph_objects as go


#: Marker shape of each ACLED event type on the timeline (from :data:`kzcourse._style.EVENT_STYLES`, as on the maps).
EVENT_TYPE_SYMBOLS: Mapping[str, str] = MappingProxyType({t: st.chart_symbol for t, st in EVENT_STYLES.items()})


#: Most rows of ``timeline_figure(y="place")``: the busiest places, then one row for all the others.
TIMELINE_MAX_ROWS = 10


#: Tallest timeline, in pixels (a laptop screen shows it with its date axis).
TIMELINE_MAX_HEIGHT = 760


#: What the timeline's y axis can show.
TIMELINE_AXES: tuple[str, ...] = ("event_type", "place")


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
