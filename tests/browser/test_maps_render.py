"""kzcourse.maps in headless Chromium with every network request blocked.

Each map's labels (country and city names the data predicts) are in the page; an online
map that cannot reach the internet says so in the map, naming ``KZCOURSE_OFFLINE=1``; the
Almaty map's controller, driven by the explorer's message, shows what ``almaty_visible``
gives and leaves the student's centre and zoom alone. Screenshots go to
``test-artifacts/maps-*.png``.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from kzcourse import data, geo, maps, queries
from kzcourse.maps._draw import OFFLINE_NOTICE
from tests.browser.helpers import open_html

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"maps-{name}.png"))


def _labels(page) -> list[str]:
    return page.eval_on_selector_all(".leaflet-tooltip-pane .leaflet-tooltip", "els => els.map(e => e.textContent)")


def test_border_map_names_the_countries_and_places(browser_page, tmp_path):
    m = maps.border_map(offline=True)
    open_html(browser_page, m.get_root().render(), tmp_path, "border.html")
    browser_page.wait_for_selector(".kz-country-label")
    shown = _labels(browser_page)
    countries = [f["properties"]["name"] for f in geo.countries()["features"]]
    places = [r for r in maps.describe(m).table["feature"].tolist()[1:]]
    assert set(countries) <= set(shown) and set(places) <= set(shown)
    _shot(browser_page, "border-offline")
    assert browser_page.kz_errors == [] and browser_page.kz_blocked == []


def test_spread_map_labels_every_city_with_its_day_and_arrows_end_at_almaty(browser_page, tmp_path):
    m = maps.spread_map(offline=True)
    open_html(browser_page, m.get_root().render(), tmp_path, "spread.html")
    browser_page.wait_for_selector(".kz-place-label")
    spread = queries.protest_spread()
    assert {f"{r.name}, {r.first_day.day} {r.first_day:%b}" for r in spread.itertuples()} <= set(_labels(browser_page))
    assert "the arrows end at Almaty" in maps.describe(m).caption
    # At the zoom it opens with and at every zoom labels are placed for, no two shown labels come within 2 px.
    # (fitBounds zooms from the map's start zoom with an animation; the labels follow when it ends.)
    browser_page.wait_for_function("() => { const m = Object.values(window).find(v => v && v._leaflet_id && v.setView);"
                                   " return m && !m._animatingZoom && m.getZoom() === 4; }")
    browser_page.wait_for_timeout(100)
    for zoom in [None, *maps.LABEL_ZOOMS]:
        if zoom is not None:
            browser_page.evaluate(f"() => {{ const m = Object.values(window).find(v => v && v._leaflet_id && v.setView); "
                                  f"m.setZoom({zoom}, {{animate: false}}); }}")
            browser_page.wait_for_timeout(300)
        boxes = browser_page.eval_on_selector_all(
            ".kz-place-label", "els => els.filter(e => getComputedStyle(e).opacity !== '0').map(e => {"
            " const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom, e.textContent]; })")
        if zoom is None:
            assert len(boxes) == len(spread)  # the map opens with every city labelled
        close = [(a[4], b[4]) for i, a in enumerate(boxes) for b in boxes[i + 1:]
                 if a[0] < b[2] + 2 and b[0] < a[2] + 2 and a[1] < b[3] + 2 and b[1] < a[3] + 2]
        assert close == [], (zoom, close)
        if zoom == 3:
            _shot(browser_page, "spread-offline-zoom3")
    browser_page.evaluate("() => { const m = Object.values(window).find(v => v && v._leaflet_id && v.setView); m.setZoom(4, {animate: false}); }")
    browser_page.wait_for_timeout(300)
    legend = browser_page.inner_text(".kz-legend")
    assert "Reached the next day" not in legend or any((r.first_day - spread["first_day"].min()).days == 1 for r in spread.itertuples())
    _shot(browser_page, "spread-offline")
    assert browser_page.kz_errors == [] and browser_page.kz_blocked == []


def test_almaty_map_groups_sites_that_share_a_point_with_a_count(browser_page, tmp_path):
    open_html(browser_page, maps.almaty_map(offline=True).get_root().render(), tmp_path, "almaty.html")
    browser_page.wait_for_selector(".kz-hub-label")
    hubs = browser_page.eval_on_selector_all(".kz-hub-label", "els => els.map(e => e.textContent)")
    assert any(h.endswith("sites placed at the city centre (the dataset gives only the city's coordinates)") for h in hubs)
    # every marker is drawn apart from the others: no two icons at the same screen position
    centres = browser_page.eval_on_selector_all(".leaflet-marker-icon", "els => els.map(e => { const r = e.getBoundingClientRect(); return [Math.round(r.left + r.width / 2), Math.round(r.top + r.height / 2)]; })")
    assert len(centres) == len({tuple(c) for c in centres})
    _shot(browser_page, "almaty-offline")


def test_online_map_without_internet_says_how_to_switch(browser_page, tmp_path):
    open_html(browser_page, maps.border_map(offline=False).get_root().render(), tmp_path, "online.html")
    notice = browser_page.inner_text(".kz-offline-notice")
    assert "KZCOURSE_OFFLINE=1" in notice and "could not load" in notice
    assert browser_page.kz_blocked  # it did try the internet, and the guard refused
    _shot(browser_page, "border-online-no-internet")


_HOST = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>host</title></head><body>
<iframe id="map" title="Almaty map" style="width:900px;height:600px"></iframe>
<script>
  window.views = [];
  window.addEventListener("message", e => { if (e.data && e.data.kzcourseView) window.views.push(e.data.kzcourseView); });
  document.getElementById("map").srcdoc = %s;
</script></body></html>"""


