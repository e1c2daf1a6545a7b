"""Writing into the real course's gradebook: the lesson template a worker grades against, and the record of a result.

Only the parent process of ``kzcourse grade`` calls :func:`record`, one submission at a time,
with SIGINT/SIGTERM blocked, so an interrupted run never leaves half a record.
"""
from __future__ import annotations

import datetime as _dt
import shutil
import signal
import warnings
from pathlib import Path
from typing import Callable

from kzcourse.grading import internals
from kzcourse.grading.course import Course, CourseError
from kzcourse.grading.journal import Outcome, Task, append_journal


def _recorded_submissions(course: Course, lesson: str) -> set[str]:
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(course.db_url, course.course_id) as gb:
        try:
            a = gb.find_assignment(lesson)
        except MissingEntry:
            return set()
        return {s.student_id for s in a.submissions}


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
    internals.create_schema(course.db_url, path)
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
        append_journal(course, {
            "student": student, "lesson": lesson, "digest": outcome.digest, "status": outcome.status,
            "reason": outcome.reason, "flags": outcome.flags, "score": outcome.score, "max_score": outcome.max_score,
            "seconds": outcome.seconds, "time": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            **({"log": str(result.get("log") or result.get("trace") or "")[-12000:]}
               if outcome.status == "broken" else {}),
        })
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
    return outcome
