"""The actors' network, phase by phase: who was tied to whom before, during and after the crisis.

Every row of ``relations.csv`` is a typed, directed, signed tie (``tokayev dismissed
nazarbayev``) that holds over a date range. This module cuts the month into three
:data:`PHASES` and builds, for each, the graph of the ties that held at some point
in it; it also measures which actors were central and lists the ties cut and made
between two phases.

Graph type
----------
:func:`actor_graph` always returns a :class:`networkx.MultiDiGraph`, whatever the
data: two actors can be joined by several typed ties at once (Tokayev was both
Nazarbayev's *successor* and the man who *dismissed* him), and a plain ``DiGraph``
would silently keep only one of them. Each edge's key is its ``relation_id``, so an
edge is found with ``g.edges[source, target, relation_id]``. Every actor of the
dataset is a node in every phase (with ``active=False`` when it has no tie in that
phase), so positions and tables line up across phases.

Examples
--------
>>> from kzcourse import network
>>> list(network.PHASES)
['before', 'crisis', 'after']
>>> g = network.actor_graph("crisis")
>>> type(g).__name__
'MultiDiGraph'
>>> sorted(network.centrality_table("crisis").columns)
['betweenness', 'degree', 'group', 'in_degree', 'kind', 'name', 'out_degree']
"""
from __future__ import annotations

import datetime as _dt
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from kzcourse import data
from kzcourse._validate import check_choice, check_choices

if TYPE_CHECKING:  # pragma: no cover
    import networkx as nx
    import pandas as pd

#: The three phases of the month, in order: name -> (first day, last day).
#: ``None`` means the phase is open at that end ("long before" / "still holds").
PHASES: Mapping[str, tuple[_dt.date | None, _dt.date | None]] = MappingProxyType(
    {
        "before": (None, _dt.date(2022, 1, 4)),
        "crisis": (_dt.date(2022, 1, 5), _dt.date(2022, 1, 19)),
        "after": (_dt.date(2022, 1, 20), None),
    }
)

#: Readable titles of the phases, for chart titles and widget labels.
PHASE_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "before": "Before (to 4 Jan 2022)",
        "crisis": "Crisis (5-19 Jan 2022)",
        "after": "After (from 20 Jan 2022)",
    }
)

#: The actor groups (layout regions of the charts), in the order they go round the circle.
GROUPS: tuple[str, ...] = ("foreign", "kz_leadership", "kz_security", "protesters", "kz_opposition", "commentators")

#: Readable titles of the actor groups.
GROUP_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "kz_leadership": "Kazakh leadership",
        "kz_security": "Security services",
        "kz_opposition": "Opposition",
        "protesters": "Protesters",
        "foreign": "Foreign states and alliances",
        "commentators": "Commentators",
    }
)

#: Centrality measures a chart can size its nodes by (columns of :func:`centrality_table`).
CENTRALITIES: tuple[str, ...] = ("degree", "in_degree", "out_degree", "betweenness")

#: Plain-language descriptions of the columns of :func:`centrality_table`, for students.
CENTRALITY_DESCRIPTIONS: Mapping[str, str] = MappingProxyType(
    {
        "name": "The actor's name.",
        "group": "Which part of the network chart the actor sits in (leadership, security services, ...).",
        "kind": "Person, organisation, state, alliance or group.",
        "degree": "How many ties the actor has in this phase, in either direction. "
        "Two different ties with the same actor count twice.",
        "in_degree": "How many ties point at the actor: others acting on it (dismissing it, supporting it, ...).",
        "out_degree": "How many ties start from the actor: the actor acting on others.",
        "betweenness": "How often the actor lies on the shortest chain of ties between two other actors, "
        "from 0 (never) to 1 (on every such chain). A high value marks a broker or go-between. "
        "Ties are followed in either direction.",
    }
)


def relation_types(folder: str | Path | None = None) -> list[str]:
    """Return the relation types the dataset allows (from the data package schema).

    >>> relation_types()[:3]
    ['patron-of', 'successor-of', 'served-under']
    """
    for field in data.schema("relations", folder)["fields"]:
        if field["name"] == "relation":
            return list(field["constraints"]["enum"])
    raise AssertionError("datapackage.json has no 'relation' field in relations")  # pragma: no cover


