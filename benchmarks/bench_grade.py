"""Benchmark: `kzcourse grade --jobs 2` against plain `nbgrader autograde` on the same 40 submissions.

One lesson (default 02-geography; pass another id as the first argument), 40 submissions of
mixed quality (right, partly right, wrong, blank) built by kzcourse.grading.demo, in a
temporary course. Both runs start from the same released course: the sequential run on a
copy with `nbgrader autograde LESSON --create --force` and nbgrader's own autograde pipeline
(the copy's config puts nbgrader's default `Autograde.autograde_preprocessors` and
`sanitize_preprocessors` back: one kernel, no sandbox), the parallel one with `kzcourse grade
LESSON --jobs 2` as in production (two-phase grading: the student's kernel in the sandbox, the
tests in a second kernel, kept by each worker between submissions).
Prints seconds per submission for both and the ratio; then grades a batch of `--peak N`
submissions (default 200; 0 skips it) with `kzcourse grade --jobs 2` and prints its peak
memory: the largest sum, sampled every 0.1 s, of the resident memory of the grading process and
every process under it (workers, kernels, bubblewrap). Not a timed test.

    python benchmarks/bench_grade.py [LESSON] [--rounds R] [--peak N]

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
    parser.add_argument("--peak", type=int, default=200, help="submissions in the peak-memory batch (default 200)")
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
                     "c.Autograde.autograde_preprocessors = _A.class_traits()['autograde_preprocessors'].default()\n"
                     "c.Autograde.sanitize_preprocessors = _A.class_traits()['sanitize_preprocessors'].default()\n")
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
        print(f"speed-up: {seq / par:.2f}x (target >= 1.8x)")
        print(summary)
    if args.rounds > 1:
        print(f"median speed-up over {args.rounds} rounds: {statistics.median(ratios):.2f}x "
              f"(rounds: {', '.join(f'{r:.2f}x' for r in ratios)}; target >= 1.8x)")
    if args.peak:
        shutil.rmtree(tmp / "peak", ignore_errors=True)
        shutil.copytree(tmp / "base", tmp / "peak", ignore=shutil.ignore_patterns("submitted"))
        write_submissions(open_course(tmp / "peak"), lesson,
                          {f"p{i:03d}": KINDS[i % len(KINDS)] for i in range(args.peak)})
        t0 = time.perf_counter()
        proc = subprocess.Popen([py, "-m", "kzcourse", "grade", lesson, "--jobs", "2", "--quiet"], cwd=tmp / "peak",
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        peak, peak_procs = 0, 0
        while proc.poll() is None:
            tree = _tree(proc.pid)
            total = sum(_rss(pid) for pid in tree)
            if total > peak:
                peak, peak_procs = total, len(tree)
            time.sleep(0.1)
        out, err = proc.communicate()
        if proc.returncode not in (0, 5):
            raise SystemExit(f"peak batch exited {proc.returncode}:\n{out}\n{err[-3000:]}")
        seconds = time.perf_counter() - t0
        print(f"peak memory, {args.peak} submissions with --jobs 2: {peak / 2**20:.0f} MiB resident in all "
              f"({peak_procs} processes at that moment); {seconds:.0f} s, {seconds / args.peak:.2f} s per submission")
        print(out.splitlines()[1] if len(out.splitlines()) > 1 else out)
    shutil.rmtree(tmp, ignore_errors=True)


def _tree(root: int) -> list[int]:
    """``root`` and every process under it (read from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="utf-8") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += children.get(pid, [])
    return out


def _rss(pid: int) -> int:
    """Resident bytes of a process (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/statm", encoding="utf-8") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


if __name__ == "__main__":
    main()
