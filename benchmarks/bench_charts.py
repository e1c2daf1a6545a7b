"""Print how long the network and timeline figures take to build, and how big they are.

Measured in a warm process (one build first, to load pandas, networkx and plotly and to
validate the data), then the median of several builds. Target: under 0.3 s per figure.
Size: ``len(fig.to_json())`` (what a notebook stores per output) and the size of the
self-contained HTML from ``kzcourse.charts.to_html`` (plotly.js inlined).

Run: ``/work/venv/bin/python benchmarks/bench_charts.py`` (or ``.venv/bin/python ...``).
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from kzcourse import charts, data

RUNS = 9
TARGET_S = 0.3


def _median_build_seconds(build) -> float:
    build()  # warm up
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        build()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    counts = data.validate()
    print(f"data: {counts['actors']} actors, {counts['relations']} relations, {counts['events']} events")
    cases = {
        "network_figure('crisis')": lambda: charts.network_figure("crisis"),
        "network_figure('crisis', size_by='betweenness')": lambda: charts.network_figure("crisis", size_by="betweenness"),
        "phase_comparison_figure()": charts.phase_comparison_figure,
        "ego_figure('tokayev', 'crisis', 2)": lambda: charts.ego_figure("tokayev", "crisis", 2),
        "timeline_figure()": charts.timeline_figure,
    }
    slow = []
    folder = Path(tempfile.mkdtemp(prefix="kz-bench-charts-"))
    print(f"{'figure':50s} {'median build':>13s} {'JSON':>10s} {'HTML':>10s}")
    for i, (name, build) in enumerate(cases.items()):
        try:
            seconds = _median_build_seconds(build)
        except Exception as exc:  # e.g. an actor id the data does not have yet
            print(f"{name:50s} skipped: {exc}")
            continue
        fig = build()
        json_kb = len(fig.to_json().encode("utf-8")) / 1024
        html_kb = charts.to_html(fig, folder / f"fig{i}.html").stat().st_size / 1024
        targeted = name in ("network_figure('crisis')", "timeline_figure()")
        flag = "  <-- over target" if targeted and seconds >= TARGET_S else ("" if targeted else "  (no target)")
        if targeted and seconds >= TARGET_S:
            slow.append(name)
        print(f"{name:50s} {seconds * 1000:10.1f} ms {json_kb:8.1f} kB {html_kb:8.0f} kB{flag}")
    print(f"(median of {RUNS} builds in a warm process; target < {TARGET_S * 1000:.0f} ms for network and timeline)")
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
