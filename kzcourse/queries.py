"""Questions the lessons, maps and charts ask of the dataset, answered as tables.

This module belongs to the data layer: it reads the validated tables of
:mod:`kzcourse.data` and returns new pandas DataFrames; it draws nothing.
:mod:`kzcourse.maps` draws what these functions compute, and lessons call them
directly, so a map and the exercise about it always agree.

=========================  =====================================================
query                      what it answers
=========================  =====================================================
:func:`january_events`    the events of 1-19 January, which the maps and January charts show
:func:`after_events`      the events after the crisis (the "after" phase, through 2023)
:func:`almaty_visible`     which Almaty places and events are on the map by a day
:func:`protest_spread`     where protests began, and when they reached each city
:func:`contingents`        which states sent troops, and how many (``figures``)
:func:`alliance_force`     the size of the whole CSTO force (``figures``)
:func:`figures_of`         the reported numbers about one thing (troops, dead...)
=========================  =====================================================

Every number comes from the ``figures`` table, never from the wording of a note:

>>> from kzcourse import queries
>>> sizes = queries.contingents().set_index("actor_id")
>>> int(sizes.loc["kyrgyzstan", "troops"]), sizes.loc["kyrgyzstan", "kind"]
(150, 'announced')
"""
from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kzcourse._validate import FIRST_DAY, LAST_DAY, check_choice, check_choices, check_day

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "ALMATY",
    "KIND_PRECEDENCE",
    "SPREAD_EVENT_TYPES",
    "after_events",
    "all_event_types",
    "alliance_force",
    "almaty_visible",
    "contingents",
    "figures_of",
    "january_events",
    "protest_spread",
]

#: place_id of the city the Almaty map is about.
ALMATY = "almaty"
#: Event types whose first occurrence in a city counts as the protests reaching it.
SPREAD_EVENT_TYPES: tuple[str, ...] = ("Protests", "Riots")
#: Which figure stands for a contingent when several are given: earlier kinds first
#: (an authority's count after the fact, then its revision, then a plan, then hearsay);
#: a retracted number never stands.
KIND_PRECEDENCE: tuple[str, ...] = ("official", "revised", "announced", "reported", "estimate")


def _table(name: str, folder: str | Path | None) -> "pd.DataFrame":
    """One table of ``folder``, shared and read-only: queries never change it, they build new frames."""
    from kzcourse import data

    return data._shared_frame(name, folder)


def all_event_types(folder: str | Path | None = None) -> list[str]:
    """The ACLED event types the events table allows, in the schema's order.

    >>> all_event_types()[:2]
    ['Protests', 'Riots']
    """
    from kzcourse import data

    field = next(f for f in data.schema("events", folder)["fields"] if f["name"] == "event_type")
    return list(field["constraints"]["enum"])


def _in_window(events: "pd.DataFrame") -> "pd.DataFrame":
    """Events of 1-19 January 2022, in date order (ties by id)."""
    import pandas as pd

    window = events.loc[(events["event_date"] >= pd.Timestamp(FIRST_DAY)) & (events["event_date"] <= pd.Timestamp(LAST_DAY))]
    return window.sort_values(["event_date", "event_id"], kind="stable")


def january_events(*, folder: str | Path | None = None) -> "pd.DataFrame":
    """The events of 1-19 January 2022 (the crisis and the days before it), in date order, ties by id.

    This is the window the Almaty map, the spread map and the January timeline draw:
    events after 19 January (:func:`after_events`) are left out of them, so a
    day slider or a date axis of January never stretches to 2023.

    Returns
    -------
    pandas.DataFrame
        The matching rows of ``events`` (a copy, index reset).

    Examples
    --------
    >>> jan = january_events()
    >>> str(jan["event_date"].min().date()), str(jan["event_date"].max().date())
    ('2022-01-01', '2022-01-19')
    """
    return _in_window(_table("events", folder)).reset_index(drop=True)


def after_events(*, folder: str | Path | None = None) -> "pd.DataFrame":
    """The events after the crisis: dated after 19 January 2022, in date order, ties by id.

    These make the "after" phase (:data:`kzcourse.network.PHASES` starts it on
    20 January 2022): the officials' admissions of torture, the referendum, the
    St Petersburg forum, the amnesty, the elections and Masimov's sentence.

    Returns
    -------
    pandas.DataFrame
        The matching rows of ``events`` (a copy, index reset), with a ``place``
        column (the place's name) and ``days_after_article``, the days from the
        seed article's date (:data:`kzcourse.data.ARTICLE_DATE`) to the event.

    Examples
    --------
    >>> after = after_events()
    >>> bool((after["event_date"] > "2022-01-19").all()), bool(after["days_after_article"].is_monotonic_increasing)
    (True, True)
    >>> after.set_index("event_id").loc["KAZ082", ["event_date", "place"]].tolist()
    [Timestamp('2022-06-05 00:00:00'), 'Nur-Sultan (Astana)']
    """
    import pandas as pd
    from kzcourse import data

    events = _table("events", folder)
    later = events.loc[events["event_date"] > pd.Timestamp(LAST_DAY)].sort_values(["event_date", "event_id"], kind="stable")
    later = later.reset_index(drop=True)
    names = _table("places", folder).set_index("place_id")["name"]
    later["place"] = [names.get(p, p) for p in later["place_id"]]
    later["days_after_article"] = [(d.date() - data.ARTICLE_DATE).days for d in later["event_date"]]
    return later