def check_phase(phase: Any) -> str:
    """Return ``phase`` if it names one of :data:`PHASES`; otherwise raise :class:`~kzcourse.errors.ChoiceError`.

    >>> check_phase("crisis")
    'crisis'
    >>> check_phase("during")
    Traceback (most recent call last):
    ...
    kzcourse.errors.ChoiceError: Unknown phase 'during' (str). Valid choices: 'after', 'before', 'crisis'. The phases are listed in kzcourse.network.PHASES.
    """
    return check_choice(phase, PHASES, what="phase", hint="The phases are listed in kzcourse.network.PHASES.")


def overlaps_phase(valid_from: _dt.date | None, valid_to: _dt.date | None, phase: str) -> bool:
    """Say whether a tie holding from ``valid_from`` to ``valid_to`` (inclusive) holds at some point in ``phase``.

    ``None`` for ``valid_from`` means "since long before"; for ``valid_to``, "still holds".

    Examples
    --------
    >>> import datetime as dt
    >>> overlaps_phase(None, dt.date(2022, 1, 5), "crisis")   # ends on the first crisis day
    True
    >>> overlaps_phase(None, dt.date(2022, 1, 5), "after")
    False
    >>> overlaps_phase(dt.date(2022, 1, 6), None, "before")
    False
    """
    start, end = PHASES[check_phase(phase)]
    starts_in_time = valid_from is None or end is None or valid_from <= end
    lasts_long_enough = valid_to is None or start is None or valid_to >= start
    return starts_in_time and lasts_long_enough


def _date_or_none(value: Any) -> _dt.date | None:
    """A date from a pandas cell (``NaT`` -> ``None``)."""
    if value is None or str(value) == "NaT":
        return None
    return value.date() if hasattr(value, "date") else value


def relations_in_phase(
    phase: str, relations: str | Iterable[str] | None = None, *, folder: str | Path | None = None
) -> "pd.DataFrame":
    """Return the rows of ``relations.csv`` whose ties hold at some point in ``phase``.

    Parameters
    ----------
    phase : str
        One of :data:`PHASES`.
    relations : str or list of str, optional
        Keep only these relation types (see :func:`relation_types`); all by default.
    folder : str or Path, optional
        A folder holding a copy of the data files; by default the packaged data.

    Returns
    -------
    pandas.DataFrame
        The matching rows of ``kzcourse.data.load('relations')``, in file order.

    Examples
    --------
    >>> rows = relations_in_phase("after", relations="criticised")
    >>> set(rows["relation"]) <= {"criticised"}
    True
    >>> relations_in_phase("after", relations="critisised")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    kzcourse.errors.ChoiceError: Unknown relation type 'critisised' (str). Did you mean 'criticised'? Valid choices: 'allied-with', 'arrested', ...
    """
    check_phase(phase)
    kinds = check_choices(relations, relation_types(folder), what="relation type")
    rel = data.load("relations", folder)
    keep = [
        r in kinds and overlaps_phase(_date_or_none(f), _date_or_none(t), phase)
        for r, f, t in zip(rel["relation"], rel["valid_from"], rel["valid_to"])
    ]
    return rel.loc[keep].reset_index(drop=True)


def actor_graph(
    phase: str, relations: str | Iterable[str] | None = None, *, folder: str | Path | None = None
) -> "nx.MultiDiGraph":
    """Build the network of the ties that hold at some point in ``phase``.

    Parameters
    ----------
    phase : str
        ``'before'``, ``'crisis'`` or ``'after'`` (see :data:`PHASES`).
    relations : str or list of str, optional
        Keep only these relation types; all by default.
    folder : str or Path, optional
        A folder holding a copy of the data files; by default the packaged data.

    Returns
    -------
    networkx.MultiDiGraph
        One node per actor of the dataset, with attributes ``name``, ``kind``,
        ``group``, ``country``, ``role`` (``role_jan2022``), ``cite``, ``readable``
        (the citations in words) and ``active`` (has a tie in this phase).
        One edge per tie, keyed by ``relation_id``, with attributes ``relation_id``,
        ``relation``, ``sign``, ``valid_from``, ``valid_to`` (ISO strings or ``None``),
        ``notes``, ``cite`` and ``readable``. ``g.graph['phase']`` names the phase.

    Raises
    ------
    kzcourse.errors.ChoiceError
        For an unknown phase or relation type.

    Examples
    --------
    >>> g = actor_graph("before")
    >>> g.graph["phase"]
    'before'
    >>> all(d["relation"] and d["cite"] for _, _, d in g.edges(data=True))
    True
    >>> actor_graph("beforehand")
    Traceback (most recent call last):
    ...
    kzcourse.errors.ChoiceError: Unknown phase 'beforehand' (str). Did you mean 'before'? Valid choices: 'after', 'before', 'crisis'. The phases are listed in kzcourse.network.PHASES.
    """
    check_phase(phase)
    kinds = check_choices(relations, relation_types(folder), what="relation type")
    built = data.dataset(folder).derived(("actor_graph", phase, tuple(sorted(kinds))),
                                         lambda: _build_actor_graph(phase, kinds, folder))
    return _copy_graph(built)  # built once per reading of the folder (kzcourse.data.Dataset); callers get copies


