"""Tests for kzcourse.network: graphs by phase, centrality, ties cut and made.

Expectations are recomputed from the CSV files in tests/network_helpers.py (csv module,
the overlap rule written out again), for both the packaged data and a small fixture.
"""
from __future__ import annotations

import datetime as dt

import networkx as nx
import pytest

from kzcourse import data, network
from kzcourse.errors import ChoiceError, KzCourseError
from tests.network_helpers import expected_edges, fixture, folder, rows  # noqa: F401 (fixtures)




def test_phases_are_ordered_and_cover_the_month_without_gaps():
    assert list(network.PHASES) == ["before", "crisis", "after"]
    assert network.PHASES["before"] == (None, dt.date(2022, 1, 4))
    assert network.PHASES["crisis"] == (dt.date(2022, 1, 5), dt.date(2022, 1, 19))
    assert network.PHASES["after"] == (dt.date(2022, 1, 20), None)
    with pytest.raises(TypeError):
        network.PHASES["during"] = (None, None)  # read-only


@pytest.mark.parametrize("phase", list(network.PHASES))
def test_each_phase_has_exactly_the_relations_valid_in_it(folder, phase):
    """The graph's edges are the relations.csv rows whose [valid_from, valid_to] overlaps the phase."""
    g = network.actor_graph(phase, folder=folder)
    got = {k: (u, v, d["relation"], d["sign"], d["cite"]) for u, v, k, d in g.edges(keys=True, data=True)}
    assert got == expected_edges(folder, phase)


def test_every_actor_is_a_node_with_its_attributes(folder):
    actors = rows(folder, "actors")
    g = network.actor_graph("crisis", folder=folder)
    assert set(g.nodes) == {a["actor_id"] for a in actors}
    for a in actors:
        node = g.nodes[a["actor_id"]]
        assert (node["name"], node["kind"], node["group"], node["country"], node["role"]) == (
            a["name"], a["kind"], a["group"], a["country"], a["role_jan2022"])
        assert node["active"] == (g.degree(a["actor_id"]) > 0)


def test_edges_carry_readable_citations_matching_data_resolve():
    g = network.actor_graph("crisis")
    for _, _, d in g.edges(data=True):
        assert d["readable"] == "; ".join(str(c) for c in data.resolve(d["cite"]))


def test_fixture_ties_at_the_phase_edges(fixture):
    """Hand-checked on the fixture: a tie ending on 5 Jan is in 'crisis' not 'after'; one from 21 Jan only 'after'."""
    phases_of = {p: set(expected_edges(fixture, p)) for p in network.PHASES}
    assert "R001" in phases_of["before"] and "R001" in phases_of["crisis"] and "R001" not in phases_of["after"]
    assert [p for p in network.PHASES if "R016" in phases_of[p]] == ["after"]
    assert [p for p in network.PHASES if "R005" in phases_of[p]] == ["crisis"]
    g = network.actor_graph("crisis", folder=fixture)
    assert g.edges["knb", "masimov", "R007"]["readable"] == (
        "seed article, paragraph P29; Fixture Wire, “A fixture news report”, 2022-01-08")


def test_two_typed_ties_between_one_pair_are_both_kept(fixture):
    """Why a MultiDiGraph: Tokayev is Nazarbayev's successor and dismissed him in the same phase."""
    g = network.actor_graph("crisis", folder=fixture)
    assert isinstance(g, nx.MultiDiGraph)
    assert set(g["tokayev"]["nazarbayev"]) == {"R002", "R005"}
    assert {d["relation"] for d in g["tokayev"]["nazarbayev"].values()} == {"successor-of", "dismissed"}


def test_filtering_by_relation_type(folder):
    g = network.actor_graph("crisis", ["criticised", "dismissed"], folder=folder)
    expected = {k for k, e in expected_edges(folder, "crisis").items() if e[2] in ("criticised", "dismissed")}
    assert {k for _, _, k in g.edges(keys=True)} == expected


