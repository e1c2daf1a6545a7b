"""Collect and autograde submissions in parallel, sandboxed and resumable, with nbgrader as the engine.

How one run works
-----------------
1. Submissions waiting in the exchange are collected (nbgrader's own ``collect``).
2. Every ``submitted/<student>/<lesson>/`` folder is a task, unless the grading journal
   (``.kzcourse/journal.jsonl``) says that exact content was already graded and the
   gradebook still holds it. Students who are not in the gradebook are added, with a warning.
3. N worker processes (``python -m kzcourse.grading.grade --worker``) each take one task
   at a time and autograde it in a scratch course of its own: a copy of the lesson's source,
   of the submission, and a small gradebook holding the lesson's cells (copied row by row
   from the real gradebook). They run nbgrader's ``Autograde`` converter through
   ``NbGraderAPI.autograde``, with the course's own configuration, the student's kernel
   inside the sandbox (:mod:`kzcourse.grading.sandbox`), and the integrity canaries
   (:mod:`kzcourse.grading.integrity`) around nbgrader's ``Execute``.
4. The parent process alone writes to the real course: it copies the autograded folder into
   ``autograded/<student>/<lesson>/``, writes the scores into the gradebook exactly as
   nbgrader's ``SaveAutoGrades`` would (same fields, same ``needs_manual_grade`` rule), then
   appends one line to the journal. Signals are blocked for those few milliseconds, so an
   interrupted run never leaves a half-recorded submission.
5. SIGINT or SIGTERM stops the workers (their kernels are shut down) and the run exits with
   130 or 143; running it again grades only what is left.

A submission that cannot be graded — not a valid notebook, missing its notebook, a kernel
that died, a cell over the time limit — is reported as *broken* by student and lesson with the
reason. Nothing is written to the gradebook for it (it never appears as a 0).
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import selectors
import shutil
import signal
import stat
import subprocess
import sys
import time
import traceback
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from kzcourse.grading.course import Course, CourseError, open_course

JOURNAL = "journal.jsonl"


# --------------------------------------------------------------------------- data


@dataclass
class Task:
    """One submission to grade."""

    student: str
    lesson: str
    digest: str
    extension_seconds: float | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.student, self.lesson)


@dataclass
class Outcome:
    """What became of one submission in a run."""

    student: str
    lesson: str
    status: str  # "graded" or "broken"
    reason: str = ""
    score: float | None = None
    max_score: float | None = None
    flags: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    digest: str = ""

    @property
    def flagged(self) -> bool:
        return bool(self.flags)


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


# --------------------------------------------------------------------------- helpers


def submission_digest(folder: Path) -> str:
    """SHA-256 over the relative paths and bytes of every file in a submission folder (links not followed).

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "a.ipynb").write_text("{}")
    >>> len(submission_digest(d))
    64
    """
    h = hashlib.sha256()
    for rel, st in _entries(folder):
        if ".ipynb_checkpoints" in Path(rel).parts or stat.S_ISDIR(st.st_mode):
            continue
        h.update(rel.encode() + b"\0")
        if stat.S_ISREG(st.st_mode):  # links are never followed: a link counts by its target's name
            h.update(_read_regular(folder / rel, 1 << 62) + b"\0")
        elif stat.S_ISLNK(st.st_mode):
            h.update(b"link:" + os.fsencode(os.readlink(folder / rel)) + b"\0")
        else:
            h.update(f"special:{stat.S_IFMT(st.st_mode)}".encode() + b"\0")
    return h.hexdigest()


def check_submitted_layout(course: Course) -> None:
    """Refuse files placed where nbgrader expects folders: ``submitted/<student>/<lesson>/``.

    Raises :class:`CourseError` listing each misplaced file and where it belongs.
    """
    submitted = course.folder("submitted")
    if not submitted.is_dir():
        return
    stray = []
    for entry in sorted(submitted.iterdir()):
        if entry.name.startswith("."):
            continue
        if not entry.is_dir():
            stray.append(f"{entry.relative_to(course.root)} (a file directly in submitted/)")
            continue
        for sub in sorted(entry.iterdir()):
            if not sub.name.startswith(".") and not sub.is_dir():
                stray.append(f"{sub.relative_to(course.root)} (a file directly in a student's folder)")
    if stray:
        raise CourseError(
            "Files are not where nbgrader expects them: " + "; ".join(stray) + ". Expected each submission in "
            "submitted/<student>/<lesson>/<lesson>.ipynb. Move each file into its student's lesson folder "
            "(or delete it), then run the command again."
        )


def read_journal(course: Course) -> dict[tuple[str, str], dict]:
    """The last journal entry per (student, lesson)."""
    path = course.state_dir / JOURNAL
    entries: dict[tuple[str, str], dict] = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                e = json.loads(line)
                entries[(e["student"], e["lesson"])] = e
            except (ValueError, KeyError):
                continue  # a torn last line from a killed process
    return entries


def _append_journal(course: Course, entry: dict) -> None:
    course.state_dir.mkdir(exist_ok=True)
    with open(course.state_dir / JOURNAL, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry, sort_keys=True) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def _recorded_submissions(course: Course, lesson: str) -> set[str]:
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(course.db_url, course.course_id) as gb:
        try:
            a = gb.find_assignment(lesson)
        except MissingEntry:
            return set()
        return {s.student_id for s in a.submissions}


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


def _check_released(course: Course, lessons: list[str]) -> None:
    from nbgrader.api import Gradebook, MissingEntry

    missing = []
    with Gradebook(course.db_url, course.course_id) as gb:
        for lesson in lessons:
            try:
                if not gb.find_assignment(lesson).notebooks:
                    missing.append(lesson)
            except MissingEntry:
                missing.append(lesson)
    if missing:
        raise CourseError(
            f"Lesson(s) {', '.join(missing)} are not in the gradebook yet: expected them released before grading "
            f"(nbgrader stores each test cell when it generates the student version). "
            f"Run `kzcourse release {' '.join(missing)}` first."
        )


def _ensure_students(course: Course, tasks: list[Task], warn: Callable[[str], None]) -> None:
    """Add students who are not on the roster (as nbgrader does, with a warning); read extensions."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(course.db_url, course.course_id) as gb:
        known = {s.id for s in gb.students}
        for student in sorted({t.student for t in tasks} - known):
            warn(f"student {student!r} is not on the roster; adding them to the gradebook")
            gb.update_or_create_student(student)
        for t in tasks:
            try:
                ext = gb.find_submission(t.lesson, t.student).extension
            except MissingEntry:
                ext = None
            t.extension_seconds = ext.total_seconds() if ext else None