def _copy_graph(g: "nx.MultiDiGraph") -> "nx.MultiDiGraph":
    """A copy with new graph, node and edge attribute dicts, built in the same order as ``g`` was.

    ``g.copy()`` would add the edges in adjacency order, which reorders ``predecessors``,
    ``in_edges`` and the neighbours of ``to_undirected()``; this copy iterates exactly like a graph
    built afresh (``g.graph['edge_order']`` records the order in which :func:`_build_actor_graph` added the edges).
    """
    order = g.graph["edge_order"]
    h = g.__class__()
    h.graph.update((k, v) for k, v in g.graph.items() if k != "edge_order")
    h.add_nodes_from((n, dict(d)) for n, d in g.nodes(data=True))
    h.add_edges_from((u, v, k, dict(g.edges[u, v, k])) for u, v, k in order)
    return h


def _build_actor_graph(phase: str, kinds: list[str], folder: str | Path | None) -> "nx.MultiDiGraph":
    import networkx as nx

    rows = relations_in_phase(phase, kinds, folder=folder)
    readable = data.citer(folder)
    g = nx.MultiDiGraph(phase=phase)
    order: list[tuple[str, str, str]] = []
    for a in data.load("actors", folder).itertuples(index=False):
        g.add_node(
            a.actor_id, name=a.name, kind=a.kind, group=a.group, country=a.country,
            role=a.role_jan2022, cite=a.cite, readable=readable(a.cite), active=False,
        )
    for r in rows.itertuples(index=False):
        vf, vt = _date_or_none(r.valid_from), _date_or_none(r.valid_to)
        g.add_edge(
            r.source, r.target, key=r.relation_id, relation_id=r.relation_id, relation=r.relation,
            sign=r.sign, valid_from=vf.isoformat() if vf else None, valid_to=vt.isoformat() if vt else None,
            notes=r.notes, cite=r.cite, readable=readable(r.cite),
        )
        g.nodes[r.source]["active"] = g.nodes[r.target]["active"] = True
        order.append((r.source, r.target, r.relation_id))
    g.graph["edge_order"] = order  # for _copy_graph only; the graphs handed out do not carry it
    return g


def check_actor(actor_id: Any, *, folder: str | Path | None = None) -> str:
    """Return ``actor_id`` if it is an ``actor_id`` of ``actors.csv``; otherwise raise :class:`~kzcourse.errors.ChoiceError`.

    >>> check_actor("nobody_at_all")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    kzcourse.errors.ChoiceError: Unknown actor id 'nobody_at_all' (str)...
    """
    return check_choice(
        actor_id, list(data.load("actors", folder)["actor_id"]), what="actor id",
        hint="Actor ids are the actor_id column of kzcourse.data.load('actors').",
    )


