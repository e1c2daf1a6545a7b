"""Tests for kzcourse.maps: what each map shows (HTML level), offline mode, text
alternatives, bad input, and — marked ``browser`` — what headless Chromium renders
with every network request blocked."""
from __future__ import annotations

import html
import json
import re
import warnings

import folium
import pandas as pd
import pytest

from kzcourse import data, geo, maps, queries
from kzcourse.errors import ChoiceError, InputTypeError
from tests.browser.helpers import count, open_html
from tests.browser.maps_expect import (
    almaty_expected,
    border_places,
    fixture_folder,
    n_markers,
    popups,
    spread_expected,
)

ALL_LAYERS = ("countries", "city", "sites", "events")


@pytest.fixture(scope="module")
def fixture(tmp_path_factory):
    return fixture_folder(tmp_path_factory.mktemp("maps_data"))


@pytest.fixture(scope="module", params=["shipped", "fixture"])
def folder(request, fixture):
    """Each test runs on the shipped dataset (whatever it holds now) and on the fixture."""
    return None if request.param == "shipped" else fixture


@pytest.fixture(autouse=True)
def _quiet_missing_places():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="places.csv has no row for")
        yield


def render(m: folium.Map) -> str:
    return m.get_root().render()


# --------------------------------------------------------------------------- Almaty
@pytest.mark.parametrize("day", [None, 1, 4, 5, 6, 19])
def test_almaty_markers_per_day_match_the_dataset(folder, day):
    """Does almaty_map(day) draw one marker per visible city, site and event, as the data says?"""
    expected = almaty_expected(folder, day)
    m = maps.almaty_map(day=day, folder=folder)
    assert n_markers(render(m)) == sum(expected.values())
    table = maps.describe(m).table
    assert table["layer"].value_counts().to_dict() == {k: v for k, v in expected.items() if v}


@pytest.mark.parametrize("types", [["Riots"], ["Protests", "Battles"], []])
def test_almaty_event_type_filter(folder, types):
    expected = almaty_expected(folder, 19, types)
    assert n_markers(render(maps.almaty_map(day=19, event_types=types, folder=folder))) == sum(expected.values())


@pytest.mark.parametrize("layers", [["city"], ["sites", "events"], ["countries"], []])
def test_almaty_layers_choose_what_is_drawn(folder, layers):
    html = render(maps.almaty_map(day=19, layers=layers, folder=folder))
    assert n_markers(html) == sum(almaty_expected(folder, 19, layers=layers).values())
    assert ("L.geoJson(" in html) == ("countries" in layers)


def test_almaty_popups_cite_their_sources(fixture):
    """Does every site's popup say what happened, on which days, with readable citations?"""
    m = maps.almaty_map(day=19, folder=fixture, layers=["sites"])
    texts = popups(render(m))
    places = data.load("places", folder=fixture).set_index("place_id")
    assert len(texts) == almaty_expected(fixture, 19)["sites"]
    square = next(t for t in texts if places.loc["almaty_republic_square", "name"] in t)
    assert places.loc["almaty_republic_square", "what_happened"] in square
    assert "4 Jan" in square and "6 Jan" in square
    sources = data.load("sources", folder=fixture).set_index("source_id")
    for cite in data.split_cite(places.loc["almaty_republic_square", "cite"]):
        assert f"{sources.loc[cite, 'publisher']}, “{sources.loc[cite, 'title']}”" in square


def test_almaty_popups_on_the_shipped_data_use_resolve():
    """On the shipped data, each site popup carries kzcourse.data.resolve's reading of its cite field."""
    m = maps.almaty_map(day=19, layers=["sites"])
    texts = popups(render(m))
    places = data.load("places")
    sites = places.loc[places["within"] == "almaty"].set_index("place_id")
    for pid, row in sites.iterrows():
        label = html.escape("; ".join(str(c) for c in data.resolve(row["cite"])))
        if pid in set(maps.describe(m).table["id"]):
            assert any(html.escape(row["name"]) in t and label in t for t in texts), pid