def build_template(course: Course, lesson: str, path: Path) -> None:
    """Copy one lesson's definition (assignment, notebooks, cells) into a new SQLite gradebook at ``path``.

    Row by row through nbgrader's Gradebook API, so it works for any database URL.
    """
    from nbgrader.api import Gradebook

    if path.exists():
        path.unlink()
    _create_schema(course, path)
    with Gradebook(course.db_url, course.course_id) as src, Gradebook(f"sqlite:///{path}", course.course_id) as dst:
        a = src.find_assignment(lesson)
        dst.update_or_create_assignment(lesson, duedate=a.duedate)
        for nb in a.notebooks:
            dst.update_or_create_notebook(nb.name, lesson, kernelspec=nb.kernelspec)
            for c in nb.grade_cells:
                dst.update_or_create_grade_cell(c.name, nb.name, lesson, max_score=c.max_score, cell_type=c.cell_type)
            for c in nb.solution_cells:
                dst.update_or_create_solution_cell(c.name, nb.name, lesson)
            for c in nb.task_cells:
                dst.update_or_create_task_cell(c.name, nb.name, lesson, max_score=c.max_score, cell_type=c.cell_type)
            for c in nb.source_cells:
                dst.update_or_create_source_cell(c.name, nb.name, lesson, cell_type=c.cell_type, locked=c.locked,
                                                 source=c.source, checksum=c.checksum)