def test_phase_changes_are_the_set_differences(folder):
    for a, b in [("before", "crisis"), ("crisis", "after"), ("before", "after")]:
        ea, eb = expected_edges(folder, a), expected_edges(folder, b)
        changes = network.phase_changes(a, b, folder=folder)
        assert set(changes.loc[changes["change"] == "cut", "relation_id"]) == set(ea) - set(eb)
        assert set(changes.loc[changes["change"] == "made", "relation_id"]) == set(eb) - set(ea)
        assert list(changes["change"]) == sorted(changes["change"], key=["cut", "made"].index)


def test_fixture_changes_show_the_purge_and_the_intervention(fixture):
    changes = network.phase_changes("before", "after", folder=fixture)
    cut = set(changes.loc[changes["change"] == "cut", "relation_id"])
    made = set(changes.loc[changes["change"] == "made", "relation_id"])
    assert {"R001", "R003", "R004"} <= cut  # Nazarbayev's patronage, Masimov's posts
    assert {"R007", "R010"} <= made  # Masimov arrested, Putin's support


def test_centrality_table_counts_ties_and_betweenness(folder):
    edges = expected_edges(folder, "crisis")
    table = network.centrality_table("crisis", folder=folder)
    assert set(table.index) == {a["actor_id"] for a in rows(folder, "actors")}
    for actor in table.index:
        outs = sum(1 for s, _, *_ in edges.values() if s == actor)
        ins = sum(1 for _, t, *_ in edges.values() if t == actor)
        assert (table.loc[actor, "out_degree"], table.loc[actor, "in_degree"]) == (outs, ins)
        assert table.loc[actor, "degree"] == outs + ins
    simple = nx.Graph()
    simple.add_nodes_from(table.index)
    simple.add_edges_from((s, t) for s, t, *_ in edges.values())
    between = nx.betweenness_centrality(simple)
    for actor in table.index:
        assert table.loc[actor, "betweenness"] == pytest.approx(between[actor], abs=1e-6)
    assert list(table["degree"]) == sorted(table["degree"], reverse=True)


def test_centrality_descriptions_explain_every_column():
    table = network.centrality_table("after")
    assert set(network.CENTRALITY_DESCRIPTIONS) == set(table.columns)
    assert all(len(text) > 10 for text in network.CENTRALITY_DESCRIPTIONS.values())
    assert set(network.CENTRALITIES) <= set(table.columns)


def test_ego_graph_distances(fixture):
    ego = network.ego_graph("masimov", "crisis", radius=1, folder=fixture)
    assert dict(ego.nodes(data="distance")) == {"masimov": 0, "nazarbayev": 1, "knb": 1, "tokayev": 1}
    two = network.ego_graph("masimov", "crisis", radius=2, folder=fixture)
    assert set(ego.nodes) < set(two.nodes)
    assert two.nodes["csto"]["distance"] == 2


def _layout(g):
    """Everything about a graph that a student can see, in the order they see it."""
    return (g.graph, list(g.nodes(data=True)), list(g.edges(keys=True, data=True)),
            {n: list(g.predecessors(n)) for n in g}, list(g.in_edges(keys=True)),
            {n: list(g.to_undirected().neighbors(n)) for n in g})


@pytest.mark.parametrize("phase", list(network.PHASES))
def test_actor_graph_reuses_its_work_but_hands_out_graphs_like_fresh_builds(folder, phase):
    """actor_graph keeps what it built; each call must still equal a fresh build, in the same order."""
    fresh = network._build_actor_graph(phase, network.relation_types(folder), folder)
    del fresh.graph["edge_order"]
    g = network.actor_graph(phase, folder=folder)
    assert _layout(g) == _layout(fresh)
    assert network.actor_graph(phase, folder=folder) is not g


def test_changing_a_graph_changes_no_other(folder):
    g = network.actor_graph("crisis", folder=folder)
    u, v, k = next(iter(g.edges(keys=True)))
    pristine = _layout(network.actor_graph("crisis", folder=folder))
    g.nodes[u]["name"] = "renamed by a student"
    g.edges[u, v, k]["relation"] = "changed"
    g.graph["phase"] = "changed"
    g.add_edge(u, v, key="R999", relation="invented")
    g.remove_node(v)
    assert _layout(network.actor_graph("crisis", folder=folder)) == pristine
    assert network.centrality_table("crisis", folder=folder).loc[u, "name"] != "renamed by a student"