def test_almaty_slider_only_without_a_day(fixture):
    """day=None gives a day slider (time dimension); day=N gives a static map without one."""
    assert "\"kz-slider\")" in render(maps.almaty_map(folder=fixture))
    assert "\"kz-slider\")" not in render(maps.almaty_map(day=7, folder=fixture))


def test_default_layers_online_and_offline(fixture):
    """layers=None: the country polygons are drawn offline (the only basemap), not over online tiles."""
    assert "L.geoJson(" in render(maps.almaty_map(offline=True, folder=fixture))
    assert "L.geoJson(" not in render(maps.almaty_map(offline=False, folder=fixture))
    assert "countries" not in maps.describe(maps.almaty_map(folder=fixture)).caption.split("Layers:")[1]


def test_almaty_has_legend_and_scale_bar(folder):
    html = render(maps.almaty_map(folder=folder))
    assert "kz-legend" in html and "L.control.scale()" in html


def test_day_accepts_dates_and_strings(fixture):
    import datetime as dt

    a = render(maps.almaty_map(day=5, folder=fixture))
    assert a == render(maps.almaty_map(day="2022-01-05", folder=fixture))
    assert a == render(maps.almaty_map(day=dt.date(2022, 1, 5), folder=fixture))


# --------------------------------------------------------------------------- border
@pytest.mark.parametrize("scale", geo.SCALES)
def test_border_feature_properties(folder, scale):
    """Is the KAZ–RUS border its own GeoJSON line, named and scaled in its tooltip, with no length in the page?

    Lesson 02 asks for the lengths (Q3-Q5) and the distances from Almaty (Q6): the map must not print them.
    """
    m = maps.border_map(scale=scale, folder=folder)
    layers = [c for c in m._children.values() if isinstance(c, folium.GeoJson) and c.layer_name == "Kazakhstan–Russia border"]
    assert len(layers) == 1
    (feature,) = layers[0].data["features"]
    props = feature["properties"]
    assert props["countries"] == ["KAZ", "RUS"] and props["scale"] == scale
    assert props["measure"] == f"geo.border_length_km({scale!r})"
    assert feature["geometry"] == geo.border_feature(scale)["geometry"]
    page = render(m)
    assert '"measure"' in page  # the tooltip field is in the page
    import re

    for km in [geo.border_length_km(s) for s in geo.SCALES] + [geo.distance_km("almaty", c) for c in ("moscow", "beijing")]:
        for form in (f"{km:,.0f}", f"{round(km)}"):
            assert not re.search(rf"(?<![\d.,]){re.escape(form)}(?![\d.,])", page), form


def test_border_markers_are_the_named_places(folder):
    m = maps.border_map(folder=folder)
    expected = border_places(folder)
    assert n_markers(render(m)) == len(expected)
    names = data.load("places", folder=folder).set_index("place_id").loc[expected, "name"].tolist()
    assert maps.describe(m).table["feature"].tolist()[1:] == names


def test_border_map_warns_about_missing_places(tmp_path):
    folder = fixture_folder(tmp_path)
    lines = (folder / "places.csv").read_text().splitlines()
    (folder / "places.csv").write_text("\n".join(l for l in lines if not l.startswith("moscow,")) + "\n")
    with pytest.warns(UserWarning, match="places.csv has no row for moscow"):
        m = maps.border_map(folder=folder)
    assert n_markers(render(m)) == 4


# --------------------------------------------------------------------------- spread
def test_spread_cities_and_dates_come_from_events(folder):
    """One marker (and a label with its name and date) per city of queries.protest_spread, one arrow per contingent."""
    expected = spread_expected(folder)
    spread = queries.protest_spread(folder=folder)
    assert dict(zip(spread["place_id"], spread["first_day"])) == expected["cities"]
    m = maps.spread_map(folder=folder)
    assert n_markers(render(m)) == len(expected["cities"]) + len(expected["contingents"])
    page = render(m)
    for r in spread.itertuples():
        assert html.escape(f"{r.name}, {r.first_day.day} {r.first_day:%b}") in page