def test_explorer_message_changes_markers_but_keeps_the_view(browser_page, tmp_path):
    """What the explorer sends on a slider step: markers follow almaty_visible; centre and zoom stay."""
    page = maps.almaty_map(offline=True).get_root().render()
    open_html(browser_page, _HOST % json.dumps(page).replace("</", "<\\/"), tmp_path, "host.html")
    frame = browser_page.frame_locator("#map")
    frame.locator(".leaflet-marker-icon").first.wait_for()
    inner = browser_page.frames[1]
    inner.evaluate("() => { const m = Object.values(window).find(v => v && v._leaflet_id && v.setView); m.setView([43.24, 76.93], 14); }")
    browser_page.wait_for_timeout(300)
    before = inner.evaluate("() => { const m = Object.values(window).find(v => v && v._leaflet_id && v.setView); return [m.getCenter().lat, m.getCenter().lng, m.getZoom()]; }")
    types = queries.all_event_types()
    events = data.load("events")
    for day, chosen in ((4, types), (6, ["Riots"]), (19, ["Protests", "Riots"]), (19, types)):
        message = {"kzcourse": {"day": day, "layers": ["countries", "city", "sites", "events"], "event_types": chosen, "external": True}}
        assert len(json.dumps(message)) < 20_000
        inner.evaluate("m => window.postMessage(m, '*')", message)
        browser_page.wait_for_timeout(200)
        shown = inner.evaluate("() => document.querySelectorAll('.leaflet-marker-icon').length")
        visible = queries.almaty_visible(day, chosen)
        assert shown == len(visible), (day, chosen)
        # The legend lists only the event types of the events drawn: ticked, and happened by that day.
        legend = inner.evaluate("() => [...document.querySelectorAll('.kz-legend [data-kz-type]')]"
                                ".filter(r => r.offsetParent !== null).map(r => r.textContent)")
        kinds = events.set_index("event_id").loc[visible.loc[visible["layer"] == "events", "id"], "event_type"]
        assert sorted(legend) == sorted(set(kinds)), (day, chosen, legend)
        if chosen == ["Riots"]:
            ARTIFACTS.mkdir(exist_ok=True)
            browser_page.screenshot(path=str(ARTIFACTS / "maps-almaty-explorer-riots-only.png"))
        after = inner.evaluate("() => { const m = Object.values(window).find(v => v && v._leaflet_id && v.setView); return [m.getCenter().lat, m.getCenter().lng, m.getZoom()]; }")
        assert after == pytest.approx(before)
    assert inner.evaluate("() => document.querySelectorAll('.kz-slider').length") == 0  # one day control: the explorer's
    ARTIFACTS.mkdir(exist_ok=True)
    browser_page.screenshot(path=str(ARTIFACTS / "maps-almaty-explorer-step.png"))
    assert browser_page.kz_errors == [] and browser_page.kz_blocked == []
