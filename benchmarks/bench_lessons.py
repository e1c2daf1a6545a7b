"""Print how long each lesson's source notebook takes to execute, beside a trivial notebook.

Each notebook runs in a fresh kernel (as nbgrader and students do), so kernel start-up is in
every figure. Target: each lesson within 3x the trivial notebook's time measured in the same run.
One unmeasured run of the trivial notebook comes first: the first kernel a process starts takes
0.1-0.3 s longer than the next ones (one-time costs in this process), which would otherwise count
against the trivial figure alone and flatter every ratio. Then the notebooks run in rounds,
trivial first, so that a machine getting busier or quieter during the run moves the trivial
figure with the lessons. Each figure is the median over the rounds.
Run: `make bench` or `.venv/bin/python benchmarks/bench_lessons.py [--runs N] [LESSON ...]`, where each LESSON
is a lesson id or a part of one (`05` runs 05-network only; the trivial notebook always runs).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kzcourse.lessons import course  # noqa: E402


def _isolate() -> None:
    root = Path(tempfile.mkdtemp(prefix="kzcourse-bench-"))
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        os.environ.setdefault(name, str(root / name.lower()))


def _run(nb, workdir: str) -> float:
    start = time.perf_counter()
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": workdir}}).execute()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("lessons", nargs="*", metavar="LESSON",
                        help="lesson ids, or parts of them, to run (default: every lesson)")
    args = parser.parse_args()
    lessons = [lesson for lesson in course() if not args.lessons or any(part in lesson.id for part in args.lessons)]
    if not lessons:
        parser.error(f"no lesson id contains any of {args.lessons}; ids: {', '.join(lesson.id for lesson in course())}")
    _isolate()
    workdir = tempfile.mkdtemp(prefix="kzcourse-bench-run-")
    notebooks = {"trivial": nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])}
    notebooks.update((lesson.id, nbformat.read(lesson.notebook, as_version=4)) for lesson in lessons)
    _run(nbformat.from_dict(notebooks["trivial"]), workdir)  # warm-up, not measured
    times: dict[str, list[float]] = {name: [] for name in notebooks}
    for _ in range(args.runs):
        for name, nb in notebooks.items():
            times[name].append(_run(nbformat.from_dict(nb), workdir))
    base = statistics.median(times["trivial"])
    print(f"{'notebook':<16} {'seconds':>8} {'x trivial':>10}   (median of {args.runs} rounds, fresh kernel each)")
    worst = 0.0
    for name, runs in times.items():
        seconds = statistics.median(runs)
        if name != "trivial":
            worst = max(worst, seconds / base)
        print(f"{name:<16} {seconds:8.2f} {seconds / base:10.2f}")
    print(f"slowest lesson: {worst:.2f}x the trivial notebook (target: within 3x)")


if __name__ == "__main__":
    main()