# --------------------------------------------------------------------------- Almaty
def almaty_state(day: _dt.date | None, types: list[str], folder: str | Path | None = None):
    """The Almaty places, their events of 1-19 January, and those of ``types`` up to ``day``.

    Returns three DataFrames ``(in_city, window, chosen)``: the city and its sites; every
    event there in 1-19 January; the events of the chosen types on or before ``day``.
    """
    import pandas as pd

    places = _table("places", folder)
    in_city = places.loc[(places["place_id"] == ALMATY) | (places["within"] == ALMATY)]
    window = _in_window(_table("events", folder))
    window = window.loc[window["place_id"].isin(in_city["place_id"])]
    chosen = window.loc[window["event_type"].isin(types)]
    if day is not None:
        chosen = chosen.loc[chosen["event_date"] <= pd.Timestamp(day)]
    return in_city, window, chosen


def visible_rows(in_city, window, chosen, unfiltered: bool) -> list[tuple]:
    """(layer, id, name, first_day, lat, lon) per marker, by the rule in :func:`almaty_visible`."""
    import pandas as pd

    first: dict[str, Any] = {}
    for pid, date in zip(chosen["place_id"], chosen["event_date"]):
        first.setdefault(pid, date)
    dated = set(window["place_id"])
    rows = []
    for place in in_city.sort_values(["kind", "place_id"]).itertuples(index=False):
        if place.place_id == ALMATY:
            rows.append(("city", place.place_id, place.name, pd.NaT, place.lat, place.lon))
        elif place.place_id in first:
            rows.append(("sites", place.place_id, place.name, first[place.place_id], place.lat, place.lon))
        elif unfiltered and place.place_id not in dated:
            rows.append(("sites", place.place_id, place.name, pd.NaT, place.lat, place.lon))
    for e in chosen.itertuples(index=False):
        rows.append(("events", e.event_id, f"{e.event_type}: {e.sub_event_type}", e.event_date, e.latitude, e.longitude))
    return rows


def almaty_visible(day: Any = None, event_types: Iterable[str] | None = None, *, folder: str | Path | None = None) -> "pd.DataFrame":
    """Which places and events the Almaty map shows for ``day`` and ``event_types``.

    The rule: the city is always shown; a site is shown once one of its events
    (of the chosen types) has happened; a site with no event in 1-19 January is
    shown only when every event type is chosen (it is context, not an event);
    an event is shown from its day on.

    Parameters
    ----------
    day : int, str or datetime.date, optional
        A day of 1-19 January 2022; ``None`` means all of them.
    event_types : str or list of str, optional
        ACLED event types to keep; ``None`` means all.
    folder : str or Path, optional
        A folder with a copy of the data files (as for :func:`kzcourse.data.load`).

    Returns
    -------
    pandas.DataFrame
        One row per marker: ``layer`` ('city', 'sites' or 'events'), ``id``
        (place_id or event_id), ``name``, ``first_day`` (the day it appears; NaT
        for always-shown markers), ``lat``, ``lon``.

    Examples
    --------
    >>> v = almaty_visible(day=5)
    >>> list(v.columns)
    ['layer', 'id', 'name', 'first_day', 'lat', 'lon']
    >>> v.loc[v["layer"] == "city", "id"].tolist()
    ['almaty']
    """
    import pandas as pd

    day_ = None if day is None else check_day(day)
    all_types = all_event_types(folder)
    types = check_choices(event_types, all_types, what="event type")
    rows = visible_rows(*almaty_state(day_, types, folder), unfiltered=set(types) == set(all_types))
    return pd.DataFrame(rows, columns=["layer", "id", "name", "first_day", "lat", "lon"])


# --------------------------------------------------------------------------- spread
def _city_of(places: "pd.DataFrame") -> dict[str, str]:
    """place_id -> the city it lies in (itself for cities, capitals and regions)."""
    return {p: (w if w else p) for p, w in zip(places["place_id"], places["within"])}


