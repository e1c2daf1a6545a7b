"""Benchmark: `kzcourse grade --jobs 2` against plain `nbgrader autograde` on the same 40 submissions.

One lesson (default 02-geography; pass another id as the first argument), 40 submissions of
mixed quality (right, partly right, wrong, blank) built by kzcourse.grading.demo, in a
temporary course. Both runs start from the same released course: the sequential run on a
copy with `nbgrader autograde LESSON --create --force` and nbgrader's own autograde pipeline
(the copy's config puts nbgrader's default `Autograde.autograde_preprocessors` back: no
sandbox, no canaries), the parallel one with `kzcourse grade LESSON --jobs 2` (sandbox and
integrity canaries on, as in production).
Prints seconds per submission for both and the ratio. Not a timed test.

    python benchmarks/bench_grade.py [LESSON] [--rounds R]

``--rounds R`` (default 1) repeats the pair R times on fresh copies, alternating which of the
two runs first, and reports each round and the median: on a machine whose load changes (other
jobs, thermal limits), one pair measured minutes apart can be off by more than the difference
being measured.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

N = 40
KINDS = ("right", "partly", "wrong", "blank")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lesson", nargs="?", default="02-geography")
    parser.add_argument("--rounds", type=int, default=1, help="pairs of runs to measure (default 1)")
    args = parser.parse_args()
    lesson = args.lesson
    tmp = Path(tempfile.mkdtemp(prefix="kz-bench-grade-"))
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    for name in ("HOME", "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        env[name] = str(tmp / "isolated" / name.lower())
        Path(env[name]).mkdir(parents=True, exist_ok=True)
    env["JUPYTER_PLATFORM_DIRS"] = "1"

    def run(*args, cwd=None):
        r = subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True)
        if r.returncode not in (0, 5):  # 5: flagged for review is still a completed run
            raise SystemExit(f"{' '.join(args)} exited {r.returncode}:\n{r.stdout}\n{r.stderr[-3000:]}")
        return r

    py = sys.executable
    run(py, "-m", "kzcourse", "init", str(tmp / "base"))
    run(py, "-m", "kzcourse", "release", lesson, "--no-exchange", cwd=tmp / "base")
    from kzcourse.grading.course import open_course
    from kzcourse.grading.demo import write_submissions

    write_submissions(open_course(tmp / "base"), lesson, {f"s{i:02d}": KINDS[i % len(KINDS)] for i in range(N)})

    def sequential() -> float:
        shutil.rmtree(tmp / "seq", ignore_errors=True)
        shutil.copytree(tmp / "base", tmp / "seq")
        with open(tmp / "seq" / "nbgrader_config.py", "a", encoding="utf-8") as fh:  # plain nbgrader, as shipped
            fh.write("\nfrom nbgrader.converters.autograde import Autograde as _A\n"
                     "c.Autograde.autograde_preprocessors = _A.class_traits()['autograde_preprocessors'].default()\n")
        t0 = time.perf_counter()
        run(py, "-m", "nbgrader", "autograde", lesson, "--create", "--force", cwd=tmp / "seq")
        return time.perf_counter() - t0

    def parallel() -> tuple[float, str]:
        shutil.rmtree(tmp / "par", ignore_errors=True)
        shutil.copytree(tmp / "base", tmp / "par")
        t0 = time.perf_counter()
        r = run(py, "-m", "kzcourse", "grade", lesson, "--jobs", "2", "--quiet", cwd=tmp / "par")
        lines = r.stdout.splitlines()
        return time.perf_counter() - t0, (lines[1] if len(lines) > 1 else r.stdout)

    print(f"lesson {lesson}, {N} submissions, {os.cpu_count()} CPUs")
    ratios = []
    for n in range(args.rounds):
        if n % 2 == 0:
            seq = sequential()
            par, summary = parallel()
        else:
            par, summary = parallel()
            seq = sequential()
        ratios.append(seq / par)
        if args.rounds > 1:
            print(f"round {n + 1}:")
        print(f"nbgrader autograde (sequential):  {seq:7.1f} s  = {seq / N:.2f} s per submission")
        print(f"kzcourse grade --jobs 2:          {par:7.1f} s  = {par / N:.2f} s per submission")
        print(f"speed-up: {seq / par:.2f}x (target >= 1.7x)")
        print(summary)
    if args.rounds > 1:
        print(f"median speed-up over {args.rounds} rounds: {statistics.median(ratios):.2f}x "
              f"(rounds: {', '.join(f'{r:.2f}x' for r in ratios)}; target >= 1.7x)")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
