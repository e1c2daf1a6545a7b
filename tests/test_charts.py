"""Tests for kzcourse.charts: figure structure via fig.to_dict(), determinism, text alternatives, export.

Expected nodes, ties and events are recomputed from the CSV files (tests/network_helpers.py).
The browser test opens an exported figure in headless Chromium with every non-file request aborted.
"""
from __future__ import annotations

import html
import re

import pytest

from kzcourse import charts, network
from kzcourse._style import EVENT_TYPE_COLOURS, OKABE_ITO
from kzcourse.errors import ChoiceError
from tests.network_helpers import expected_edges, expected_events, fixture, folder, rows  # noqa: F401 (fixtures)




def traces(fig, role):
    return [t for t in fig.to_dict()["data"] if (t.get("meta") or {}).get("role") == role]


def node_positions(fig, xaxis="x"):
    out = {}
    for t in traces(fig, "nodes"):
        if t.get("xaxis", "x") == xaxis:
            out.update({a: (x, y) for a, x, y in zip(t["customdata"], t["x"], t["y"])})
    return out


def edge_ids(trace):
    return {m for text in trace["hovertext"] if text for m in re.findall(r"\bR\d{3}\b", text)}


# --------------------------------------------------------------------------- network_figure
@pytest.mark.parametrize("phase", list(network.PHASES))
def test_network_figure_has_every_actor_once_and_one_edge_trace_per_relation_type(folder, phase):
    fig = charts.network_figure(phase, folder=folder)
    assert sorted(node_positions(fig)) == sorted(a["actor_id"] for a in rows(folder, "actors"))
    edges = expected_edges(folder, phase)
    edge_traces = traces(fig, "edges")
    assert [t["name"] for t in edge_traces] == [r for r in network.relation_types(folder) if r in {e[2] for e in edges.values()}]
    for t in edge_traces:
        assert edge_ids(t) == {k for k, e in edges.items() if e[2] == t["name"]}
        assert t["showlegend"] is True


def test_edge_hover_gives_the_relation_and_its_citation(fixture):
    fig = charts.network_figure("crisis", folder=fixture)
    (dismissed,) = [t for t in traces(fig, "edges") if t["name"] == "dismissed"]
    text = next(h for h in dismissed["hovertext"] if h and "R005" in h)
    assert "Kassym-Jomart Tokayev dismissed Nursultan Nazarbayev" in text
    assert "Source: seed article, paragraph P15" in text
    (arrested,) = [t for t in traces(fig, "edges") if t["name"] == "arrested"]
    assert any("Fixture Wire" in h for h in arrested["hovertext"] if h)


def test_every_tie_is_cited_in_the_hover_text_of_the_packaged_figure():
    fig = charts.network_figure("crisis")
    hover = html.unescape(" ".join(h for t in traces(fig, "edges") for h in t["hovertext"] if h).replace("<br>", " "))
    for _, _, d in network.actor_graph("crisis").edges(data=True):
        assert d["relation_id"] in hover
        assert f"Source: {d['readable']}" in hover