def protest_spread(*, folder: str | Path | None = None) -> "pd.DataFrame":
    """The first protest or riot in each city, from ``events.csv``, in date order.

    Events at a site count for the city the site lies in (``places.within``).

    Returns
    -------
    pandas.DataFrame
        Columns ``place_id``, ``name``, ``first_day`` (Timestamp), ``event_id``,
        ``event_type``, ``notes``, ``cite``, ``lat``, ``lon``, ``origin`` (True for
        the cities where protests began: those with the earliest date).

    Examples
    --------
    >>> spread = protest_spread()
    >>> list(spread.columns)[:4]
    ['place_id', 'name', 'first_day', 'event_id']
    >>> sorted(spread.loc[spread["origin"], "place_id"])
    ['aktau', 'zhanaozen']
    """
    import pandas as pd

    places = _table("places", folder)
    city = _city_of(places)
    ev = _in_window(_table("events", folder))
    ev = ev.loc[ev["event_type"].isin(SPREAD_EVENT_TYPES)].copy()
    ev["city"] = [city[p] for p in ev["place_id"]]
    ev = ev.drop_duplicates("city")
    by_id = places.set_index("place_id")
    out = pd.DataFrame(
        {
            "place_id": ev["city"].tolist(),
            "name": [by_id.loc[c, "name"] for c in ev["city"]],
            "first_day": pd.to_datetime(pd.Series(ev["event_date"].tolist(), dtype="datetime64[ns]")),
            "event_id": ev["event_id"].tolist(),
            "event_type": ev["event_type"].tolist(),
            "notes": ev["notes"].tolist(),
            "cite": ev["cite"].tolist(),
            "lat": [float(by_id.loc[c, "lat"]) for c in ev["city"]],
            "lon": [float(by_id.loc[c, "lon"]) for c in ev["city"]],
        }
    )
    out["origin"] = out["first_day"] == out["first_day"].min() if len(out) else pd.Series(dtype=bool)
    return out


# --------------------------------------------------------------------------- figures
def figures_of(counted: str, *, actor_id: str | None = None, place_id: str | None = None,
               folder: str | Path | None = None) -> "pd.DataFrame":
    """Every reported number of one kind (``counted``), oldest first, optionally for one actor or place.

    Parameters
    ----------
    counted : str
        A value of the ``figures`` table's ``counted`` vocabulary, such as
        ``'troops'``, ``'dead'`` or ``'detained'``.
    actor_id, place_id : str, optional
        Keep only the numbers that belong to this actor or place.

    Returns
    -------
    pandas.DataFrame
        The matching rows of ``figures`` (a copy), sorted by ``as_of`` and ``figure_id``.

    Examples
    --------
    >>> dead = figures_of("dead", actor_id="kazakhstan")
    >>> dead[["value", "kind"]].values.tolist()[:2]
    [[164.0, 'retracted'], [225.0, 'revised']]
    >>> figures_of("death")
    Traceback (most recent call last):
    ...
    kzcourse.errors.ChoiceError: Unknown counted 'death' (str). Did you mean 'dead'? Valid choices: 'attackers', 'attacks', 'border-length', 'criminal-cases', 'dead', 'dead-attackers', 'dead-in-custody', 'dead-security', 'detained', 'injured', 'injured-security', 'price', 'torture-cases', 'tortured', 'troops', 'vehicles'.
    """
    from kzcourse import data

    field = next(f for f in data.schema("figures", folder)["fields"] if f["name"] == "counted")
    check_choice(counted, field["constraints"]["enum"], what="counted")
    figures = _table("figures", folder)
    keep = figures["counted"] == counted
    if actor_id is not None:
        keep &= figures["actor_id"] == actor_id
    if place_id is not None:
        keep &= figures["place_id"] == place_id
    return figures.loc[keep].sort_values(["as_of", "figure_id"], kind="stable").reset_index(drop=True)


def _standing(figures: "pd.DataFrame") -> "pd.Series | None":
    """The figure that stands among ``figures``: best kind by :data:`KIND_PRECEDENCE`, then the latest."""
    rank = {k: i for i, k in enumerate(KIND_PRECEDENCE)}
    usable = figures.loc[figures["kind"].isin(rank) & figures["value"].notna()]
    if not len(usable):
        return None
    order = usable.assign(_rank=usable["kind"].map(rank)).sort_values(
        ["_rank", "as_of", "figure_id"], ascending=[True, False, True], kind="stable"
    )
    return order.iloc[0]


_FORCE_COLUMNS = ["troops", "kind", "figure_id", "given_by", "as_of", "figure_cite", "n_figures"]