def test_spread_map_shows_the_troop_numbers_queries_give_with_sources(folder):
    """Does each arrow's tooltip give the number queries.contingents() stands by (from figures), and its source?"""
    table = queries.contingents(folder=folder)
    html = render(maps.spread_map(folder=folder))
    cite = data.citer(folder)
    for t in table.itertuples():
        if pd.isna(t.troops):
            shown = f"{t.name}: sent troops; the dataset gives no number"
        else:
            shown = f"{t.name}: {int(t.troops):,} troops (source: {cite(t.figure_cite)})"
        assert html.count(json.dumps(shown)[1:-1]) >= 1, shown


def test_spread_table_gives_each_figure_its_kind_and_who_gave_it(fixture):
    """The map's text alternative says whether a number was announced or counted, and by whom."""
    table = maps.describe(maps.spread_map(folder=fixture)).table.set_index("where")
    assert table.loc["Kyrgyzstan", "number"] == 1500
    assert table.loc["Kyrgyzstan", "detail"].startswith("1,500 troops: announced, given by Fixture parliament on 7 January 2022")
    assert table.loc["Collective Security Treaty Organization", "number"] == 2000
    assert pd.isna(table.loc["Belarus", "number"])


def test_spread_map_without_contingents_says_so(tmp_path):
    folder = fixture_folder(tmp_path)
    lines = (folder / "relations.csv").read_text().splitlines()
    (folder / "relations.csv").write_text("\n".join(l for l in lines if "sent-troops-to" not in l) + "\n")
    figures = (folder / "figures.csv").read_text().splitlines()
    (folder / "figures.csv").write_text(figures[0] + "\n")  # the troop figures named those ties
    d = maps.describe(maps.spread_map(folder=folder))
    assert "records no troops sent" in d.caption and d.notes


# --------------------------------------------------------------------------- offline / online
EXTERNAL = [
    re.compile(r"<script[^>]*\ssrc\s*=\s*[\"']?(?:https?:)?//", re.I),
    re.compile(r"<link[^>]*\shref\s*=\s*[\"']?(?:https?:)?//", re.I),
    re.compile(r"url\(\s*[\"']?(?:https?:)?//", re.I),
    re.compile(r"@import", re.I),
    re.compile(r"\{z\}/\{x\}/\{y\}|\{s\}\.", re.I),
    re.compile(r"L\.tileLayer\(", re.I),
]


def _builders(folder):
    return {
        "almaty": lambda offline: maps.almaty_map(offline=offline, folder=folder),
        "almaty_day5": lambda offline: maps.almaty_map(day=5, offline=offline, folder=folder),
        "border": lambda offline: maps.border_map(offline=offline, folder=folder),
        "spread": lambda offline: maps.spread_map(offline=offline, folder=folder),
    }


@pytest.mark.parametrize("name", ["almaty", "almaty_day5", "border", "spread"])
def test_offline_html_references_no_host(folder, name):
    """Does an offline map inline Leaflet and refer to no script, stylesheet or tile on the web?"""
    html = render(_builders(folder)[name](True))
    for pattern in EXTERNAL:
        assert not pattern.search(html), pattern.pattern
    assert "L.map(" in html and "leaflet-container" in html  # Leaflet's JS and CSS are inlined
    assert "jquery" not in html.lower() and "bootstrap" not in html.lower()


@pytest.mark.parametrize("name", ["almaty", "border", "spread"])
def test_online_html_uses_osm_tiles_with_attribution(folder, name):
    html = render(_builders(folder)[name](False))
    assert "tile.openstreetmap.org/{z}/{x}/{y}.png" in html
    assert "openstreetmap.org/copyright" in html and "contributors" in html
    assert "Natural Earth" in html


