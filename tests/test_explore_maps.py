"""Tests for the Almaty explorer in kzcourse.explore: the pure view and its widget wiring."""
from __future__ import annotations

import pytest

from kzcourse import explore, maps, queries
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
    assert w.layers.options == tuple(n for n in maps.LAYERS if n != "countries")  # online: tiles are the basemap
    assert w.layers.value == w.layers.options
    assert explore.almaty_explorer(offline=True, folder=fixture).layers.value == tuple(maps.LAYERS)
    assert w.event_types.value == w.event_types.options == tuple(queries.all_event_types(fixture))
    # the map sent once is the replay map with every marker the controls can ask for
    expected = maps.almaty_map(day=None, layers=list(w.layers.options), folder=fixture).get_root().render()
    assert w.view.html == expected
    assert (w.view.day, w.view.layers, w.view.event_types) == (19, list(w.layers.options), list(w.event_types.options))
    assert "Almaty, up to 19 January 2022" in w.caption.value


def test_multiple_choice_is_check_boxes_not_a_ctrl_click_list(fixture):
    import ipywidgets as widgets

    w = explore.almaty_explorer(folder=fixture)
    for group in (w.layers, w.event_types):
        assert group.checkboxes and all(isinstance(b, widgets.Checkbox) for b in group.checkboxes)
        assert not any(isinstance(c, widgets.SelectMultiple) for c in group.children)


def test_moving_the_slider_tells_the_map_the_day_without_sending_the_map_again(fixture):
    w = explore.almaty_explorer(folder=fixture)
    page = w.view.html
    w.day.value = 4
    assert w.view.day == 4 and w.view.html is page
    assert w.caption.value == explore._caption_html(explore.almaty_view(4, folder=fixture))
    assert "up to 4 January 2022" in w.caption.value


def test_ticking_boxes_changes_layers_and_types(fixture):
    w = explore.almaty_explorer(folder=fixture)
    w.layers.value = ("city", "sites")
    w.event_types.value = ("Riots",)
    assert [b.value for b in w.layers.checkboxes] == [o in ("city", "sites") for o in w.layers.options]
    assert (w.view.layers, w.view.event_types) == (["city", "sites"], ["Riots"])
    riots = next(b for b in w.event_types.checkboxes if b.description == "Riots")
    riots.value = False  # unticking the last box: no event type
    assert w.event_types.value == () and w.view.event_types == []
    assert w.caption.value == explore._caption_html(explore.almaty_view(19, ["city", "sites"], [], folder=fixture))


def test_explorer_on_the_shipped_data():
    w = explore.almaty_explorer(offline=True)
    w.day.value = 6
    assert w.view.day == 6
    assert w.caption.value == explore._caption_html(explore.almaty_view(6, offline=True))


@pytest.mark.slow
def test_a_slider_step_sends_less_than_20_kb_from_a_real_kernel():
    """Measured on the kernel's IOPub channel: every comm message of one step, content plus buffers."""
    import importlib.util
    import sys
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_explore.py"
    spec = importlib.util.spec_from_file_location("bench_explore", path)
    bench = importlib.util.module_from_spec(spec)
    sys.modules["bench_explore"] = bench
    spec.loader.exec_module(bench)
    sizes = bench.measure(offline=True)
    steps = {k: v for k, v in sizes.items() if k.startswith("step")}
    assert steps and max(steps.values()) < 20_000, sizes
    assert sizes["first display"] > 100_000  # the map itself went over once