def _force(figures: "pd.DataFrame") -> dict[str, Any]:
    best = _standing(figures)
    if best is None:
        return {"troops": None, "kind": "", "figure_id": "", "given_by": "", "as_of": None, "figure_cite": "",
                "n_figures": len(figures)}
    return {"troops": int(best["value"]), "kind": best["kind"], "figure_id": best["figure_id"],
            "given_by": best["given_by"], "as_of": best["as_of"], "figure_cite": best["cite"], "n_figures": len(figures)}


def _typed(out: "pd.DataFrame") -> "pd.DataFrame":
    import pandas as pd

    out["troops"] = pd.array(out["troops"].tolist(), dtype="Int64")
    out["as_of"] = pd.to_datetime(pd.Series(out["as_of"].tolist(), dtype="object")).astype("datetime64[ns]")
    out["n_figures"] = out["n_figures"].astype(int)
    return out


def contingents(*, folder: str | Path | None = None) -> "pd.DataFrame":
    """The foreign contingents sent to Kazakhstan, with the troop number the dataset stands by.

    A contingent is a ``sent-troops-to`` tie in ``relations.csv`` whose source is
    a state (``actors.kind == 'state'``). Its size comes from the ``figures``
    table (``counted == 'troops'``, ``actor_id`` the state): of that state's
    figures, the one of the best kind in :data:`KIND_PRECEDENCE` (official,
    revised, announced, reported, estimate; never a retracted one), and of
    those the latest. ``n_figures`` says how many troop figures the state has:
    more than one means sources disagree or the number changed — read them
    with ``figures_of('troops', actor_id=...)``.

    Returns
    -------
    pandas.DataFrame
        Columns ``actor_id``, ``country`` (ISO alpha-3), ``name``, ``troops``
        (nullable Int64; missing when no figure gives a number), ``kind``,
        ``figure_id``, ``given_by``, ``as_of``, ``figure_cite``, ``n_figures``,
        and the tie's ``relation_id``, ``notes``, ``cite``, ``valid_from``,
        ``valid_to``; largest contingent first.

    Examples
    --------
    >>> table = contingents()
    >>> list(table.columns)[:4]
    ['actor_id', 'country', 'name', 'troops']
    >>> armenia = table.set_index("actor_id").loc["armenia"]
    >>> int(armenia["troops"]), armenia["kind"], armenia["figure_id"]
    (100, 'official', 'F005')
    """
    import pandas as pd

    actors = _table("actors", folder).set_index("actor_id")
    relations = _table("relations", folder)
    troops = _table("figures", folder)
    troops = troops.loc[troops["counted"] == "troops"]
    rows = []
    for r in relations.loc[relations["relation"] == "sent-troops-to"].itertuples():
        actor = actors.loc[r.source]
        if actor["kind"] != "state":
            continue
        rows.append(
            {"actor_id": r.source, "country": actor["country"], "name": actor["name"],
             **_force(troops.loc[troops["actor_id"] == r.source]),
             "relation_id": r.relation_id, "notes": r.notes, "cite": r.cite, "valid_from": r.valid_from,
             "valid_to": r.valid_to}
        )
    columns = ["actor_id", "country", "name", *_FORCE_COLUMNS, "relation_id", "notes", "cite", "valid_from", "valid_to"]
    out = _typed(pd.DataFrame(rows, columns=columns))
    return out.sort_values(["troops", "country"], ascending=[False, True], na_position="last").reset_index(drop=True)


def alliance_force(*, folder: str | Path | None = None) -> "pd.DataFrame":
    """The ``sent-troops-to`` ties of alliances (the CSTO as a whole), with the size that stands.

    The size is chosen from the alliance's troop figures as in :func:`contingents`
    (an official count after the fact before an announcement).

    Examples
    --------
    >>> force = alliance_force()
    >>> force.loc[0, "actor_id"], int(force.loc[0, "troops"]), force.loc[0, "kind"]
    ('csto', 2030, 'official')
    """
    import pandas as pd

    actors = _table("actors", folder).set_index("actor_id")
    relations = _table("relations", folder)
    troops = _table("figures", folder)
    troops = troops.loc[troops["counted"] == "troops"]
    rows = [
        {"actor_id": r.source, "name": actors.loc[r.source, "name"], **_force(troops.loc[troops["actor_id"] == r.source]),
         "relation_id": r.relation_id, "notes": r.notes, "cite": r.cite}
        for r in relations.loc[relations["relation"] == "sent-troops-to"].itertuples()
        if actors.loc[r.source, "kind"] == "alliance"
    ]
    columns = ["actor_id", "name", *_FORCE_COLUMNS, "relation_id", "notes", "cite"]
    return _typed(pd.DataFrame(rows, columns=columns))