def test_edges_differ_by_colour_and_dash_from_the_okabe_ito_palette_and_show_direction(fixture):
    styles = [(t["line"]["color"], t["line"]["dash"]) for t in traces(charts.network_figure("crisis", folder=fixture), "edges")]
    assert len(set(styles)) == len(styles)
    assert {c for c, _ in styles} <= set(OKABE_ITO.values())
    assert set(charts.RELATION_STYLES) == set(network.relation_types())
    assert len(set(charts.RELATION_STYLES.values())) == len(charts.RELATION_STYLES)
    for t in traces(charts.network_figure("crisis", folder=fixture), "edges"):
        assert t["marker"]["symbol"] == "arrow" and t["marker"]["angleref"] == "previous"
        assert t["marker"]["size"][2::4] == [11] * (len(t["x"]) // 4)  # an arrowhead at each target end


def test_groups_have_their_own_sector_and_positions_do_not_change_between_phases_or_runs(folder):
    first = charts.network_figure("before", folder=folder)
    again = charts.network_figure("before", folder=folder)
    assert first.to_json() == again.to_json()
    assert node_positions(first) == node_positions(charts.network_figure("after", folder=folder))
    groups = {a["actor_id"]: a["group"] for a in rows(folder, "actors")}
    order = sorted(groups, key=lambda a: (network.GROUPS.index(groups[a]), a))
    import math

    angles = [(math.pi / 2 - math.atan2(node_positions(first)[a][1], node_positions(first)[a][0])) % (2 * math.pi)
              for a in order]
    assert angles == sorted(angles)  # clockwise from the top: group by group, then by id


@pytest.mark.parametrize("size_by", list(network.CENTRALITIES))
def test_node_size_follows_the_chosen_centrality(fixture, size_by):
    fig = charts.network_figure("crisis", size_by=size_by, folder=fixture)
    table = network.centrality_table("crisis", folder=fixture)
    sizes = {a: s for t in traces(fig, "nodes") for a, s in zip(t["customdata"], t["marker"]["size"])}
    top = table[size_by].max()
    for a, s in sizes.items():
        assert s == pytest.approx(12 + 26 * (table.loc[a, size_by] / top) ** 0.5)


def test_legend_lists_relation_types_and_actor_groups(fixture):
    fig = charts.network_figure("crisis", folder=fixture)
    shown = [t["name"] for t in fig.to_dict()["data"] if t.get("showlegend")]
    assert len(shown) == len(set(shown))
    assert set(network.GROUP_LABELS[g] for g in {a["group"] for a in rows(fixture, "actors")}) <= set(shown)
    assert "dismissed" in shown


# --------------------------------------------------------------------------- phase comparison
def test_phase_comparison_puts_each_actor_at_the_same_place_in_every_column(folder):
    fig = charts.phase_comparison_figure(folder=folder)
    layout = fig.to_dict()["layout"]
    assert {"xaxis", "xaxis2", "xaxis3"} <= set(layout) and "xaxis4" not in layout
    assert node_positions(fig, "x") == node_positions(fig, "x2") == node_positions(fig, "x3")
    assert [a["text"] for a in layout["annotations"][:3]] == [network.PHASE_LABELS[p] for p in network.PHASES]


def test_phase_comparison_marks_ties_made_and_cut(folder):
    fig = charts.phase_comparison_figure(folder=folder)
    for role, change in (("made", "made"), ("cut", "cut")):
        marked = {t["meta"]["phase"]: edge_ids(t) if t.get("hovertext") else set() for t in traces(fig, role)}
        assert set(marked) == {"crisis", "after"}
        for a, b in (("before", "crisis"), ("crisis", "after")):
            ea, eb = expected_edges(folder, a), expected_edges(folder, b)
            assert marked[b] == (set(eb) - set(ea) if change == "made" else set(ea) - set(eb))


def test_phase_comparison_legend_entries_are_not_repeated(fixture):
    shown = [t["name"] for t in charts.phase_comparison_figure(folder=fixture).to_dict()["data"] if t.get("showlegend")]
    assert len(shown) == len(set(shown))
    assert {"Tie made since the previous panel", "Tie cut since the previous panel"} <= set(shown)


# --------------------------------------------------------------------------- timeline
def test_timeline_shows_each_event_of_1_to_19_january_once(folder):
    fig = charts.timeline_figure(folder=folder)
    events = expected_events(folder)
    shown = [e for t in traces(fig, "events") for e in t["customdata"]]
    assert sorted(shown) == sorted(e["event_id"] for e in events)
    for t in traces(fig, "events"):
        assert t["marker"]["color"] == EVENT_TYPE_COLOURS[t["name"]]
        assert t["marker"]["symbol"] == charts.EVENT_TYPE_SYMBOLS[t["name"]]
        by_id = {e["event_id"]: e for e in events}
        assert {by_id[e]["event_type"] for e in t["customdata"]} == {t["name"]}
        for e, x in zip(t["customdata"], t["x"]):
            assert x == by_id[e]["event_date"]


def test_timeline_shades_the_three_phases_and_cites_in_hover(fixture):
    fig = charts.timeline_figure(folder=fixture)
    rects = [s for s in fig.to_dict()["layout"]["shapes"] if s["type"] == "rect"]
    assert [s["name"] for s in rects] == ["phase:before", "phase:crisis", "phase:after"]
    assert rects[1]["x0"] < "2022-01-05" < rects[1]["x1"] and rects[1]["x0"] > "2022-01-04"
    hover = " ".join(h for t in traces(fig, "events") for h in t["hovertext"])
    assert "Fixture Wire" in hover and "Airport seized." in hover and "KAZ001" not in hover


def test_timeline_by_place(fixture):
    fig = charts.timeline_figure(y="place", folder=fixture)
    ticks = fig.to_dict()["layout"]["yaxis"]["ticktext"]
    assert ticks == ["Zhanaozen", "Almaty", "Nur-Sultan", "Almaty airport"]  # in order of first event


# --------------------------------------------------------------------------- text alternatives, export
def test_describe_gives_caption_and_the_table_behind_each_figure(fixture):
    caption, table = charts.describe(charts.network_figure("after", folder=fixture))
    assert caption.startswith("Network of actors, phase 'after'")
    assert list(table["relation_id"]) == sorted(expected_edges(fixture, "after"))
    caption, table = charts.describe(charts.timeline_figure(folder=fixture))
    assert "8 events" in caption
    assert sorted(table["event_id"]) == sorted(e["event_id"] for e in expected_events(fixture))
    caption, table = charts.describe(charts.phase_comparison_figure(folder=fixture))
    assert set(table.columns) >= {"before", "crisis", "after"}
    assert set(table.loc[table["before"], "relation_id"]) == set(expected_edges(fixture, "before"))
    caption, table = charts.describe(charts.ego_figure("masimov", "crisis", folder=fixture))
    assert "Karim Masimov is in the middle" in caption and len(table) == 7  # R001-R007 join Masimov, Nazarbayev, Tokayev and the KNB


def test_describe_rejects_foreign_figures():
    import plotly.graph_objects as go

    with pytest.raises(ChoiceError, match=r"Unknown figure builder None.*kzcourse\.charts builders"):
        charts.describe(go.Figure())


def test_to_html_inlines_plotly_and_includes_caption_and_table(tmp_path, fixture):
    path = charts.to_html(charts.network_figure("crisis", folder=fixture), tmp_path / "net.html")
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=", text)
    assert "Plotly.newPlot" in text and len(text) > 1_000_000  # plotly.js is inside
    assert "<figcaption>Network of actors" in text and "<td>R005</td>" in text


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: charts.network_figure("Crisis"), r"Unknown phase 'Crisis' \(str\)\. Did you mean 'crisis'\?"),
        (lambda: charts.network_figure("crisis", size_by="closeness"), r"Unknown centrality 'closeness' \(str\)\..*'betweenness', 'degree', 'in_degree', 'out_degree'"),
        (lambda: charts.network_figure("crisis", relations=["leads", "lead"]), r"Unknown relation type 'lead' \(str\)\. Did you mean 'leads'\?"),
        (lambda: charts.phase_comparison_figure(["before", "aftre"]), r"Unknown phase 'aftre'"),
        (lambda: charts.ego_figure("putn", "crisis"), r"Unknown actor id 'putn' \(str\)\. Did you mean 'putin'\?"),
        (lambda: charts.timeline_figure(y="day"), r"Unknown timeline axis 'day' \(str\)\. Valid choices: 'event_type', 'place'\."),
    ],
)
def test_bad_input_raises_choice_error_listing_choices(call, match):
    with pytest.raises(ChoiceError, match=match):
        call()


