"""Collect and autograde submissions in parallel, sandboxed and resumable, with nbgrader as the engine.

How one run works
-----------------
1. Submissions waiting in the exchange are collected (nbgrader's own ``collect``).
2. Every ``submitted/<student>/<lesson>/`` folder is a task, unless the grading journal
   (``.kzcourse/journal.jsonl``) says that exact content was already graded and the
   gradebook still holds it. Students who are not in the gradebook are added, with a warning.
3. N worker processes (:mod:`kzcourse.grading.workers`) each take one task at a time and
   autograde it in a scratch course of its own: a copy of the lesson's source, of the
   submission's notebook only (:mod:`kzcourse.grading.submission`), and a small gradebook
   holding the lesson's cells (copied row by row from the real gradebook). They run nbgrader's
   ``Autograde`` converter through ``NbGraderAPI.autograde``, with the course's own
   configuration: two-phase grading (:mod:`kzcourse.grading.phases`), the kernels inside the
   sandbox (:mod:`kzcourse.grading.sandbox`).
4. The parent process alone writes to the real course (:mod:`kzcourse.grading.recording`): it
   copies the autograded notebook into ``autograded/<student>/<lesson>/``, writes the scores
   into the gradebook exactly as nbgrader's ``SaveAutoGrades`` would (same fields, same
   ``needs_manual_grade`` rule), then appends one line to the journal
   (:mod:`kzcourse.grading.journal`, which documents its format). Signals are blocked for those
   few milliseconds, so an interrupted run never leaves a half-recorded submission.
5. SIGINT or SIGTERM stops the workers (their kernels are shut down) and the run exits with
   130 or 143; running it again grades only what is left.

Only a submission that is not a notebook (invalid, missing, a link) is *broken*: reported by
student and lesson with the reason (saved in the journal with nbgrader's log). Nothing is
written to the gradebook for it (it never appears as a 0). A kernel that dies or a cell over
the time limit costs only what came after it; the submission is graded and flagged.
"""
from __future__ import annotations

import os
import selectors
import shutil
import signal
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from kzcourse.grading.course import Course, CourseError
from kzcourse.grading.journal import Outcome, Task, read_journal
from kzcourse.grading.recording import _check_released, _ensure_students, _recorded_submissions, build_template, record
from kzcourse.grading.submission import check_submitted_layout, submission_digest
from kzcourse.grading.workers import Prestarted, Proc, _sandbox_module


@dataclass
class GradeRun:
    """The result of :func:`grade`."""

    outcomes: list[Outcome] = field(default_factory=list)
    already_done: int = 0
    pending: int = 0
    interrupted_by: int | None = None  # signal number
    warnings: list[str] = field(default_factory=list)

    @property
    def broken(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "broken"]

    @property
    def flagged(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "graded" and o.flagged]


def discover(course: Course, lessons: list[str], *, force: bool = False) -> tuple[list[Task], int]:
    """Tasks left to grade for ``lessons`` and how many submissions are already graded."""
    submitted = course.folder("submitted")
    journal = {} if force else read_journal(course)
    tasks, done = [], 0
    for lesson in lessons:
        recorded = _recorded_submissions(course, lesson)
        for folder in sorted(submitted.glob(f"*/{lesson}")) if submitted.is_dir() else []:
            if not folder.is_dir() or folder.parent.name.startswith("."):
                continue
            student = folder.parent.name
            digest = submission_digest(folder)
            last = journal.get((student, lesson))
            if last and last.get("status") == "graded" and last.get("digest") == digest and student in recorded:
                done += 1
                continue
            tasks.append(Task(student, lesson, digest))
    return tasks, done


class Progress:
    """A plain-text progress bar on stderr (one line per tenth when stderr is not a terminal)."""

    def __init__(self, total: int, stream=None, enabled: bool = True):
        self.total, self.done, self.broken, self.flagged = total, 0, 0, 0
        self.stream = stream or sys.stderr
        self.enabled = enabled and total > 0
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = time.monotonic()
        self._last_tenth = -1

    def line(self) -> str:
        width = 30
        filled = int(width * self.done / self.total) if self.total else width
        elapsed = time.monotonic() - self.start
        eta = elapsed / self.done * (self.total - self.done) if self.done else 0
        return (f"grading [{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total}"
                f"  broken {self.broken}  flagged {self.flagged}  {elapsed:.0f}s elapsed"
                + (f", ~{eta:.0f}s left" if self.done and self.done < self.total else ""))

    def update(self, outcome: Outcome | None = None) -> None:
        if outcome is not None:
            self.done += 1
            self.broken += outcome.status == "broken"
            self.flagged += outcome.status == "graded" and outcome.flagged
        if not self.enabled:
            return
        if self.tty:
            self.stream.write("\r" + self.line())
            self.stream.flush()
        else:
            tenth = int(10 * self.done / self.total)
            if tenth != self._last_tenth:
                self._last_tenth = tenth
                self.stream.write(self.line() + "\n")
                self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.tty:
            self.stream.write("\n")
            self.stream.flush()