def test_centrality_table_is_a_fresh_copy_equal_to_a_new_computation(folder):
    first = network.centrality_table("crisis", folder=folder)
    assert first.equals(network.graph_centrality(network.actor_graph("crisis", folder=folder)))
    first.loc[first.index[0], "degree"] = -1
    first["betweenness"] *= 0
    again = network.centrality_table("crisis", folder=folder)
    assert again is not first and (again["degree"] >= 0).all() and again["betweenness"].max() > 0


def test_ego_graph_order_is_the_same_in_every_process():
    """Nodes come in the order of actor_graph (a subgraph view would give set order, which varies)."""
    order = list(network.actor_graph("before"))
    ego = network.ego_graph("tokayev", "before", 2)
    assert list(ego) == [n for n in order if n in ego]
    assert list(ego.edges(keys=True)) == [e for e in network.actor_graph("before").edges(keys=True)
                                          if e[0] in ego and e[1] in ego]


def test_edge_table_lists_each_tie_once_with_names(fixture):
    table = network.edge_table(network.actor_graph("crisis", folder=fixture))
    assert list(table["relation_id"]) == sorted(expected_edges(fixture, "crisis"))
    row = table.set_index("relation_id").loc["R005"]
    assert (row["source_name"], row["relation"], row["target_name"]) == (
        "Kassym-Jomart Tokayev", "dismissed", "Nursultan Nazarbayev")


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: network.actor_graph("durring"), r"Unknown phase 'durring' \(str\)\..*Valid choices: 'after', 'before', 'crisis'\. The phases are listed in kzcourse\.network\.PHASES\."),
        (lambda: network.actor_graph("crisis", "hates"), r"Unknown relation type 'hates' \(str\).*Valid choices: 'allied-with'"),
        (lambda: network.centrality_table(3), r"Unknown phase 3 \(int\).*'after', 'before', 'crisis'"),
        (lambda: network.phase_changes("before", "later"), r"Unknown phase 'later'"),
        (lambda: network.ego_graph("tokayevv", "crisis"), r"Unknown actor id 'tokayevv' \(str\)\. Did you mean 'tokayev'\?"),
        (lambda: network.ego_graph("tokayev", "crisis", radius=0), r"Unknown radius 0 \(int\)\. Valid choices: 1, 2, 3\."),
    ],
)
def test_bad_input_names_the_value_and_the_choices(call, match):
    with pytest.raises(ChoiceError, match=match) as info:
        call()
    assert isinstance(info.value, KzCourseError)


def test_graph_centrality_remembers_a_network_but_measures_every_change(folder):
    """graph_centrality reuses the table of an equal network; a renamed actor or a removed tie is measured afresh."""
    g = network.actor_graph("crisis", folder=folder)
    first = network.graph_centrality(g)
    first.loc["tokayev", "degree"] = -1  # the caller's copy: the next answer is untouched
    assert network.graph_centrality(network.actor_graph("crisis", folder=folder)).equals(network._measure_centrality(g))
    g.nodes["tokayev"]["name"] = "renamed"
    assert network.graph_centrality(g).loc["tokayev", "name"] == "renamed"
    ties = [(u, v, k) for u, v, k in g.edges(keys=True) if "tokayev" in (u, v)]
    g.remove_edges_from(ties[:3])
    table = network.graph_centrality(g)
    assert table.equals(network._measure_centrality(g))
    assert table.loc["tokayev", "degree"] == network._measure_centrality(network.actor_graph("crisis", folder=folder)).loc["tokayev", "degree"] - 3
    g.nodes["tokayev"]["name"] = ["not", "hashable"]  # such a graph is measured, just not remembered
    assert network.graph_centrality(g).loc["tokayev", "degree"] == table.loc["tokayev", "degree"]