# --------------------------------------------------------------------------- display in Jupyter
def test_builders_return_plotly_figures_of_the_course_subclass():
    import pickle

    import plotly.graph_objects as go

    figures = [charts.network_figure("crisis"), charts.phase_comparison_figure(), charts.ego_figure("tokayev", "crisis"),
               charts.timeline_figure()]
    for fig in figures:
        assert isinstance(fig, go.Figure) and type(fig) is charts.Figure
        assert repr(fig).startswith("Figure({")
        again = pickle.loads(pickle.dumps(fig))  # as plotly's own figure round-trips (it re-applies templates)
        assert type(again) is charts.Figure
        assert again.to_dict() == pickle.loads(pickle.dumps(go.Figure(fig))).to_dict()


def test_mime_bundle_is_what_plotlys_own_mimetype_renderer_makes():
    import plotly.io as pio

    fig = charts.phase_comparison_figure()
    assert charts.plotly_mime_bundle(fig) == pio.renderers["plotly_mimetype"].to_mimebundle(fig.to_dict())


class _FakeShell:
    """Stands for ipykernel's shell: plotly recognises it by class name and module."""


_FakeShell.__name__ = "ZMQInteractiveShell"
_FakeShell.__module__ = "ipykernel.zmqshell"


@pytest.fixture
def in_kernel(monkeypatch):
    """As in a fresh Jupyter kernel: a ZMQ shell, plotly's renderer registry not loaded, no hint variables."""
    import sys

    import IPython

    monkeypatch.setattr(IPython, "get_ipython", lambda: _FakeShell())
    monkeypatch.delitem(sys.modules, "plotly.io._renderers", raising=False)
    for name in charts._PLOTLY_RENDERER_HINTS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_fast_display_only_where_plotly_would_pick_the_mimetype_renderer_itself(in_kernel):
    import plotly

    expected = plotly.__version__.split(".")[0] in charts._PLOTLY_MAJORS_CHECKED
    assert charts.plotly_default_is_mimetype() is expected


@pytest.mark.parametrize("variable", ["PLOTLY_RENDERER", "COLAB_NOTEBOOK_ID", "VSCODE_PID", "DATABRICKS_RUNTIME_VERSION"])
def test_fast_display_steps_aside_when_plotly_would_choose_otherwise(in_kernel, variable):
    in_kernel.setenv(variable, "1")
    assert charts.plotly_default_is_mimetype() is False


