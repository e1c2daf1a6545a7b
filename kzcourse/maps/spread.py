"""The spread map: where the protests began and spread, and the CSTO contingents."""
from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kzcourse import data, queries
from kzcourse.maps._draw import (
    _label_sides_by_zoom,
    _labels,
    _load,
    MapDescription,
    MarkerStyle,
    OKABE_ITO,
    _NE_ATTRIBUTION,
    _bbox_corners,
    _bind,
    _countries_layer,
    _country_points,
    _day_label,
    _esc,
    _finish,
    _fit,
    _kaz_point,
    _legend,
    _marker,
    _mercator_angle,
    _new_map,
    _short_day,
    _svg,
    resolve_offline,
)

if TYPE_CHECKING:  # pragma: no cover
    import folium
    import pandas as pd


# --------------------------------------------------------------------------- spread and CSTO
def _figure_text(t: Any) -> str:
    """'2,030 troops: official, given by ... on 13 January 2022' for a row of queries.contingents()."""
    return f"{int(t.troops):,} troops: {t.kind}, given by {t.given_by} on {_day_label(t.as_of)}"


#: Colours for the day protests reached a city: first day, the day after, later (with different shapes too).
_SPREAD_STYLES = (
    MarkerStyle(OKABE_ITO["vermillion"], "star", "Where protests began", 26),
    MarkerStyle(OKABE_ITO["orange"], "diamond", "Reached the next day", 20),
    MarkerStyle(OKABE_ITO["blue"], "circle", "Reached later", 16),
)


def _troops_target(troops: "pd.DataFrame", folder: str | Path | None) -> tuple[tuple[float, float], str]:
    """Where the arrows end: the place in Kazakhstan of the first event in which a contingent's state acts on Kazakhstan.

    In the packaged data that is Almaty, where the first CSTO plane landed (event KAZ035). Without
    such an event the arrows end at the middle of Kazakhstan, and the caption says so.
    """
    events = queries.january_events(folder=folder)
    places = _load("places", folder).set_index("place_id")
    senders = set(troops["actor_id"])
    hits = events.loc[events["actor1"].isin(senders) & (events["actor2"] == "kazakhstan")].sort_values(["event_date", "event_id"])
    for e in hits.itertuples():
        if e.place_id in places.index and places.loc[e.place_id, "country"] == "KAZ":
            return ((float(e.latitude), float(e.longitude)),
                    f"{places.loc[e.place_id, 'name']}, where the dataset has them arrive (event {e.event_id})")
    return _kaz_point(), "the middle of Kazakhstan (the dataset places no arrival)"