def ego_graph(actor_id: str, phase: str, radius: int = 1, *, folder: str | Path | None = None) -> "nx.MultiDiGraph":
    """Return the actors within ``radius`` ties of ``actor_id`` in ``phase``, and the ties among them.

    Ties are followed in either direction. Node attribute ``distance`` gives each
    actor's number of ties from the centre (0 for the actor itself).

    Parameters
    ----------
    actor_id : str
        An ``actor_id`` of ``actors.csv``.
    phase : str
        One of :data:`PHASES`.
    radius : int
        1, 2 or 3.

    Examples
    --------
    >>> import kzcourse.data as d
    >>> ids = list(d.load("actors")["actor_id"])
    >>> all(ego_graph(i, "crisis").nodes[i]["distance"] == 0 for i in ids[:1])
    True
    >>> ego_graph("tokayev", "crisis", radius=7)
    Traceback (most recent call last):
    ...
    kzcourse.errors.ChoiceError: Unknown radius 7 (int). Valid choices: 1, 2, 3.
    """
    import networkx as nx

    check_choice(radius, (1, 2, 3), what="radius")
    check_actor(actor_id, folder=folder)
    g = actor_graph(phase, folder=folder)
    distances = nx.single_source_shortest_path_length(g.to_undirected(as_view=True), actor_id, cutoff=radius)
    # Not g.subgraph(distances): its nodes come in set order, which changes from one Python process to the next.
    ego = g.__class__(**g.graph)
    ego.add_nodes_from((n, d) for n, d in g.nodes(data=True) if n in distances)  # g is our own copy: reuse its dicts
    ego.add_edges_from((u, v, k, d) for u, v, k, d in g.edges(keys=True, data=True) if u in distances and v in distances)
    nx.set_node_attributes(ego, distances, "distance")
    ego.graph.update(centre=actor_id, radius=radius)
    return ego


def centrality_table(phase: str, *, folder: str | Path | None = None) -> "pd.DataFrame":
    """Measure how central each actor is in ``phase``: number of ties and brokerage.

    Parameters
    ----------
    phase : str
        One of :data:`PHASES`.
    folder : str or Path, optional
        A folder holding a copy of the data files; by default the packaged data.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``actor_id``; columns ``name``, ``group``, ``kind``, ``degree``,
        ``in_degree``, ``out_degree`` (counts of ties) and ``betweenness``
        (:func:`networkx.betweenness_centrality`, normalised, on the undirected
        network without parallel ties). Sorted by degree, most ties first, then by
        ``actor_id``. :data:`CENTRALITY_DESCRIPTIONS` explains each column.

    Examples
    --------
    >>> t = centrality_table("crisis")
    >>> list(t.columns)
    ['name', 'group', 'kind', 'degree', 'in_degree', 'out_degree', 'betweenness']
    >>> bool((t["degree"] == t["in_degree"] + t["out_degree"]).all())
    True
    """
    check_phase(phase)
    table = data.dataset(folder).derived(("centrality", phase), lambda: graph_centrality(actor_graph(phase, folder=folder)))
    return table.copy(deep=True)


#: Tables :func:`graph_centrality` has measured, keyed by what they depend on (see :func:`_centrality_key`),
#: newest last; at most :data:`_CENTRALITY_CACHE_SIZE` are kept.
_CENTRALITY_CACHE: "OrderedDict[tuple, pd.DataFrame]" = OrderedDict()
_CENTRALITY_CACHE_SIZE = 64
_CENTRALITY_LOCK = threading.Lock()


def _centrality_key(graph: "nx.MultiDiGraph") -> tuple | None:
    """Everything the centrality table of ``graph`` depends on, as an immutable key; None if it cannot be hashed.

    The table depends on the graph's class (directed or not), its nodes in order with their
    ``name``, ``group`` and ``kind``, and its edges as (source, target) pairs in order (the
    edge keys and other attributes do not count). Two graphs with equal keys have equal tables.
    """
    key = (
        type(graph),
        tuple((n, d.get("name"), d.get("group"), d.get("kind")) for n, d in graph.nodes(data=True)),
        tuple(graph.edges()),
    )
    try:
        hash(key)
    except TypeError:  # an attribute someone set to a list or dict: measure without the cache
        return None
    return key


def graph_centrality(graph: "nx.MultiDiGraph") -> "pd.DataFrame":
    """Measure the centrality of every node of ``graph`` (a graph from :func:`actor_graph` or :func:`ego_graph`).

    Returns the table :func:`centrality_table` describes. The same network (same nodes and
    names, same ties in the same order) is measured once per process: the charts, the lessons
    and their tests all measure the networks of the three phases, and betweenness is the slow part.
    Each call returns a new copy of the table.

    >>> graph_centrality(actor_graph("after")).index.name
    'actor_id'
    >>> g = actor_graph("crisis")
    >>> graph_centrality(g).equals(graph_centrality(actor_graph("crisis")))
    True
    >>> g.remove_edges_from([(u, v, k) for u, v, k in g.edges(keys=True) if u == "tokayev" or v == "tokayev"])
    >>> int(graph_centrality(g).loc["tokayev", "degree"])
    0
    """
    key = _centrality_key(graph)
    if key is not None:
        with _CENTRALITY_LOCK:
            table = _CENTRALITY_CACHE.get(key)
            if table is not None:
                _CENTRALITY_CACHE.move_to_end(key)
                return table.copy(deep=True)
    table = _measure_centrality(graph)
    if key is not None:
        with _CENTRALITY_LOCK:
            _CENTRALITY_CACHE[key] = table
            while len(_CENTRALITY_CACHE) > _CENTRALITY_CACHE_SIZE:
                _CENTRALITY_CACHE.popitem(last=False)
    return table.copy(deep=True)


