"""Print how much `import kzcourse` adds over a bare interpreter start (median of several runs).

Target: under 100 ms. Run: `make bench` or `.venv/bin/python benchmarks/bench_import.py`.
Also checks that the import pulled in none of the heavy libraries.
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import time

RUNS = 15


def _median_seconds(code: str) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    bare = _median_seconds("pass")
    with_kz = _median_seconds("import kzcourse")
    heavy = subprocess.run(
        [sys.executable, "-c", "import sys, kzcourse; print(sorted(m for m in ('pandas','folium','plotly','networkx','ipywidgets','numpy') if m in sys.modules))"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    print(f"bare interpreter        : {bare * 1000:7.1f} ms (median of {RUNS})")
    print(f"python -c 'import kzcourse': {with_kz * 1000:7.1f} ms (median of {RUNS})")
    print(f"import kzcourse adds    : {(with_kz - bare) * 1000:7.1f} ms (target < 100 ms)")
    print(f"heavy modules loaded by the import: {heavy}")


if __name__ == "__main__":
    main()