def _create_schema(course: Course, path: Path) -> None:
    """Create nbgrader's tables in a new SQLite file, stamped with the real gradebook's schema version.

    Opening a new database, nbgrader's ``Gradebook`` asks the ``alembic`` command for the
    schema version in a subprocess (about 3 s, a second Python with its imports). The real
    gradebook already carries that version, so the template takes it from there and nbgrader
    opens the template as an existing database. Without a version to copy, nothing is
    created and nbgrader does it the usual way.
    """
    import sqlalchemy as sa
    from nbgrader.api import Base

    src = sa.create_engine(course.db_url)
    try:
        with src.connect() as conn:
            version = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    except sa.exc.SQLAlchemyError:
        version = None
    finally:
        src.dispose()
    if not version:
        return
    dst = sa.create_engine(f"sqlite:///{path}")
    try:
        Base.metadata.create_all(bind=dst)
        with dst.begin() as conn:
            conn.execute(sa.text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
            conn.execute(sa.text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": version})
    finally:
        dst.dispose()


# --------------------------------------------------------------------------- worker side


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


#: A submitted notebook larger than this is refused (broken), never read into memory.
MAX_NOTEBOOK_BYTES = 64 << 20


def _entries(folder: Path) -> list[tuple[str, os.stat_result]]:
    """Every entry under ``folder`` (relative path, lstat), links never followed."""
    out = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        for name in sorted(dirnames + filenames):
            path = Path(dirpath) / name
            out.append((str(path.relative_to(folder)), path.lstat()))
    return sorted(out)


def _read_regular(path: Path, limit: int) -> bytes:
    """The bytes of a regular file, opened without following a link; OSError otherwise."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(f"{path.name} is not a regular file")
        if st.st_size > limit:
            raise OSError(f"{path.name} has {st.st_size} bytes, more than the {limit} allowed")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            return fh.read()
    finally:
        os.close(fd)


def take_submission(folder: Path, dest: Path, notebooks: list[str]) -> tuple[str | None, list[dict]]:
    """Copy a submission's notebooks (and nbgrader's ``timestamp.txt``) into ``dest``, as data.

    Every entry is looked at with ``lstat`` before anything is read: only regular files named
    ``<notebook>.ipynb`` are copied (opened without following links); links, devices, FIFOs,
    folders and other files are never followed, read or copied, and are flagged. Returns the
    reason the submission cannot be graded (or None) and the flags.

    >>> import tempfile
    >>> src, dst = Path(tempfile.mkdtemp()), Path(tempfile.mkdtemp()) / "s"
    >>> import nbformat
    >>> nbformat.write(nbformat.v4.new_notebook(), src / "l1.ipynb")
    >>> (src / "kzcourse").mkdir(); (src / "db").symlink_to("/etc/passwd")
    >>> reason, flags = take_submission(src, dst, ["l1"])
    >>> reason, sorted(p.name for p in dst.iterdir()), flags[0]["code"]
    (None, ['l1.ipynb'], 'submission-files')
    """
    import nbformat

    dest.mkdir(parents=True, exist_ok=True)
    entries = _entries(folder)
    wanted = {f"{name}.ipynb" for name in notebooks}
    ignored = []
    for rel, st in entries:
        if ".ipynb_checkpoints" in Path(rel).parts:
            continue
        if rel in wanted and stat.S_ISREG(st.st_mode):
            continue
        if rel == "timestamp.txt" and stat.S_ISREG(st.st_mode) and st.st_size < 1024:
            shutil.copyfile(folder / rel, dest / rel, follow_symlinks=False)
            continue
        kind = ("a symbolic link" if stat.S_ISLNK(st.st_mode) else "a folder" if stat.S_ISDIR(st.st_mode)
                else "a file" if stat.S_ISREG(st.st_mode) else "a device, FIFO or socket")
        ignored.append(f"{rel} ({kind})")
    for name in notebooks:
        path = folder / f"{name}.ipynb"
        present = ", ".join(rel for rel, _ in entries if "/" not in rel) or "nothing"
        try:
            st = path.lstat()
        except FileNotFoundError:
            return (f"no {name}.ipynb in the submission (found: {present}); expected the lesson's notebook under "
                    "its own name"), []
        if not stat.S_ISREG(st.st_mode):
            return (f"{name}.ipynb is not a notebook file but "
                    f"{'a symbolic link' if stat.S_ISLNK(st.st_mode) else 'a folder or special file'}; only a "
                    "notebook file is graded (links are never followed)"), []
        try:
            data = _read_regular(path, MAX_NOTEBOOK_BYTES)
            nb = nbformat.reads(data.decode("utf-8"), as_version=4)
            nbformat.validate(nb)
        except Exception as exc:  # JSON, encoding or schema errors of every kind
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            return f"{name}.ipynb is not a valid notebook ({type(exc).__name__}: {first[:200]})", []
        (dest / f"{name}.ipynb").write_bytes(data)
    flags = []
    if ignored:
        shown = "; ".join(ignored[:10]) + (f"; and {len(ignored) - 10} more" if len(ignored) > 10 else "")
        flags.append({"code": "submission-files", "cell": "",
                      "message": f"the submission folder holds more than the notebook, none of it graded or copied: "
                                 f"{shown}"})
    return None, flags


class Worker:
    """Grades one task at a time in a scratch course; used inside the worker process."""

    def __init__(self, course_root: Path, scratch_root: Path, timeout: int | None, sandbox: bool):
        self.course = open_course(course_root)
        self.scratch_root = scratch_root
        self.timeout = timeout
        self.sandbox = sandbox

    def grade(self, task: dict) -> dict:
        start = time.monotonic()
        try:
            out = self._grade(task)
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

        from kzcourse.grading.course import Course

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
        # Only the autograded notebooks (and the flags) go back to the course.
        for entry in list(autograded.iterdir()):
            if not (entry.suffix == ".ipynb" or entry.name == integrity.REPORT) or entry.is_symlink() \
                    or not entry.is_file():
                shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
        return {"status": "graded", "autograded": str(autograded), "rows": rows, "flags": flags,
                "score": score, "max_score": max_score}


def skip_unused_imports() -> None:
    """Keep ``rfc3987_syntax`` out of a grading process (it costs 1.2 s at import, and is never used there).

    ``import nbformat`` imports ``jsonschema``, whose format module imports the optional
    ``rfc3987_syntax`` when it is installed, which builds a Lark grammar at import time. That
    module serves one purpose: jsonschema's ``iri`` and ``iri-reference`` *format* checks. In
    ``kzcourse grade``'s processes nothing validates with a format checker: nbformat validates
    notebooks with fastjsonschema (or with jsonschema without a format checker), nbgrader
    validates its cell metadata with ``jsonschema.validate`` without one, and no schema either
    uses holds an ``iri`` format. (jupyter_events, the one library here that passes a format
    checker, validates only inside a Jupyter server.) Marking the module as absent is what
    jsonschema sees when the package is not installed: the two format checks are simply not
    registered. Call this before anything imports ``jsonschema``; afterwards it does nothing.
    The student's kernel is another process and is not affected.

    >>> import sys
    >>> skip_unused_imports()
    >>> "jsonschema" in sys.modules or sys.modules.get("rfc3987_syntax", 0) is None
    True
    """
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)


def _warm_up() -> None:
    """Import what grading needs while the parent still prepares the run (the worker is idle then)."""
    import nbformat  # noqa: F401
    import sqlalchemy  # noqa: F401
    from nbgrader.apps.api import NbGraderAPI  # noqa: F401
    from nbgrader.converters.autograde import Autograde  # noqa: F401
    from nbgrader.api import Gradebook  # noqa: F401

    from kzcourse.grading import phases  # noqa: F401

    _sandbox_module()


def _fast_scratch_gradebooks(scratch_root: Path) -> None:
    """Commit to scratch gradebooks without waiting for the disk.

    nbgrader commits its gradebook some 40 times per submission, and SQLite waits for the
    disk (fsync) at each commit: about 0.1 s per submission here. A worker's gradebooks are
    scratch copies under ``scratch_root``, read back by the same worker right after
    autograding and thrown away: if the machine fails meanwhile, the submission is simply
    graded again (nothing reached the real course or the journal). So connections to files
    under ``scratch_root`` use ``PRAGMA synchronous=OFF``; every other database keeps its
    settings.
    """
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    root = str(scratch_root.resolve()) + os.sep

    def on_connect(dbapi_connection, connection_record):
        if type(dbapi_connection).__module__.split(".")[0] not in ("sqlite3", "pysqlite2"):
            return
        files = [row[2] for row in dbapi_connection.execute("PRAGMA database_list").fetchall()]
        if files and files[0] and os.path.realpath(files[0]).startswith(root):
            dbapi_connection.execute("PRAGMA synchronous=OFF")

    if not event.contains(Engine, "connect", on_connect):
        event.listen(Engine, "connect", on_connect)


def worker_main() -> int:
    """Entry point of a worker process: JSON tasks on stdin, JSON results on the original stdout.

    The worker imports what grading needs first, then reads its header (course, scratch
    folder, timeout, sandbox), so the parent can start it before it has opened the course.
    """
    skip_unused_imports()
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
    _fast_scratch_gradebooks(Path(header["scratch"]))
    worker = Worker(Path(header["course"]), Path(header["scratch"]), header.get("timeout"), header.get("sandbox", False))
    out.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
        task = json.loads(line)
        out.write(json.dumps(worker.grade(task)) + "\n")
    return 0


# --------------------------------------------------------------------------- parent side


def record(course: Course, result: dict) -> Outcome:
    """Write one worker result into the real course (autograded folder, gradebook, journal).

    Signals are blocked meanwhile, so SIGINT/SIGTERM never split a submission's record.
    """
    from nbgrader.api import Gradebook

    student, lesson = result["student"], result["lesson"]
    outcome = Outcome(student, lesson, result["status"], reason=result.get("reason", ""),
                      flags=result.get("flags", []), seconds=result.get("seconds", 0.0), digest=result["digest"],
                      score=result.get("score"), max_score=result.get("max_score"))
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        if outcome.status == "graded":
            dest = course.folder("autograded") / student / lesson
            staging = dest.parent / f".{lesson}.incoming"
            if staging.exists():
                shutil.rmtree(staging)
            shutil.copytree(result["autograded"], staging)
            if dest.exists():
                shutil.rmtree(dest)
            staging.rename(dest)
            rows = result["rows"]
            with warnings.catch_warnings(), Gradebook(course.db_url, course.course_id) as gb:
                warnings.simplefilter("ignore")  # SQLAlchemy autoflush notes from inside nbgrader's API
                ts = _dt.datetime.fromisoformat(rows["timestamp"]) if rows.get("timestamp") else None
                if ts is not None:
                    gb.update_or_create_submission(lesson, student, timestamp=ts)
                else:
                    gb.update_or_create_submission(lesson, student)
                for nb_name, nb_rows in rows["notebooks"].items():
                    snb = gb.find_submission_notebook(nb_name, lesson, student)
                    snb.late_submission_penalty = nb_rows["late_submission_penalty"]
                    if outcome.flags:  # nbgrader itself never clears a flag; neither do we
                        snb.flagged = True
                    for g in snb.grades:
                        if g.name in nb_rows["grades"]:
                            g.auto_score = nb_rows["grades"][g.name]
                            # nbgrader's SaveAutoGrades rule, applied against the real gradebook
                            g.needs_manual_grade = g.manual_score is not None or g.auto_score is None
                    for c in snb.comments:
                        if c.name in nb_rows["comments"]:
                            c.auto_comment = nb_rows["comments"][c.name]
                gb.db.commit()
        _append_journal(course, {
            "student": student, "lesson": lesson, "digest": outcome.digest, "status": outcome.status,
            "reason": outcome.reason, "flags": outcome.flags, "score": outcome.score, "max_score": outcome.max_score,
            "seconds": outcome.seconds, "time": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            **({"log": str(result.get("log") or result.get("trace") or "")[-12000:]}
               if outcome.status == "broken" else {}),
        })
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
    return outcome


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


class _Proc:
    """One worker process. It starts importing at once; :meth:`start` sends its header."""

    def __init__(self, root: Path, log: Path):
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        log.parent.mkdir(parents=True, exist_ok=True)
        self.log = open(log, "ab")
        self.p = subprocess.Popen([sys.executable, "-m", "kzcourse.grading.grade", "--worker"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, env=env,
                                  start_new_session=True, cwd=str(root))
        self.buffer = b""
        self.task: dict | None = None
        self.ready = False

    def start(self, course: Course, scratch: Path, timeout: int | None, sandbox: bool) -> "_Proc":
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
        self.procs = [_Proc(root, root / ".kzcourse" / "logs" / f"worker-{n}.log") for n in range(jobs)]

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

    def take(self, n: int) -> list[_Proc]:
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
    procs: list[_Proc] = []
    pending = list(reversed(tasks))
    sel = selectors.DefaultSelector()
    def give_next(p: _Proc) -> None:
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
            p = ahead[n] if n < len(ahead) else _Proc(course.root, state / "logs" / f"worker-{n}.log")
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
                        q = _Proc(course.root, state / "logs" / f"worker-r{n}.log").start(
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


if __name__ == "__main__":
    if "--worker" in sys.argv:
        raise SystemExit(worker_main())
    raise SystemExit("usage: python -m kzcourse.grading.grade --worker (used by `kzcourse grade`)")