def _measure_centrality(graph: "nx.MultiDiGraph") -> "pd.DataFrame":
    import networkx as nx
    import pandas as pd

    g = graph
    between = nx.betweenness_centrality(nx.Graph(g.to_undirected(as_view=True)), normalized=True)
    rows = [
        {
            "actor_id": n, "name": d["name"], "group": d["group"], "kind": d["kind"],
            "degree": g.degree(n), "in_degree": g.in_degree(n), "out_degree": g.out_degree(n),
            "betweenness": round(float(between.get(n, 0.0)), 6),
        }
        for n, d in g.nodes(data=True)
    ]
    columns = ["actor_id", "name", "group", "kind", "degree", "in_degree", "out_degree", "betweenness"]
    table = pd.DataFrame(rows, columns=columns).astype(
        {"degree": "int64", "in_degree": "int64", "out_degree": "int64", "betweenness": "float64"}
    )
    table = table.sort_values(["degree", "actor_id"], ascending=[False, True], kind="stable")
    return table.set_index("actor_id")


def edge_table(graph: "nx.MultiDiGraph") -> "pd.DataFrame":
    """List a graph's ties as a table: the text alternative of a network chart.

    Returns
    -------
    pandas.DataFrame
        One row per tie, sorted by ``relation_id``: ``relation_id``, ``source``,
        ``source_name``, ``relation``, ``target``, ``target_name``, ``sign``,
        ``valid_from``, ``valid_to``, ``notes``, ``cite``, ``citation``.

    Examples
    --------
    >>> list(edge_table(actor_graph("crisis")).columns)[:6]
    ['relation_id', 'source', 'source_name', 'relation', 'target', 'target_name']
    """
    import pandas as pd

    columns = ["relation_id", "source", "source_name", "relation", "target", "target_name", "sign",
               "valid_from", "valid_to", "notes", "cite", "citation"]
    rows = [
        {
            "relation_id": d["relation_id"], "source": u, "source_name": graph.nodes[u]["name"],
            "relation": d["relation"], "target": v, "target_name": graph.nodes[v]["name"], "sign": d["sign"],
            "valid_from": d["valid_from"] or "", "valid_to": d["valid_to"] or "", "notes": d["notes"],
            "cite": d["cite"], "citation": d["readable"],
        }
        for u, v, d in graph.edges(data=True)
    ]
    return pd.DataFrame(rows, columns=columns).sort_values("relation_id", kind="stable").reset_index(drop=True)


def phase_changes(a: str, b: str, *, folder: str | Path | None = None) -> "pd.DataFrame":
    """List the ties cut and made between phase ``a`` and phase ``b``.

    A tie is *cut* if it holds in ``a`` but not in ``b``, *made* if it holds in ``b``
    but not in ``a``. Because a tie belongs to every phase its dates touch, a tie
    that ends on 5 January still shows in ``'crisis'`` and is cut only by ``'after'``;
    compare ``'before'`` with ``'after'`` to see the whole month's change at once.

    Parameters
    ----------
    a, b : str
        Two phases of :data:`PHASES` (usually ``a`` earlier than ``b``).

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`edge_table` after a first column ``change``
        (``'cut'`` or ``'made'``); cut ties first, each part sorted by ``relation_id``.

    Examples
    --------
    >>> changes = phase_changes("before", "after")
    >>> list(changes.columns)[:3]
    ['change', 'relation_id', 'source']
    >>> set(changes["change"]) <= {"cut", "made"}
    True
    """
    import pandas as pd

    check_phase(a)
    check_phase(b)
    first, second = edge_table(actor_graph(a, folder=folder)), edge_table(actor_graph(b, folder=folder))
    cut = first[~first["relation_id"].isin(second["relation_id"])].assign(change="cut")
    made = second[~second["relation_id"].isin(first["relation_id"])].assign(change="made")
    out = pd.concat([cut, made], ignore_index=True)
    return out[["change", *first.columns]]
