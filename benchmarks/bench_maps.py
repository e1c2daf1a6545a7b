"""Build time and HTML size of each map in kzcourse.maps.

Run: ``/work/venv/bin/python benchmarks/bench_maps.py [--runs N]``

For every map (online and offline) it prints the median wall time of N builds in a
warm process (the first build, which pays for imports and reading the data, is
discarded), the median time to render the built map to HTML, and the HTML's size.
Targets: build under 0.3 s; offline Almaty map under 600 KB; online under 100 KB.
"""
from __future__ import annotations

import argparse
import statistics
import time
import warnings

from kzcourse import maps

BUILDERS = {
    "almaty (all days, slider)": lambda offline: maps.almaty_map(offline=offline),
    "almaty (day=5)": lambda offline: maps.almaty_map(day=5, offline=offline),
    "border": lambda offline: maps.border_map(offline=offline),
    "spread": lambda offline: maps.spread_map(offline=offline),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="builds per map (median reported)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    print(f"{'map':28} {'mode':8} {'build s':>8} {'render s':>9} {'HTML KB':>8}")
    for name, build in BUILDERS.items():
        for offline in (False, True):
            build(offline).get_root().render()  # warm-up
            builds, renders, size = [], [], 0
            for _ in range(args.runs):
                t0 = time.perf_counter()
                m = build(offline)
                t1 = time.perf_counter()
                html = m.get_root().render()
                t2 = time.perf_counter()
                builds.append(t1 - t0)
                renders.append(t2 - t1)
                size = len(html.encode("utf-8"))
            mode = "offline" if offline else "online"
            print(
                f"{name:28} {mode:8} {statistics.median(builds):8.3f} {statistics.median(renders):9.3f} {size / 1024:8.1f}"
            )


if __name__ == "__main__":
    main()
