"""Expected contents of kzcourse's maps, computed from the data tables directly.

Shared by tests/test_maps.py, tests/test_explore_maps.py and the browser tests. The
rules are restated here from the builders' docstrings (not imported from them), so a
change to a builder's logic shows up as a failing test.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd

from kzcourse import data

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "maps_data"
FIRST, LAST = pd.Timestamp("2022-01-01"), pd.Timestamp("2022-01-19")


def fixture_folder(tmp: Path) -> Path:
    """Copy the map fixture CSVs plus the package's schema and article into ``tmp``."""
    tmp.mkdir(parents=True, exist_ok=True)
    for csv in FIXTURE.glob("*.csv"):
        shutil.copyfile(csv, tmp / csv.name)
    for name in ("datapackage.json", "article.txt"):
        shutil.copyfile(data.data_dir() / name, tmp / name)
    return tmp


def almaty_expected(folder, day=None, event_types=None, layers=("countries", "city", "sites", "events")) -> dict:
    """Marker counts per layer of almaty_map: city always; a site once an event (of the chosen
    types) happened there; a site with no event in 1-19 January only when all types are chosen;
    an event from its day on."""
    places = data.load("places", folder=folder)
    events = data.load("events", folder=folder)
    city = places.loc[places["place_id"] == "almaty"]
    sites = places.loc[places["within"] == "almaty"]
    ids = set(city["place_id"]) | set(sites["place_id"])
    window = events.loc[events["place_id"].isin(ids) & events["event_date"].between(FIRST, LAST)]
    all_types = {"Protests", "Riots", "Violence against civilians", "Battles", "Strategic developments"}
    if event_types is not None and set(event_types) == all_types:
        event_types = None
    chosen = window if event_types is None else window.loc[window["event_type"].isin(event_types)]
    if day is not None:
        chosen = chosen.loc[chosen["event_date"] <= pd.Timestamp(2022, 1, day)]
    n_sites = 0
    for pid in sites["place_id"]:
        if (chosen["place_id"] == pid).any():
            n_sites += 1
        elif event_types is None and not (window["place_id"] == pid).any():
            n_sites += 1
    counts = {"city": len(city), "sites": n_sites, "events": len(chosen)}
    return {k: (v if k in layers else 0) for k, v in counts.items()}


def spread_expected(folder) -> dict:
    """First protest/riot per city (sites count for their city) and state 'sent-troops-to' ties."""
    places = data.load("places", folder=folder)
    events = data.load("events", folder=folder)
    actors = data.load("actors", folder=folder).set_index("actor_id")
    relations = data.load("relations", folder=folder)
    city = {p: (w or p) for p, w in zip(places["place_id"], places["within"])}
    ev = events.loc[events["event_type"].isin(["Protests", "Riots"]) & events["event_date"].between(FIRST, LAST)]
    firsts = {}
    for e in ev.sort_values(["event_date", "event_id"]).itertuples():
        firsts.setdefault(city[e.place_id], e.event_date)
    sent = relations.loc[relations["relation"] == "sent-troops-to"]
    states = [r for r in sent.itertuples() if actors.loc[r.source, "kind"] == "state"]
    return {"cities": firsts, "contingents": states}


def border_places(folder) -> list[str]:
    places = set(data.load("places", folder=folder)["place_id"])
    groups = [("almaty",), ("nur_sultan", "astana", "nursultan"), ("zhanaozen",), ("aktau",), ("moscow",)]
    return [next(p for p in g if p in places) for g in groups if any(p in places for p in g)]


def popups(html: str) -> list[str]:
    """The HTML of every popup bound in a rendered map."""
    return [json.loads(s) for s in re.findall(r"\.bindPopup\((\"(?:[^\"\\]|\\.)*\"), \{maxWidth", html)]


def n_markers(html: str) -> int:
    """How many L.marker objects a rendered map creates."""
    return len(re.findall(r"= L\.marker\(", html))
