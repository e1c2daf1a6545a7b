"""Benchmark: `kzcourse grade --jobs 2` against plain `nbgrader autograde` on the same 40 submissions.

One lesson (default 02-geography; pass another id as the first argument), 40 submissions of
mixed quality (right, partly right, wrong, blank) built by kzcourse.grading.demo, in a
temporary course. Both runs start from the same released course: the sequential run on a
copy with `nbgrader autograde LESSON --create --force` and nbgrader's own autograde pipeline
(the copy's config puts nbgrader's default `Autograde.autograde_preprocessors` back: no
sandbox, no canaries), the parallel one with `kzcourse grade LESSON --jobs 2` (sandbox and
integrity canaries on, as in production).
Prints seconds per submission for both and the ratio. Not a timed test.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

N = 40
KINDS = ("right", "partly", "wrong", "blank")


def main() -> None:
    lesson = sys.argv[1] if len(sys.argv) > 1 else "02-geography"
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
    run(py, "-m", "kzcourse", "init", str(tmp / "par"))
    run(py, "-m", "kzcourse", "release", lesson, "--no-exchange", cwd=tmp / "par")
    from kzcourse.grading.course import open_course
    from kzcourse.grading.demo import write_submissions

    write_submissions(open_course(tmp / "par"), lesson, {f"s{i:02d}": KINDS[i % len(KINDS)] for i in range(N)})
    shutil.copytree(tmp / "par", tmp / "seq")
    with open(tmp / "seq" / "nbgrader_config.py", "a", encoding="utf-8") as fh:  # plain nbgrader, as shipped
        fh.write("\nfrom nbgrader.converters.autograde import Autograde as _A\n"
                 "c.Autograde.autograde_preprocessors = _A.class_traits()['autograde_preprocessors'].default()\n")

    t0 = time.perf_counter()
    run(py, "-m", "nbgrader", "autograde", lesson, "--create", "--force", cwd=tmp / "seq")
    seq = time.perf_counter() - t0
    t0 = time.perf_counter()
    r = run(py, "-m", "kzcourse", "grade", lesson, "--jobs", "2", "--quiet", cwd=tmp / "par")
    par = time.perf_counter() - t0
    print(f"lesson {lesson}, {N} submissions, {os.cpu_count()} CPUs")
    print(f"nbgrader autograde (sequential):  {seq:7.1f} s  = {seq / N:.2f} s per submission")
    print(f"kzcourse grade --jobs 2:          {par:7.1f} s  = {par / N:.2f} s per submission")
    print(f"speed-up: {seq / par:.2f}x (target >= 1.7x)")
    print(r.stdout.splitlines()[1] if len(r.stdout.splitlines()) > 1 else r.stdout)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
