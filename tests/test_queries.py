"""Tests for kzcourse.queries: the data layer's answers (visible markers, spread, contingents,
figures), checked on the fixture folder and the shipped data without drawing anything."""
from __future__ import annotations

import shutil

import pandas as pd
import pytest

from kzcourse import data, queries
from kzcourse.errors import ChoiceError
from tests.browser.maps_expect import almaty_expected, fixture_folder, spread_expected


@pytest.fixture(scope="module")
def fixture(tmp_path_factory):
    return fixture_folder(tmp_path_factory.mktemp("queries_data"))


@pytest.fixture(scope="module", params=["shipped", "fixture"])
def folder(request, fixture):
    return None if request.param == "shipped" else fixture


# --------------------------------------------------------------------------- Almaty
@pytest.mark.parametrize("day", [None, 1, 5, 19])
def test_almaty_visible_counts_follow_the_rule(folder, day):
    """City always; a site once one of its events happened; an event from its day on."""
    visible = queries.almaty_visible(day=day, folder=folder)
    expected = almaty_expected(folder, day)
    assert {k: v for k, v in visible["layer"].value_counts().to_dict().items()} == {k: v for k, v in expected.items() if v}


def test_almaty_visible_filters_by_event_type(fixture):
    riots = queries.almaty_visible(day=19, event_types=["Riots"], folder=fixture)
    events = data.load("events", folder=fixture).set_index("event_id")
    assert set(events.loc[riots.loc[riots["layer"] == "events", "id"], "event_type"]) <= {"Riots"}
    with pytest.raises(ChoiceError, match=r"Unknown event type 'Riot' \(str\)\. Did you mean 'Riots'\?"):
        queries.almaty_visible(event_types=["Riot"], folder=fixture)


def test_almaty_visible_rejects_a_day_outside_the_crisis(fixture):
    with pytest.raises(ChoiceError, match="20"):
        queries.almaty_visible(day=20, folder=fixture)


# --------------------------------------------------------------------------- spread
def test_protest_spread_gives_each_city_its_first_protest_or_riot(folder):
    spread = queries.protest_spread(folder=folder)
    assert dict(zip(spread["place_id"], spread["first_day"])) == spread_expected(folder)["cities"]
    assert spread["first_day"].is_monotonic_increasing


def test_spread_origin_is_the_earliest_day(fixture):
    spread = queries.protest_spread(folder=fixture)
    assert set(spread.loc[spread["origin"], "place_id"]) == {"zhanaozen", "aktau"}
    assert spread.loc[spread["place_id"] == "zhanaozen", "event_id"].item() == "KAZ002"  # the site counts for its city


# --------------------------------------------------------------------------- contingents
def test_contingents_take_the_standing_figure(fixture):
    """Official beats a later report (Armenia); a retracted number never stands (Tajikistan);
    a state without a troop figure has none (Belarus); alliances are not contingents."""
    table = queries.contingents(folder=fixture).set_index("actor_id")
    sizes = {a: (None if pd.isna(n) else int(n)) for a, n in table["troops"].items()}
    assert sizes == {"kyrgyzstan": 1500, "russia": 1000, "armenia": 50, "tajikistan": 30, "belarus": None}
    assert table.loc["armenia", ["kind", "figure_id", "n_figures"]].tolist() == ["official", "F002", 2]
    assert table.loc["tajikistan", ["kind", "figure_id"]].tolist() == ["announced", "F005"]
    assert table.loc["belarus", "kind"] == "" and table.loc["belarus", "n_figures"] == 0
    assert "csto" not in table.index
    force = queries.alliance_force(folder=fixture).set_index("actor_id")
    assert force.loc["csto", ["troops", "kind", "n_figures"]].tolist() == [2000, "official", 2]


def test_contingents_do_not_depend_on_the_wording_of_notes(fixture, tmp_path):
    """Rewording (or emptying) every note of relations and events leaves the numbers unchanged."""
    before = queries.contingents(folder=fixture)
    copy = tmp_path / "reworded"
    shutil.copytree(fixture, copy)
    for name in ("relations", "events"):
        frame = pd.read_csv(copy / f"{name}.csv", dtype=str, keep_default_na=False)
        frame["notes"] = [f"Reworded note number {i}: 9,999 soldiers and 12 peacekeepers." for i in range(len(frame))]
        frame.to_csv(copy / f"{name}.csv", index=False)
    after = queries.contingents(folder=copy)
    assert after["troops"].tolist() == before["troops"].tolist()
    assert after["figure_id"].tolist() == before["figure_id"].tolist()
    assert queries.alliance_force(folder=copy)["troops"].tolist() == [2000]


def test_shipped_contingents_match_the_figures_table():
    """Each sending state's number is one of its own troop figures, never a retracted one."""
    figures = data.load("figures").set_index("figure_id")
    for t in queries.contingents().itertuples():
        if pd.isna(t.troops):
            assert t.n_figures == 0 or (figures.loc[figures["actor_id"] == t.actor_id, "kind"] == "retracted").all()
            continue
        row = figures.loc[t.figure_id]
        assert (row["counted"], row["actor_id"], int(row["value"])) == ("troops", t.actor_id, int(t.troops))
        assert row["kind"] != "retracted"


def test_queries_hand_out_new_frames(fixture):
    """Changing a query's result never changes what the next call or data.load gives."""
    first = queries.contingents(folder=fixture)
    first.loc[0, "troops"] = 123456
    first["notes"] = "changed"
    again = queries.contingents(folder=fixture)
    assert 123456 not in again["troops"].dropna().tolist() and "changed" not in again["notes"].tolist()
    spread = queries.protest_spread(folder=fixture)
    spread["name"] = "x"
    assert "x" not in data.load("places", folder=fixture)["name"].tolist()


# --------------------------------------------------------------------------- figures
def test_figures_of_sorts_by_day_and_filters(fixture):
    troops = queries.figures_of("troops", actor_id="armenia", folder=fixture)
    assert troops["figure_id"].tolist() == ["F002", "F003"]
    assert queries.figures_of("dead", place_id="almaty", folder=fixture)[["low", "high"]].values.tolist() == [[12.0, 15.0]]
    with pytest.raises(ChoiceError, match=r"Unknown counted 'troop' \(str\)\. Did you mean 'troops'\?"):
        queries.figures_of("troop", folder=fixture)


def test_january_and_after_events_split_the_table_at_the_end_of_the_crisis():
    from kzcourse import network

    everything = data.load("events")
    jan, after = queries.january_events(), queries.after_events()
    assert len(jan) + len(after) == len(everything)
    assert jan["event_date"].max() == pd.Timestamp(network.PHASES["crisis"][1])
    assert after["event_date"].min() >= pd.Timestamp(network.PHASES["after"][0])
    assert list(after["event_date"]) == sorted(after["event_date"])
    assert (after["days_after_article"] > 0).all()


def test_maps_of_january_leave_the_after_events_out():
    visible = queries.almaty_visible()
    assert (visible["first_day"].dropna() <= pd.Timestamp("2022-01-19")).all()
    assert (queries.protest_spread()["first_day"] <= pd.Timestamp("2022-01-19")).all()