def grade(course: Course, lessons: list[str] | None = None, *, jobs: int | None = None, timeout: int | None = None,
          sandbox: bool = True, force: bool = False, collect: bool = True, progress: bool = True,
          warn: Callable[[str], None] | None = None, prestarted: Prestarted | None = None) -> GradeRun:
    """Collect and autograde ``lessons`` (default: all) in parallel; see the module docstring.

    ``prestarted``: worker processes started ahead (:class:`Prestarted`); those not needed are
    closed as soon as the run knows how many it needs (closing again is harmless).

    Raises :class:`CourseError` for bad input (unknown lesson, unreleased lesson, misplaced files,
    no sandbox while ``sandbox`` is required).
    """
    run = GradeRun()

    def _warn(msg: str) -> None:
        run.warnings.append(msg)
        (warn or (lambda m: print(f"warning: {m}", file=sys.stderr)))(msg)

    if lessons:
        lessons = course.check_lessons(lessons)
    else:  # every lesson with at least one submission
        submitted = course.folder("submitted")
        lessons = [l for l in course.lesson_ids() if submitted.is_dir() and any(submitted.glob(f"*/{l}"))]
    jobs = max(1, jobs or os.cpu_count() or 1)
    sb = _sandbox_module()
    if sandbox:
        if sb is None:
            _warn("kzcourse.grading.sandbox is not installed: student code runs without a sandbox")
            sandbox = False
        elif not sb.available():
            raise CourseError(
                "The sandbox is not available: expected bubblewrap (`bwrap`) to be installed and usable. "
                "Install the Debian package `bubblewrap`, or pass --no-sandbox to run student code with your own "
                "rights (only for submissions you trust)."
            )
    if collect:
        _collect(course, lessons, _warn)
    check_submitted_layout(course)
    _check_released(course, lessons)
    tasks, run.already_done = discover(course, lessons, force=force)
    _ensure_students(course, tasks, _warn)
    if not tasks:
        return run
    state = course.state_dir
    run_dir = state / "run"
    if run_dir.exists():
        shutil.rmtree(run_dir)
    (run_dir / "scratch").mkdir(parents=True)
    (state / "logs").mkdir(exist_ok=True)
    templates = {}
    for lesson in sorted({t.lesson for t in tasks}):
        templates[lesson] = run_dir / f"template-{lesson}.db"
        build_template(course, lesson, templates[lesson])

    bar = Progress(len(tasks), enabled=progress)
    stop_signal: list[int] = []

    def on_signal(signum, frame):
        stop_signal.append(signum)

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    procs: list[Proc] = []
    pending = list(reversed(tasks))
    sel = selectors.DefaultSelector()
    def give_next(p: Proc) -> None:
        if p.ready and p.task is None and pending and not stop_signal:
            t = pending.pop()
            p.task = dict(asdict(t), template=str(templates[t.lesson]))
            if not p.send(p.task):  # the worker died: the task goes back, its end of file is handled below
                pending.append(t)
                p.task, p.ready = None, False

    try:
        wanted = min(jobs, len(tasks))
        ahead = prestarted.take(wanted) if prestarted is not None else []
        if prestarted is not None:
            prestarted.close()  # any left over are not needed: free them now, not after the run
        for n in range(wanted):
            p = ahead[n] if n < len(ahead) else Proc(course.root, state / "logs" / f"worker-{n}.log")
            procs.append(p.start(course, run_dir / "scratch" / f"w{n}", timeout, sandbox))
            sel.register(p.p.stdout, selectors.EVENT_READ, p)
        bar.update()
        while (pending or any(p.task for p in procs)) and not stop_signal:
            for p in procs:
                give_next(p)
            for key, _ in sel.select(timeout=0.5):
                p = key.data
                msgs = p.lines()
                if msgs is None:  # the worker process died
                    sel.unregister(p.p.stdout)
                    procs.remove(p)
                    if p.task is not None and not stop_signal:
                        t = p.task
                        o = record(course, {"student": t["student"], "lesson": t["lesson"], "digest": t["digest"],
                                            "status": "broken",
                                            "reason": "the grading worker process died (see .kzcourse/logs/)"})
                        run.outcomes.append(o)
                        bar.update(o)
                    p.stop(0)
                    if (pending or any(q.task for q in procs)) and not stop_signal:
                        n = len(procs) + len(run.outcomes)
                        q = Proc(course.root, state / "logs" / f"worker-r{n}.log").start(
                            course, run_dir / "scratch" / f"w{n}", timeout, sandbox)
                        procs.append(q)
                        sel.register(q.p.stdout, selectors.EVENT_READ, q)
                    continue
                for msg in msgs:
                    if msg.get("ready"):
                        p.ready = True
                        give_next(p)
                        continue
                    p.task = None
                    o = record(course, msg)  # recorded first: a worker that exits now loses nothing
                    run.outcomes.append(o)
                    bar.update(o)
                    give_next(p)
            if not procs and pending:
                raise RuntimeError("every grading worker died; see .kzcourse/logs/")
    finally:
        for p in procs:
            try:
                p.p.stdin.close()
            except OSError:
                pass
        for p in procs:
            p.stop()
        sel.close()
        bar.close()
        for s, h in previous.items():
            signal.signal(s, h)
    if stop_signal:
        run.interrupted_by = stop_signal[0]
        run.pending = len(tasks) - len(run.outcomes)
    else:
        shutil.rmtree(run_dir, ignore_errors=True)
    return run