def test_offline_does_not_change_folium_defaults(fixture):
    """After an offline map, does a fresh folium.Map still link Leaflet from its CDN?"""
    js, css = list(folium.Map.default_js), list(folium.Map.default_css)
    render(maps.almaty_map(offline=True, folder=fixture))
    render(maps.border_map(offline=True, folder=fixture))
    assert folium.Map.default_js == js and folium.Map.default_css == css
    fresh = folium.Map().get_root().render()
    assert re.search(r"<script src=\"https://[^\"]*leaflet[^\"]*\.js\"", fresh)
    assert re.search(r"<link rel=\"stylesheet\" href=\"https://[^\"]*leaflet[^\"]*\.css\"", fresh)


def test_html_is_deterministic(fixture):
    """Two builds with the same arguments render byte-identical HTML (stable element ids)."""
    for build in _builders(fixture).values():
        assert render(build(True)) == render(build(True))


def test_offline_almaty_is_small_enough(fixture):
    assert len(render(maps.almaty_map(offline=True, folder=fixture)).encode()) < 600_000
    assert len(render(maps.almaty_map(offline=False, folder=fixture)).encode()) < 100_000


# --------------------------------------------------------------------------- text alternative
@pytest.mark.parametrize("name", maps.MAP_NAMES)
def test_every_map_has_a_text_alternative(name):
    d = maps.describe(name)
    assert isinstance(d, maps.MapDescription) and d.caption
    assert d.caption in str(d) and "<figcaption" in d._repr_html_()


def test_maps_and_charts_share_one_text_alternative_type():
    from kzcourse import charts
    from kzcourse._alt import Description

    assert type(maps.describe("border")) is type(charts.describe(charts.timeline_figure())) is Description


def test_describe_rejects_other_objects():
    with pytest.raises(InputTypeError, match=r"Expected a map built by kzcourse.maps .* got 3 \(int\)"):
        maps.describe(3)
    with pytest.raises(ChoiceError, match=r"Unknown map name 'borders' \(str\)\. Did you mean 'border'\?"):
        maps.describe("borders")


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("day", [0, 20, "2022-01-20", "2021-12-31"])
def test_day_outside_the_window(day):
    with pytest.raises(ChoiceError, match=r"outside the period the course covers: expected a day from 2022-01-01 to 2022-01-19"):
        maps.almaty_map(day=day)


def test_unknown_layer_and_event_type():
    with pytest.raises(ChoiceError, match=r"Unknown layer 'roads' \(str\)\. Valid choices: 'city', 'countries', 'events', 'sites'\."):
        maps.almaty_map(layers=["city", "roads"])
    with pytest.raises(ChoiceError, match=r"Unknown event type 'Riot' \(str\)\. Did you mean 'Riots'\?"):
        maps.almaty_map(event_types="Riot")


def test_unknown_scale():
    with pytest.raises(ChoiceError, match=r"Unknown Natural Earth scale '5m' .*Valid choices: '10m', '110m', '50m'"):
        maps.border_map(scale="5m")


# --------------------------------------------------------------------------- real browser
def _expected_paths(name, folder):
    countries = len(geo.COUNTRY_CODES)
    if name.startswith("almaty"):
        return countries
    if name == "border":
        return countries + 1
    return countries + len(spread_expected(folder)["contingents"])


def _expected_icons(name, folder):
    if name == "almaty":
        return sum(almaty_expected(folder).values())
    if name == "almaty_day5":
        return sum(almaty_expected(folder, 5).values())
    if name == "border":
        return len(border_places(folder))
    s = spread_expected(folder)
    return len(s["cities"]) + len(s["contingents"])


@pytest.mark.browser
@pytest.mark.parametrize("name", ["almaty", "almaty_day5", "border", "spread"])
def test_offline_map_renders_in_chromium_without_network(browser_page, folder, tmp_path, name):
    """Opened from a file with every request blocked, does Chromium draw all markers and paths, with no error?"""
    open_html(browser_page, render(_builders(folder)[name](True)), tmp_path, f"{name}.html")
    browser_page.wait_for_function("document.querySelectorAll('.leaflet-overlay-pane path').length > 0")
    assert count(browser_page, ".leaflet-marker-icon") == _expected_icons(name, folder)
    assert count(browser_page, ".leaflet-overlay-pane path.leaflet-interactive") == _expected_paths(name, folder)
    assert count(browser_page, ".leaflet-tile") == 0
    assert count(browser_page, ".kz-legend") == 1 and count(browser_page, ".leaflet-control-scale") == 1
    assert browser_page.kz_blocked == []
    assert browser_page.kz_errors == []


