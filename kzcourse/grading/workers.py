"""The worker pool of ``kzcourse grade``: processes that autograde one submission at a time.

Each worker (``python -m kzcourse.grading.workers``) reads a header (course, scratch folder,
timeout, sandbox), then JSON tasks on stdin, and writes one JSON result per task on stdout. It
grades in a scratch course of its own: the lesson's source, the submission's notebook
(:func:`kzcourse.grading.submission.take_submission`), and a template gradebook holding the
lesson's cells, through nbgrader's ``NbGraderAPI.autograde`` with the course's configuration
(two-phase grading, :mod:`kzcourse.grading.phases`, in the sandbox). The parent
(:mod:`kzcourse.grading.grade`) starts them with :class:`Prestarted` or :class:`Proc` and records
their results (:mod:`kzcourse.grading.recording`).
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from kzcourse.grading import internals
from kzcourse.grading.course import Course, open_course
from kzcourse.grading.journal import JOURNAL
from kzcourse.grading.submission import NBGRADER_FILES, take_submission


def _sandbox_module():
    try:
        from kzcourse.grading import sandbox
    except ImportError:
        return None
    return sandbox


def _finding_dict(f: Any) -> dict:
    return {"code": str(getattr(f, "code", "")), "cell": str(getattr(f, "cell", "") or ""),
            "message": str(getattr(f, "message", f))}


def _reason_from(result: dict) -> str:
    """One line saying why nbgrader could not autograde a submission."""
    text = (result.get("log") or "") + "\n" + (result.get("error") or "")
    lowered = text.lower()
    if "celltimeouterror" in lowered or "timeout waiting for execute reply" in lowered or "timed out" in lowered:
        return "a cell ran longer than the time limit (raise it with --timeout S, or grade by hand)"
    if "deadkernelerror" in lowered or "kernel died" in lowered or "unresponsive" in lowered:
        return "the kernel died while running the submission (it may use too much memory or call exit)"
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    exc_lines = [l for l in lines if (":" in l and l.split(":", 1)[0].split(".")[-1].endswith(("Error", "Exception")))]
    if exc_lines:
        return f"nbgrader could not autograde it: {exc_lines[-1][:300]}"
    return f"nbgrader could not autograde it: {(lines[-1] if lines else 'no message')[:300]}"


class TaskTimeLimit(BaseException):
    """One submission held the worker past its wall-clock limit (a BaseException: nbgrader must not swallow it)."""


def task_limit(config: Any, timeout: int | None) -> int:
    """Wall-clock seconds one submission may hold a worker: phase 1's notebook limit, then the tests, twice.

    Set ``c.Worker.task_limit`` (seconds) in the course's configuration to change it.

    >>> from traitlets.config import Config
    >>> task_limit(Config(), 20)
    1440
    """
    own = config.get("Worker", {}).get("task_limit")
    if own:
        return int(own)
    notebook = config.get("TwoPhaseExecute", {}).get("notebook_timeout", 600) or 600
    cell = timeout or config.get("Execute", {}).get("timeout", 60) or 60
    return int(notebook + 2 * 20 * cell + 40)


def _alarm(signum, frame):
    raise TaskTimeLimit()


class Worker:
    """Grades one task at a time in a scratch course; used inside the worker process."""

    def __init__(self, course_root: Path, scratch_root: Path, timeout: int | None, sandbox: bool):
        self.course = open_course(course_root)
        self.scratch_root = scratch_root
        self.timeout = timeout
        self.sandbox = sandbox

    def grade(self, task: dict) -> dict:
        start = time.monotonic()
        limit = task_limit(self.course.config, self.timeout)
        previous = signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, limit)
        try:
            try:
                out = self._grade(task)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous)
        except TaskTimeLimit:
            out = {"status": "broken", "reason": f"grading held the worker past the wall-clock limit of {limit} s "
                                                 "per submission (c.Worker.task_limit); grade it by hand"}
        except Exception as exc:  # never let one submission stop the batch
            out = {"status": "broken", "reason": f"internal error while grading: {type(exc).__name__}: {exc}",
                   "trace": traceback.format_exc()}
        out.update(student=task["student"], lesson=task["lesson"], digest=task["digest"],
                   seconds=round(time.monotonic() - start, 3))
        return out

    def _grade(self, task: dict) -> dict:
        from nbgrader.api import Gradebook
        from traitlets.config import Config

        from kzcourse.grading import integrity, settings

        student, lesson = task["student"], task["lesson"]
        submitted = self.course.folder("submitted") / student / lesson
        # In the scratch course the student has a plain id: nbgrader globs student ids in
        # paths, so one with `[`, `*` or `?` would match nothing (the real id is recorded).
        alias = "student"
        scratch = self.scratch_root / "task"
        if scratch.exists():
            shutil.rmtree(scratch)
        root = scratch / "course"
        (root / "lessons").mkdir(parents=True)
        shutil.copytree(self.course.source_dir / lesson, root / "lessons" / lesson,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        db = root / "gradebook.db"
        shutil.copy(task["template"], db)
        db_url = f"sqlite:///{db}"
        with Gradebook(db_url, self.course.course_id) as gb:
            notebooks = [nb.name for nb in gb.find_assignment(lesson).notebooks]
            gb.update_or_create_student(alias)
            if task.get("extension_seconds"):
                gb.update_or_create_submission(lesson, alias,
                                               extension=_dt.timedelta(seconds=task["extension_seconds"]))
        dest = root / "submitted" / alias / lesson
        reason, flags = take_submission(submitted, dest, notebooks)
        if reason:
            return {"status": "broken", "reason": reason}

        config = Config(self.course.config)
        config.CourseDirectory.root = str(root)
        config.CourseDirectory.db_url = db_url
        if self.timeout:
            config.Execute.timeout = int(self.timeout)
        config.TwoPhaseExecute.scratch_root = str(self.scratch_root)
        autograded = root / "autograded" / alias / lesson
        current = list(config.Autograde.autograde_preprocessors) if "autograde_preprocessors" in config.Autograde \
            else None
        config.Autograde.autograde_preprocessors = settings.autograde_preprocessors(self.sandbox, current)
        config.Autograde.sanitize_preprocessors = settings.sanitize_preprocessors(
            list(config.Autograde.sanitize_preprocessors) if "sanitize_preprocessors" in config.Autograde else None)

        api = Course(root=root, config=config).api()
        result = api.autograde(lesson, alias, force=True, create=True)
        if not result.get("success"):
            return {"status": "broken", "reason": _reason_from(result), "log": (result.get("log") or "")[-8000:]
                    + (result.get("error") or "")[-4000:]}
        for f in map(_finding_dict, integrity.read_flags(autograded)):
            if f not in flags:
                flags.append(f)
        rows = {}
        with Gradebook(db_url, self.course.course_id) as gb:
            sub = gb.find_submission(lesson, alias)
            rows["timestamp"] = sub.timestamp.isoformat() if sub.timestamp else None
            rows["notebooks"] = {
                nb.name: {
                    "late_submission_penalty": nb.late_submission_penalty,
                    "grades": {g.name: g.auto_score for g in nb.grades},
                    "comments": {c.name: c.auto_comment for c in nb.comments},
                }
                for nb in sub.notebooks
            }
            score, max_score = sub.score, sub.max_score
        # Only the autograded notebooks, the flags and nbgrader's own small files go back to the course.
        for entry in list(autograded.iterdir()):
            keep = entry.suffix == ".ipynb" or entry.name == integrity.REPORT or entry.name in NBGRADER_FILES
            if not keep or entry.is_symlink() or not entry.is_file():
                shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
        return {"status": "graded", "autograded": str(autograded), "rows": rows, "flags": flags,
                "score": score, "max_score": max_score}


def _warm_up() -> None:
    """Import what grading needs while the parent still prepares the run (the worker is idle then)."""
    import nbformat  # noqa: F401
    import sqlalchemy  # noqa: F401
    from nbgrader.apps.api import NbGraderAPI  # noqa: F401
    from nbgrader.converters.autograde import Autograde  # noqa: F401
    from nbgrader.api import Gradebook  # noqa: F401

    from kzcourse.grading import phases  # noqa: F401

    _sandbox_module()


def worker_main() -> int:
    """Entry point of a worker process: JSON tasks on stdin, JSON results on the original stdout.

    The worker imports what grading needs first, then reads its header (course, scratch
    folder, timeout, sandbox), so the parent can start it before it has opened the course.
    """
    internals.skip_unused_imports()
    out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # anything printed by libraries goes to the log, not into the result stream
    sys.stdout = sys.stderr

    def stop(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    # A worker started ahead and not needed is stopped while it may still be importing: until
    # the imports are done, SIGTERM keeps its default (exit quietly, no traceback in the log).
    _warm_up()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    line = sys.stdin.readline()
    if not line.strip():
        return 0  # started ahead of time, and not needed
    header = json.loads(line)
    internals.fast_scratch_gradebooks(Path(header["scratch"]))
    worker = Worker(Path(header["course"]), Path(header["scratch"]), header.get("timeout"), header.get("sandbox", False))
    out.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
        task = json.loads(line)
        out.write(json.dumps(worker.grade(task)) + "\n")
    return 0


class Proc:
    """One worker process. It starts importing at once; :meth:`start` sends its header."""

    def __init__(self, root: Path, log: Path):
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        log.parent.mkdir(parents=True, exist_ok=True)
        self.log = open(log, "ab")
        self.p = subprocess.Popen([sys.executable, "-m", "kzcourse.grading.workers"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, env=env,
                                  start_new_session=True, cwd=str(root))
        self.buffer = b""
        self.task: dict | None = None
        self.ready = False

    def start(self, course: Course, scratch: Path, timeout: int | None, sandbox: bool) -> "Proc":
        self.send({"course": str(course.root), "scratch": str(scratch), "timeout": timeout, "sandbox": sandbox})
        return self

    def send(self, obj: dict) -> bool:
        """Write one JSON line to the worker; False if it has gone (its end of file is read next)."""
        try:
            self.p.stdin.write((json.dumps(obj) + "\n").encode())
            self.p.stdin.flush()
        except (BrokenPipeError, OSError):
            return False
        return True

    def lines(self) -> list[dict] | None:
        """Complete JSON lines read so far; None at end of file (the worker died)."""
        chunk = os.read(self.p.stdout.fileno(), 65536)
        if not chunk:
            return None
        self.buffer += chunk
        *complete, self.buffer = self.buffer.split(b"\n")
        return [json.loads(l) for l in complete if l.strip()]

    def stop(self, grace: float = 10.0) -> None:
        if self.p.poll() is None:
            try:
                os.killpg(self.p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.p.wait(grace)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.p.wait()
        self.log.close()


class Prestarted:
    """Worker processes started before the course is opened, so their imports overlap the parent's.

    ``kzcourse grade`` starts them first thing; :func:`grade` takes the ones it needs and
    :meth:`close` ends the rest. A worker that is never given a header exits on its own when
    its stdin closes.
    """

    def __init__(self, root: Path, jobs: int):
        self.procs = [Proc(root, root / ".kzcourse" / "logs" / f"worker-{n}.log") for n in range(jobs)]

    @staticmethod
    def worthwhile(root: Path) -> int:
        """How many submissions of ``root`` the journal does not list as graded yet (0 if it is no course).

        Only a guess, so that no more workers are started than there is work for;
        :func:`grade` decides what to grade.
        """
        from kzcourse.grading.course import CONFIG_NAME, STATE_DIR

        if not (root / CONFIG_NAME).is_file() or not (root / "submitted").is_dir():
            return 0
        graded = set()
        journal = root / STATE_DIR / JOURNAL
        if journal.is_file():
            for line in journal.read_text(encoding="utf-8").splitlines():
                try:
                    e = json.loads(line)
                except ValueError:
                    continue
                if e.get("status") == "graded":
                    graded.add((e.get("student"), e.get("lesson")))
        return sum((f.parent.name, f.name) not in graded for f in (root / "submitted").glob("*/*") if f.is_dir())

    def take(self, n: int) -> list[Proc]:
        taken, self.procs = self.procs[:n], self.procs[n:]
        return taken

    def close(self) -> None:
        for p in self.procs:
            try:
                p.p.stdin.close()
            except OSError:
                pass
        for p in self.procs:
            p.stop(grace=5.0)
        self.procs = []


if __name__ == "__main__":
    raise SystemExit(worker_main())