def _collect(course: Course, lessons: list[str], warn: Callable[[str], None]) -> None:
    """Collect submissions waiting in the exchange with nbgrader's own ``collect`` (if an exchange is set)."""
    root = course.config.Exchange.get("root") if "Exchange" in course.config else None
    if not root or not (Path(str(root)) / (course.course_id or "") / "inbound").is_dir():
        return
    api = course.api()
    for lesson in lessons:
        result = api.collect(lesson)
        if not result.get("success"):
            warn(f"collecting {lesson} from the exchange failed: {(result.get('error') or '').strip().splitlines()[-1:]}")


@dataclass
class Summary:
    """The state of grading for some lessons after a run: what is graded, broken, flagged."""

    run: GradeRun
    graded: int
    broken: list[dict]
    flagged: list[dict]

    def exit_code(self) -> int:
        """4 if any submission is broken, 5 if any is flagged, 6 if both, else 0 (see kzcourse.cli)."""
        return {(False, False): 0, (True, False): 4, (False, True): 5, (True, True): 6}[
            (bool(self.broken), bool(self.flagged))]

    def text(self) -> str:
        run = self.run
        lines = [f"graded {len(run.outcomes) - len(run.broken)} submission(s) in this run"
                 f" ({run.already_done} already graded before, skipped)"]
        if run.interrupted_by is not None:
            lines.append(f"INTERRUPTED by {signal.Signals(run.interrupted_by).name}: {run.pending} submission(s) "
                         f"left; run the same command again to grade them")
        lines.append(f"{self.graded} graded, {len(self.broken)} broken, {len(self.flagged)} flagged for review")
        if self.broken:
            lines.append("BROKEN (not graded, nothing recorded; fix or grade by hand):")
            lines += [f"  {e['student']}  {e['lesson']}  {e['reason']}" for e in self.broken]
        if self.flagged:
            lines.append("FLAGGED for manual review (scores recorded, flagged in the Formgrader):")
            for e in self.flagged:
                why = "; ".join(f"{f.get('code')}: {f.get('message')}" + (f" (cell {f['cell']})" if f.get("cell") else "")
                                for f in e["flags"])
                lines.append(f"  {e['student']}  {e['lesson']}  {why}")
        return "\n".join(lines)


def summarise(course: Course, lessons: list[str], run: GradeRun | None = None) -> Summary:
    """Summarise the journal for ``lessons``: only submissions still present with the same content count."""
    journal = read_journal(course)
    submitted = course.folder("submitted")
    broken, flagged, graded = [], [], 0
    for (student, lesson), e in sorted(journal.items()):
        folder = submitted / student / lesson
        if lesson not in lessons or not folder.is_dir() or submission_digest(folder) != e.get("digest"):
            continue
        if e["status"] == "broken":
            broken.append(e)
        else:
            graded += 1
            if e.get("flags"):
                flagged.append(e)
    return Summary(run or GradeRun(), graded, broken, flagged)
