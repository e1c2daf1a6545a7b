"""kzcourse.charts in headless Chromium with every network request blocked.

Rendered label boxes of the network charts are measured: no two overlap and none is
clipped by the figure. The timeline fits a screen with its date axis. An executed
notebook exported by nbconvert draws every chart offline. Screenshots of every chart go
to ``test-artifacts/charts-*.png``.
"""
from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from kzcourse import charts, network

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

FIGURES = {
    **{f"network-{p}": (lambda p=p: charts.network_figure(p)) for p in network.PHASES},
    "phase-comparison": lambda: charts.phase_comparison_figure(),
    "ego-tokayev-1": lambda: charts.ego_figure("tokayev", "crisis", 1),
    "ego-tokayev-2": lambda: charts.ego_figure("tokayev", "crisis", 2),
    "ego-masimov-1": lambda: charts.ego_figure("masimov", "crisis", 1),
    "ego-putin-3": lambda: charts.ego_figure("putin", "after", 3),
}

_LABEL_BOXES = """() => {
  const svg = document.querySelector('.main-svg').getBoundingClientRect();
  const boxes = [...document.querySelectorAll(".scatterlayer .trace[class*='tracelabels-'] .textpoint text")]
    .map(t => { const r = t.getBoundingClientRect();
                return {text: t.textContent, x0: r.left, y0: r.top, x1: r.right, y1: r.bottom}; })
    .filter(b => b.x1 > b.x0);
  return {svg: {x0: svg.left, y0: svg.top, x1: svg.right, y1: svg.bottom}, boxes};
}"""


def _show(page, fig, tmp_path: Path, name: str) -> None:
    path = charts.to_html(fig, tmp_path / f"{name}.html")
    page.set_viewport_size({"width": max(1000, int(fig.layout.width or 0) + 40), "height": 800})
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_selector(".main-svg")
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator(".js-plotly-plot").first.screenshot(path=str(ARTIFACTS / f"charts-{name}.png"))


@pytest.mark.parametrize("name", list(FIGURES))
def test_network_labels_neither_overlap_nor_clip(browser_page, tmp_path, name):
    fig = FIGURES[name]()
    assert fig.layout.width >= 600
    _show(browser_page, fig, tmp_path, name)
    measured = browser_page.evaluate(_LABEL_BOXES)
    boxes, svg = measured["boxes"], measured["svg"]
    n_nodes = sum(len(t.customdata) for t in fig.data if t.meta["role"] == "nodes")
    assert len(boxes) == n_nodes  # every actor is labelled
    for b in boxes:
        assert svg["x0"] <= b["x0"] and b["x1"] <= svg["x1"] and svg["y0"] <= b["y0"] and b["y1"] <= svg["y1"], f"{b['text']!r} is clipped"
    # text boxes of one panel (labels of different panels never share pixels: the panels are stacked)
    for a, b in itertools.combinations(boxes, 2):
        overlap_x = min(a["x1"], b["x1"]) - max(a["x0"], b["x0"])
        overlap_y = min(a["y1"], b["y1"]) - max(a["y0"], b["y0"])
        assert overlap_x <= 0.5 or overlap_y <= 0.5, f"labels {a['text']!r} and {b['text']!r} overlap"
    assert browser_page.kz_errors == [] and browser_page.kz_blocked == []


@pytest.mark.parametrize("y", charts.TIMELINE_AXES)
def test_timeline_fits_a_screen_with_its_date_axis(browser_page, tmp_path, y):
    fig = charts.timeline_figure(y=y)
    _show(browser_page, fig, tmp_path, f"timeline-{y}")
    height = browser_page.evaluate("() => document.querySelector('.main-svg').getBoundingClientRect().height")
    assert height <= charts.TIMELINE_MAX_HEIGHT
    ticks = browser_page.evaluate("() => [...document.querySelectorAll('.xtick text')].map(t => t.getBoundingClientRect().bottom)")
    assert ticks and max(ticks) <= 800  # the date axis is on a 800 px screen without scrolling
    points = browser_page.eval_on_selector_all(".scatterlayer .trace .point", "els => els.length")
    assert points == len(charts.timeline_table())


_NOTEBOOK = [
    "from kzcourse import charts",
    "charts.timeline_figure()",
    "charts.network_figure('crisis')",
    "charts.phase_comparison_figure()",
    "charts.describe(charts.timeline_figure())",
]


@pytest.mark.slow
def test_nbconvert_html_of_an_executed_notebook_draws_every_chart_offline(browser_page, tmp_path):
    import nbformat
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in _NOTEBOOK])
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    body, _ = HTMLExporter().from_notebook_node(nb)
    assert body.count("data-kzcourse-plotlyjs=") == 1  # plotly.js once per page
    path = tmp_path / "exported.html"
    path.write_text(body, encoding="utf-8")
    browser_page.set_viewport_size({"width": 1200, "height": 800})
    browser_page.goto(path.as_uri(), wait_until="load")
    browser_page.wait_for_function("() => document.querySelectorAll('.kzcourse-chart .main-svg').length >= 3", timeout=30_000)
    drawn = browser_page.evaluate("() => [...document.querySelectorAll('.kzcourse-chart')].map(d => !!d.querySelector('.main-svg'))")
    assert drawn == [True, True, True]
    assert charts.CHART_FALLBACK not in browser_page.inner_text("body")
    assert "<figcaption" in body  # describe() shows as formatted text
    ARTIFACTS.mkdir(exist_ok=True)
    browser_page.screenshot(path=str(ARTIFACTS / "charts-nbconvert.png"), full_page=False)
    assert not [u for u in browser_page.kz_blocked if "plotly" in u]


def test_a_figure_whose_page_lacks_plotly_js_says_so(browser_page, tmp_path):
    """Never silently blank: without plotly.js on the page the chart's place says what to do."""
    page = f"<!DOCTYPE html><html lang='en'><body>{charts.figure_html(charts.timeline_figure())}</body></html>"
    path = tmp_path / "no-plotly.html"
    path.write_text(page, encoding="utf-8")
    browser_page.goto(path.as_uri(), wait_until="load")
    assert "Restart and Run All" in browser_page.inner_text("body")