def spread_map(offline: bool | None = None, *, folder: str | Path | None = None) -> "folium.Map":
    """Where the protests began and spread, and the CSTO contingents sent to Kazakhstan.

    Cities are marked with the day of their first protest or riot in
    ``events.csv`` (:func:`kzcourse.queries.protest_spread`). Countries that sent troops
    (``relations.csv``, :func:`kzcourse.queries.contingents`) are shaded and joined to
    Kazakhstan by an arrow whose tooltip gives the number the ``figures`` table stands by, and its source.

    Parameters
    ----------
    offline : bool or None, default None
        None: online unless ``KZCOURSE_OFFLINE`` is set (see :func:`resolve_offline`).
        Inline a vendored Leaflet and use no tiles.
    folder : str or Path, optional
        A folder with a copy of the data files.

    Returns
    -------
    folium.Map

    Examples
    --------
    >>> from kzcourse.maps import describe
    >>> m = spread_map(offline=True)
    >>> describe(m).caption.startswith("How the protests spread")
    True
    """
    import folium
    import pandas as pd

    offline = resolve_offline(offline)
    places = _load("places", folder)
    spread = queries.protest_spread(folder=folder)
    troops = queries.contingents(folder=folder)
    cite = data.citer(folder)
    title = "How the protests spread, and the CSTO contingents"
    m = _new_map(offline=offline, title=title, location=(47.0, 60.0), zoom_start=3)
    shade = {code: OKABE_ITO["orange"] for code in troops["country"]}
    _countries_layer(highlight=shade).add_to(m)

    rows = []
    cities = folium.FeatureGroup(name="Protests by city", show=True)
    start = spread["first_day"].min() if len(spread) else None
    used_styles: set[int] = set()
    day_labels = []
    # Placed for each zoom the map may open at (a narrow notebook shows it at 3, a wide one at 4) and the
    # first zooms in: the labels switch placement with the zoom, so they never touch.
    by_zoom = _label_sides_by_zoom([(float(r.lat), float(r.lon)) for r in spread.itertuples()],
                                   [f"{r.name}, {_short_day(r.first_day)}" for r in spread.itertuples()])
    for r, placements in zip(spread.itertuples(), by_zoom):
        side, off = placements[4]
        lag = (r.first_day - start).days
        style = _SPREAD_STYLES[min(lag, 2)]
        used_styles.add(min(lag, 2))
        tip = f"{r.name}: first {r.event_type.lower()} on {_short_day(r.first_day)}"
        popup = (
            f'<div class="kz-popup"><h4>{_esc(r.name)} — {_esc(_day_label(r.first_day))}</h4>'
            f'<p>{_esc(r.notes)}</p><div class="kz-cite">Source: {_esc(cite(r.cite))}</div></div>'
        )
        _marker((r.lat, r.lon), style, tooltip=tip, popup=popup, css="kz-spread").add_to(cities)
        day_labels.append((r.lat, r.lon, f"{r.name}, {_short_day(r.first_day)}", "kz-place-label", side, off, placements))
        rows.append(
            {
                "what": "protests reached" if lag else "protests began",
                "where": r.name,
                "day": r.first_day.date().isoformat(),
                "number": pd.NA,
                "detail": f"{r.event_type}: {r.notes}",
                "source": cite(r.cite),
            }
        )
    cities.add_to(m)
    if day_labels:
        m.add_child(_labels(day_labels, name="KzSpreadLabels"))

    arrows = folium.FeatureGroup(name="CSTO contingents", show=True)
    target, landed = _troops_target(troops, folder)
    capitals = places.loc[places["kind"] == "capital"]
    centroids = _country_points(troops["country"])
    notes = []
    origins = []
    for t in troops.itertuples():
        cap = capitals.loc[(capitals["country"] == t.country)]
        origin = (float(cap.iloc[0]["lat"]), float(cap.iloc[0]["lon"])) if len(cap) else centroids.get(t.country)
        if origin is None:
            notes.append(f"No location for {t.name} ({t.country}): no capital in places.csv and no polygon shipped.")
            continue
        origins.append(origin)
        if pd.isna(t.troops):
            tip = f"{t.name}: sent troops; the dataset gives no number (source: {cite(t.cite)})"
        else:
            tip = f"{t.name}: {int(t.troops):,} troops (source: {cite(t.figure_cite)})"
        popup = (
            f'<div class="kz-popup"><h4>{_esc(t.name)} → Kazakhstan</h4><p>{_esc(t.notes)}</p>'
            f'<div class="kz-cite">Source: {_esc(cite(t.cite))}</div>'
            + (
                ""
                if pd.isna(t.troops)
                else f'<p>Size: {_esc(_figure_text(t))}</p><div class="kz-cite">Source: {_esc(cite(t.figure_cite))}</div>'
            )
            + "</div>"
        )
        line = folium.PolyLine(
            [list(origin), list(target)], color=OKABE_ITO["black"], weight=2.5, opacity=0.85, dash_array="6 4"
        )
        line.add_child(_bind(tip, popup))
        line.add_to(arrows)
        head = MarkerStyle(OKABE_ITO["black"], "arrowhead", "arrow", 18)
        _marker(target, head, tooltip=tip, popup=popup, rotate=_mercator_angle(origin, target), css="kz-arrowhead").add_to(arrows)
        rows.append(
            {
                "what": "troops sent",
                "where": t.name,
                "day": "" if pd.isna(t.valid_from) else pd.Timestamp(t.valid_from).date().isoformat(),
                "number": t.troops,
                "detail": t.notes if pd.isna(t.troops) else _figure_text(t),
                "source": cite(t.figure_cite or t.cite),
            }
        )
        if pd.isna(t.troops):
            notes.append(f"The dataset gives no troop number for {t.name}.")
    arrows.add_to(m)
    _fit(m, _bbox_corners("KAZ") + [(r.lat, r.lon) for r in spread.itertuples()] + origins)

    # The legend lists only what is drawn.
    entries = [(_svg(s.shape, s.colour, 16), s.label) for i, s in enumerate(_SPREAD_STYLES) if i in used_styles]
    entries.append(
        (
            f'<svg width="28" height="12" aria-hidden="true"><line x1="0" y1="6" x2="20" y2="6" stroke="#000" '
            f'stroke-width="2.5" stroke-dasharray="6 4"/><polygon points="28,6 18,1 20,6 18,11"/></svg>',
            "Troops sent to Kazakhstan (CSTO)",
        )
    )
    entries.append(
        (
            f'<svg width="18" height="12" aria-hidden="true"><rect width="18" height="12" fill="{OKABE_ITO["orange"]}" '
            f'fill-opacity=".35" stroke="#333" stroke-dasharray="4 3"/></svg>',
            "Country that sent troops",
        )
    )
    began = ", ".join(spread.loc[spread["origin"], "name"]) if len(spread) else ""
    caption = (
        f"{title}: "
        + (
            f"protests began in {began} on {_day_label(start)} and reached {len(spread) - int(spread['origin'].sum())} "
            f"more cities by {_day_label(spread['first_day'].max())}; "
            if len(spread)
            else "the dataset has no protest or riot events yet; "
        )
        + (
            f"{len(troops)} countries sent troops ({', '.join(troops['name'])}); the arrows end at {landed}."
            if len(troops)
            else "the dataset records no troops sent (relations.csv has no 'sent-troops-to' tie from a state)."
        )
    )
    for a in queries.alliance_force(folder=folder).itertuples():
        known = not pd.isna(a.troops)
        rows.append({"what": "whole force", "where": a.name, "day": "", "number": a.troops,
                     "detail": _figure_text(a) if known else a.notes, "source": cite(a.figure_cite or a.cite)})
        if known:
            caption += f" The dataset puts the {a.name}'s whole force at {int(a.troops):,} troops ({_figure_text(a)})."
    if not len(troops):
        notes.append("No CSTO contingents in relations.csv: the arrows are missing until the dataset records them.")
    m.add_child(_legend("Spread of the protests; CSTO", entries, _NE_ATTRIBUTION, caption))
    folium.LayerControl(collapsed=True).add_to(m)
    table = pd.DataFrame(rows, columns=["what", "where", "day", "number", "detail", "source"])
    table["number"] = pd.array(table["number"].tolist(), dtype="Int64")
    return _finish(m, MapDescription(caption, table, notes))