def test_fast_display_steps_aside_once_plotlys_renderers_are_loaded(in_kernel):
    import plotly.io as pio

    pio.renderers.default  # loads plotly.io._renderers, where a user changes the default
    assert charts.plotly_default_is_mimetype() is False


def test_fast_display_steps_aside_outside_ipykernel(in_kernel):
    import IPython

    in_kernel.setattr(IPython, "get_ipython", lambda: None)
    assert charts.plotly_default_is_mimetype() is False


_KERNEL_CELLS = [
    "import sys\nfrom kzcourse import charts\nfig = charts.timeline_figure()\nfig",
    "print(sorted(m for m in ('plotly.io._renderers', 'nbformat', 'jsonschema') if m in sys.modules))",
    "import plotly.graph_objects as go\ngo.Figure(fig)",          # plotly's own display of the same figure
    "fig",                                                       # now plotly's renderers are loaded: plotly's path
    "import plotly.io as pio\npio.renderers.default = 'json'\nfig",  # a user's choice of renderer is obeyed
]


@pytest.mark.slow
def test_in_a_real_kernel_a_figure_shows_exactly_as_plotly_shows_it_without_loading_nbformat(tmp_path):
    """The fast display must send what plotly itself sends, and skip nbformat (and jsonschema's grammar)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in _KERNEL_CELLS])
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    fast, loaded, plotlys, later, as_json = (c.outputs for c in nb.cells)
    assert loaded[0]["text"] == "[]\n"
    assert [o["output_type"] for o in fast] == ["display_data"]
    assert list(fast[0]["data"]) == ["application/vnd.plotly.v1+json", "text/html"]
    mime = "application/vnd.plotly.v1+json"
    assert fast[0]["data"][mime] == plotlys[0]["data"][mime] and plotlys == later  # JupyterLab draws what plotly sends
    # ... and nbconvert, feedback and the Formgrader draw the HTML: the first figure carries plotly.js for the page
    assert "Plotly.newPlot" in fast[0]["data"]["text/html"] and 'data-kzcourse-plotlyjs="gzip"' in fast[0]["data"]["text/html"]
    assert list(as_json[0]["data"]) == ["application/json"]


# --------------------------------------------------------------------------- real browser
@pytest.mark.browser
def test_exported_network_draws_every_node_offline_in_chromium(browser_page, tmp_path):
    """Open the exported figure with all non-file requests blocked: nodes drawn, no page errors."""
    fig = charts.network_figure("crisis")
    n_actors = len(rows(None, "actors"))
    path = charts.to_html(fig, tmp_path / "network.html")
    browser_page.goto(path.as_uri(), wait_until="load")
    browser_page.wait_for_selector(".scatterlayer")
    drawn = browser_page.eval_on_selector_all(".scatterlayer .trace[class*='tracenodes-'] .point", "els => els.length")
    assert drawn == n_actors
    labels = browser_page.eval_on_selector_all(".scatterlayer .trace[class*='tracelabels-'] .textpoint", "els => els.length")
    assert labels == n_actors
    assert browser_page.kz_errors == []
    assert browser_page.kz_blocked == []


_BUILT = [
    ("network_figure", lambda: charts.network_figure("crisis")),
    ("network_figure", lambda: charts.network_figure("before", size_by="betweenness", relations=["leads", "dismissed"])),
    ("phase_comparison_figure", lambda: charts.phase_comparison_figure()),
    ("ego_figure", lambda: charts.ego_figure("tokayev", "crisis", 2)),
]


@pytest.mark.parametrize("name, build", _BUILT, ids=[n for n, _ in _BUILT])
def test_figures_built_without_plotlys_checks_equal_checked_ones_and_check_later_changes(name, build, monkeypatch):
    """_built_figure skips plotly's checks while building: the figure must be what the checked build gives,
    every property must pass plotly's checks, and what anyone changes afterwards is checked again."""
    import plotly.graph_objects as go

    fast = build()
    go.Figure(fast.to_dict())  # plotly's checks on every property: raises on an invalid one
    from kzcourse.charts import _display

    monkeypatch.setattr(_display, "_PLOTLY_UNVALIDATED_MAJORS", ())  # the fallback: plotly checks while building
    checked = build()

    def plain(fig):
        d = fig.to_dict()
        d["layout"].pop("template")  # an empty template either way ({} or its checked form)
        return d

    assert plain(fast) == plain(checked)
    assert not fast.layout.template.layout.to_plotly_json() and not checked.layout.template.layout.to_plotly_json()
    with pytest.raises(ValueError, match="titel"):
        fast.layout["titel"] = "a typo"  # an unchecked figure would take it
    with pytest.raises(ValueError, match="width"):
        fast.update_traces(line_width="wide", selector=dict(mode="lines+markers"))  # and this