@pytest.mark.browser
def test_day_slider_replays_the_days_in_chromium(browser_page, fixture, tmp_path):
    """Dragging the slider to day N shows what almaty_map(day=N) shows."""
    open_html(browser_page, render(maps.almaty_map(offline=True, folder=fixture)), tmp_path, "slider.html")
    for day in (1, 4, 5, 6, 11, 19):
        browser_page.eval_on_selector(
            ".kz-slider input", "(el, d) => { el.value = d; el.dispatchEvent(new Event('input')); }", day
        )
        assert count(browser_page, ".leaflet-marker-icon") == sum(almaty_expected(fixture, day).values()), day
        assert f"{day} January 2022" in browser_page.inner_text(".kz-slider output")
    assert browser_page.kz_errors == [] and browser_page.kz_blocked == []


@pytest.mark.browser
def test_online_map_only_asks_for_tiles_and_cdn(browser_page, fixture, tmp_path):
    """An online map's requests (blocked here) are OpenStreetMap tiles and the CDN links folium uses."""
    open_html(browser_page, render(maps.border_map(folder=fixture)), tmp_path, "online.html")
    assert browser_page.kz_blocked
    assert all(("openstreetmap.org" in u) or ("cdn" in u) or ("jquery" in u) for u in browser_page.kz_blocked)


# ----------------------------------------------------------------------------- KZCOURSE_OFFLINE
def test_environment_switches_default_maps_offline(monkeypatch):
    """A firewalled classroom sets KZCOURSE_OFFLINE=1: maps built with the default then need no network."""
    from kzcourse import explore

    monkeypatch.setenv("KZCOURSE_OFFLINE", "1")
    for m in (maps.almaty_map(), maps.border_map(), maps.spread_map(), explore.almaty_view(day=5)):
        assert m.kz_offline
        html_text = m.get_root().render()
        assert not [p.pattern for p in EXTERNAL if p.search(html_text)]
    monkeypatch.setenv("KZCOURSE_OFFLINE", "0")
    assert not maps.border_map().kz_offline
    assert maps.border_map(offline=True).kz_offline


def test_bad_offline_values_say_what_is_expected(monkeypatch):
    from kzcourse.errors import DataError, InputTypeError

    with pytest.raises(InputTypeError, match=r"offline should be True, False or None, got 'yes' \(str\)"):
        maps.border_map(offline="yes")
    monkeypatch.setenv("KZCOURSE_OFFLINE", "maybe")
    with pytest.raises(DataError, match=r"KZCOURSE_OFFLINE is 'maybe'; expected 1/true/yes"):
        maps.border_map()


def test_no_country_ring_drawn_on_the_maps_jumps_across_the_antimeridian():
    """Russia's ring crosses 180°: drawn as Natural Earth gives it, Leaflet joins 180 to -180 with a line
    across the whole map (bands over the Arctic at zoom 3). Every ring the spread map draws spans < 180°."""
    m = maps.spread_map(offline=True)
    layers = [c for c in m._children.values() if isinstance(c, folium.GeoJson)]
    assert layers, "the spread map draws its countries as a GeoJson layer"
    spans = []
    for layer in layers:
        for feature in layer.data["features"]:
            geom = feature["geometry"]
            polys = [geom["coordinates"]] if geom["type"] == "Polygon" else geom["coordinates"]
            spans += [(feature["properties"].get("iso_a3"), max(x for x, _ in r) - min(x for x, _ in r))
                      for p in polys for r in p]
    assert max(s for _, s in spans) < 180, [s for s in spans if s[1] >= 180]
