"""Tests for the network part of kzcourse.explore: the pure ego_view and the ego_explorer wiring.

The wiring is tested on the real ipywidgets: set ``.value`` on a control and check the
figure the Output widget shows has changed accordingly.
"""
from __future__ import annotations

import ipywidgets as widgets
import pytest

from kzcourse import explore, network
from kzcourse.errors import ChoiceError
from tests.network_helpers import expected_edges, fixture  # noqa: F401 (fixture)



def shown(box) -> dict:
    """The plotly figure (as JSON) the explorer's Output widget displays right now."""
    (output,) = box.view.outputs
    return output["data"]["application/vnd.plotly.v1+json"]


def shown_actors(box) -> set[str]:
    return {a for t in shown(box)["data"] if t["meta"]["role"] == "nodes" for a in t["customdata"]}


def test_ego_view_is_the_ego_network_of_the_actor(fixture):
    fig = explore.ego_view("masimov", "crisis", radius=1, folder=fixture)
    nodes = {a for t in fig.data if t.meta["role"] == "nodes" for a in t.customdata}
    assert nodes == {"masimov", "nazarbayev", "knb", "tokayev"}
    ties = {k for k, (s, t, *_) in expected_edges(fixture, "crisis").items() if {s, t} <= nodes}
    hover = " ".join(h for t in fig.data if t.meta["role"] == "edges" for h in t.hovertext if h)
    assert all(k in hover for k in ties)
    assert fig.layout.meta["actor_id"] == "masimov"


def test_ego_view_puts_the_actor_in_the_middle_and_is_deterministic(fixture):
    a = explore.ego_view("tokayev", "after", radius=2, folder=fixture)
    b = explore.ego_view("tokayev", "after", radius=2, folder=fixture)
    assert a.to_json() == b.to_json()
    centre = [(x, y) for t in a.data if t.meta["role"] == "nodes" for n, x, y in zip(t.customdata, t.x, t.y) if n == "tokayev"]
    assert centre == [(0.0, 0.0)]


def test_explorer_controls_are_real_widgets_with_the_valid_choices(fixture):
    box = explore.ego_explorer(folder=fixture)
    assert isinstance(box, widgets.VBox)
    assert isinstance(box.actor, widgets.Dropdown) and isinstance(box.phase, widgets.ToggleButtons)
    assert box.phase.options == tuple(network.PHASES)
    assert {v for _, v in box.actor.options} == {"tokayev", "nazarbayev", "masimov", "knb", "protesters",
                                                 "kazhegeldin", "putin", "csto", "anceschi", "marat"}
    assert box.actor.value == "tokayev"  # most ties in the crisis
    assert isinstance(box.view, widgets.Output)
    assert shown(box)["layout"]["meta"]["actor_id"] == "tokayev"


def test_setting_actor_phase_radius_and_size_redraws_the_shown_figure(fixture):
    box = explore.ego_explorer("masimov", "crisis", folder=fixture)
    assert shown_actors(box) == {"masimov", "nazarbayev", "knb", "tokayev"}

    box.phase.value = "after"  # Masimov's posts are gone; only his arrest by the KNB remains
    assert shown(box)["layout"]["meta"]["phase"] == "after"
    assert shown_actors(box) == {"masimov", "knb"}

    box.actor.value = "putin"
    assert shown(box)["layout"]["meta"]["actor_id"] == "putin"
    assert shown_actors(box) == {"putin", "tokayev", "csto"}
    assert "Vladimir Putin" in box.caption.value

    box.radius.value = 2
    assert shown(box)["layout"]["meta"]["radius"] == 2
    assert shown_actors(box) == {"putin", "tokayev", "csto", "nazarbayev"}

    sizes_before = [t["marker"]["size"] for t in shown(box)["data"] if t["meta"]["role"] == "nodes"]
    box.size_by.value = "betweenness"
    sizes_after = [t["marker"]["size"] for t in shown(box)["data"] if t["meta"]["role"] == "nodes"]
    assert sizes_before != sizes_after
    assert box.figure.layout.meta["actor_id"] == "putin"


def test_explorer_rejects_bad_starting_values(fixture):
    with pytest.raises(ChoiceError, match=r"Unknown actor id 'putni' \(str\)\. Did you mean 'putin'\?"):
        explore.ego_explorer("putni", folder=fixture)
    with pytest.raises(ChoiceError, match=r"Unknown phase 'later' \(str\).*Valid choices: 'after', 'before', 'crisis'"):
        explore.ego_explorer("putin", "later", folder=fixture)
    with pytest.raises(ChoiceError, match=r"Unknown radius 4 \(int\)\. Valid choices: 1, 2, 3\."):
        explore.ego_view("putin", "crisis", radius=4, folder=fixture)


def test_explorer_works_on_the_packaged_data():
    box = explore.ego_explorer()
    table = network.centrality_table("crisis")
    if len(table):
        assert shown(box)["layout"]["meta"]["actor_id"] == table.index[0]
        box.phase.value = "before"
        assert shown(box)["layout"]["meta"]["phase"] == "before"
