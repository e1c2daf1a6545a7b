"""Tests for the Almaty explorer in kzcourse.explore: the pure view and its widget wiring."""
from __future__ import annotations

import pytest

from kzcourse import explore, maps
from kzcourse.errors import ChoiceError
from tests.browser.maps_expect import almaty_expected, fixture_folder, n_markers


@pytest.fixture(scope="module")
def fixture(tmp_path_factory):
    return fixture_folder(tmp_path_factory.mktemp("maps_data"))


def html_of(m):
    return m.get_root().render()


def test_view_is_the_almaty_map(fixture):
    """almaty_view(day, layers, types) is exactly almaty_map with those arguments."""
    view = explore.almaty_view(5, ["city", "events"], ["Riots"], folder=fixture)
    direct = maps.almaty_map(day=5, layers=["city", "events"], event_types=["Riots"], folder=fixture)
    assert html_of(view) == html_of(direct)


@pytest.mark.parametrize("day", [1, 5, 19])
def test_view_counts_follow_the_data(fixture, day):
    assert n_markers(html_of(explore.almaty_view(day, folder=fixture))) == sum(almaty_expected(fixture, day).values())


def test_view_rejects_bad_input(fixture):
    with pytest.raises(ChoiceError, match=r"Day 0 \(int\) is outside the period"):
        explore.almaty_view(0, folder=fixture)
    with pytest.raises(ChoiceError, match=r"Unknown layer 'roads'"):
        explore.almaty_view(5, ["roads"], folder=fixture)


def test_explorer_controls_start_at_the_full_picture(fixture):
    w = explore.almaty_explorer(folder=fixture)
    assert (w.day.min, w.day.max, w.day.value) == (1, 19, 19)
    assert list(w.layers.value) == [n for n in maps.LAYERS if n != "countries"]  # online: tiles are the basemap
    assert list(explore.almaty_explorer(offline=True, folder=fixture).layers.value) == list(maps.LAYERS)
    assert list(w.event_types.value) == list(w.event_types.options)
    assert w.view.value == explore._map_html(explore.almaty_view(19, folder=fixture))
    assert "Almaty, up to 19 January 2022" in w.caption.value


def test_moving_the_slider_redraws_the_map(fixture):
    """Setting .value on the real IntSlider shows the map for that day."""
    w = explore.almaty_explorer(folder=fixture)
    before = w.view.value
    w.day.value = 4
    assert w.view.value != before
    assert w.view.value == explore._map_html(explore.almaty_view(4, folder=fixture))
    assert "up to 4 January 2022" in w.caption.value


def test_choosing_layers_and_types_redraws_the_map(fixture):
    w = explore.almaty_explorer(folder=fixture)
    w.layers.value = ("city", "sites")
    w.event_types.value = ("Riots",)
    expected = explore.almaty_view(19, ["city", "sites"], ["Riots"], folder=fixture)
    assert w.view.value == explore._map_html(expected)
    w.layers.value = ()
    assert w.view.value == explore._map_html(explore.almaty_view(19, [], ["Riots"], folder=fixture))


def test_explorer_on_the_shipped_data():
    w = explore.almaty_explorer(offline=True)
    w.day.value = 6
    assert w.view.value == explore._map_html(explore.almaty_view(6, offline=True))
