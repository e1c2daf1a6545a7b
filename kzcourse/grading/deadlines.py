"""Due dates, per-student extensions and the late policy of a term, kept in nbgrader's gradebook.

The term file ``deadlines.toml`` in the course folder is what the instructor edits (or
``kzcourse deadline`` writes)::

    [policy]
    per_day = 0.1          # share of the lesson's points lost per started day late
    grace_minutes = 0      # submissions this many minutes late are on time

    [due]
    "01-article" = 2026-02-02T23:59:00+05:00

    [extensions."01-article"]
    aigerim01 = 2026-02-04T23:59:00+05:00

**The late policy** (:func:`penalty`): a submission is late when nbgrader's timestamp of it
(``timestamp.txt``, written by ``nbgrader submit``/``collect``) is after the student's due
date — the lesson's due date, or the student's extension when there is one — plus the grace
period. A late submission loses ``per_day`` × the lesson's maximum score for every started
24 hours, never more than it scored. A submission without a timestamp is never late.

Every change (:func:`set_due`, :func:`extend`) writes the term file, mirrors the dates into
the gradebook (``Assignment.duedate``; ``SubmittedAssignment.extension`` as the extra time
over the due date) and **recomputes the penalty of every graded submission**
(:func:`recompute`): nbgrader's ``late_submission_penalty`` of each submitted notebook, which
nbgrader's feedback, the Formgrader, ``kzcourse export`` and ``kzcourse report`` all read.
``kzcourse grade``, ``feedback``, ``export`` and ``report`` recompute too before they read,
so the term file always wins over a penalty computed earlier.
"""
from __future__ import annotations

import datetime as _dt
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from kzcourse.grading.course import Course, CourseError

TERM_FILE = "deadlines.toml"
DUE_CELL = "kzcourse_due"


@dataclass
class Policy:
    """The late policy: ``per_day`` share of the lesson's points per started day; ``grace_minutes``."""

    per_day: float = 0.1
    grace_minutes: float = 0.0


@dataclass
class Term:
    """The due dates (aware datetimes), extensions per lesson and student, and the policy."""

    due: dict[str, _dt.datetime] = field(default_factory=dict)
    extensions: dict[str, dict[str, _dt.datetime]] = field(default_factory=dict)
    policy: Policy = field(default_factory=Policy)

    def due_for(self, lesson: str, student: str) -> _dt.datetime | None:
        """The student's due date for ``lesson``: the extension when given, else the lesson's."""
        return self.extensions.get(lesson, {}).get(student) or self.due.get(lesson)


def parse_when(text: str | _dt.datetime, what: str = "date") -> _dt.datetime:
    """An aware datetime from ISO 8601 text with a UTC offset (``2026-02-02T23:59+05:00``).

    >>> parse_when("2026-02-02T23:59:00+05:00").isoformat()
    '2026-02-02T23:59:00+05:00'
    >>> parse_when("2026-02-02 23:59")
    Traceback (most recent call last):
    ...
    kzcourse.grading.course.CourseError: The date '2026-02-02 23:59' has no UTC offset: expected ISO 8601 with one, e.g. 2026-02-02T23:59:00+05:00 (Almaty) or 2026-02-02T18:59:00Z.
    """
    if isinstance(text, _dt.datetime):
        when = text
    else:
        try:
            when = _dt.datetime.fromisoformat(str(text).strip())
        except ValueError:
            raise CourseError(f"The {what} {text!r} is not a date and time: expected ISO 8601 with a UTC offset, "
                              f"e.g. 2026-02-02T23:59:00+05:00.") from None
    if when.tzinfo is None:
        raise CourseError(f"The {what} {text!r} has no UTC offset: expected ISO 8601 with one, e.g. "
                          f"2026-02-02T23:59:00+05:00 (Almaty) or 2026-02-02T18:59:00Z.")
    return when


def penalty(score: float, max_score: float, seconds_late: float, policy: Policy) -> float:
    """The points a submission loses under ``policy`` (see the module docstring).

    >>> penalty(8, 10, 2 * 3600, Policy(per_day=0.1))      # 2 h late: one started day
    1.0
    >>> penalty(8, 10, 30 * 3600, Policy(per_day=0.1))     # 30 h late: two started days
    2.0
    >>> penalty(0.5, 10, 2 * 3600, Policy(per_day=0.1))    # never more than the score
    0.5
    >>> penalty(8, 10, 600, Policy(per_day=0.1, grace_minutes=15))
    0.0
    """
    if seconds_late <= policy.grace_minutes * 60 or seconds_late <= 0:
        return 0.0
    days = math.ceil(seconds_late / 86400)
    return round(min(max(score, 0.0), days * policy.per_day * max_score), 6)


def term_path(course: Course) -> Path:
    return course.root / TERM_FILE


def load_term(course: Course) -> Term:
    """Read ``deadlines.toml`` (an empty term when there is none); bad content is a clear error."""
    path = term_path(course)
    if not path.is_file():
        return Term()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CourseError(f"{path} is not valid TOML ({exc}). Fix it, or delete it and set the dates again "
                          f"with `kzcourse deadline set LESSON DATE`.") from None
    lessons = set(course.lesson_ids())

    def lesson_key(key: str) -> str:
        if key not in lessons:
            raise CourseError(f"{path} names the lesson {key!r}, which this course does not have: expected one of "
                              f"{', '.join(sorted(lessons))}.")
        return key

    pol = raw.get("policy", {})
    try:
        policy = Policy(per_day=float(pol.get("per_day", 0.1)), grace_minutes=float(pol.get("grace_minutes", 0)))
    except (TypeError, ValueError):
        raise CourseError(f"{path}: [policy] per_day and grace_minutes must be numbers, got {pol!r}.") from None
    if not 0 <= policy.per_day <= 1 or policy.grace_minutes < 0:
        raise CourseError(f"{path}: [policy] per_day must be between 0 and 1 and grace_minutes at least 0, "
                          f"got {pol!r}.")
    due = {lesson_key(k): parse_when(v, f"due date of {k}") for k, v in raw.get("due", {}).items()}
    ext = {lesson_key(k): {s: parse_when(v, f"extension of {s} for {k}") for s, v in per.items()}
           for k, per in raw.get("extensions", {}).items()}
    return Term(due, ext, policy)


def _toml_key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() and key.isascii() else f'"{key}"'


def save_term(course: Course, term: Term) -> Path:
    """Write ``term`` to ``deadlines.toml`` (dates as TOML offset date-times)."""
    lines = ["# Due dates, extensions and late policy of this term (see `kzcourse deadline --help`).",
             "[policy]", f"per_day = {term.policy.per_day!r}", f"grace_minutes = {term.policy.grace_minutes!r}",
             "", "[due]"]
    lines += [f'"{k}" = {v.isoformat()}' for k, v in term.due.items()]
    for lesson, per in term.extensions.items():
        if per:
            lines += ["", f'[extensions."{lesson}"]'] + [f"{_toml_key(s)} = {v.isoformat()}" for s, v in per.items()]
    path = term_path(course)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _utc_naive(when: _dt.datetime) -> _dt.datetime:
    """nbgrader stores UTC without a zone."""
    return when.astimezone(_dt.timezone.utc).replace(tzinfo=None)


@dataclass
class Late:
    """One submission's lateness: when it came, when it was due, and what it lost."""

    student: str
    lesson: str
    submitted: _dt.datetime | None  # UTC, naive (nbgrader's)
    due: _dt.datetime | None  # UTC, naive
    extended: bool
    seconds_late: float
    penalty: float

    @property
    def hours_late(self) -> float:
        return self.seconds_late / 3600


def recompute(course: Course, lessons: list[str] | None = None) -> list[Late]:
    """Mirror the term into the gradebook and set every graded submission's late penalty.

    Returns the submissions that are late (``penalty`` may be 0 inside the grace period).
    """
    from nbgrader.api import Gradebook, MissingEntry

    term = load_term(course)
    lessons = course.check_lessons(lessons)
    late = []
    with Gradebook(course.db_url, course.course_id) as gb:
        for lesson in lessons:
            try:
                assignment = gb.find_assignment(lesson)
            except MissingEntry:
                continue
            due = term.due.get(lesson)
            assignment.duedate = _utc_naive(due) if due else None
            for sub in assignment.submissions:
                own = term.extensions.get(lesson, {}).get(sub.student_id)
                sub.extension = (_utc_naive(own) - assignment.duedate) if (own and assignment.duedate) else None
                effective = term.due_for(lesson, sub.student_id)
                seconds = 0.0
                if effective is not None and sub.timestamp is not None:
                    seconds = max(0.0, (sub.timestamp - _utc_naive(effective)).total_seconds())
                for nb in sub.notebooks:
                    pen = penalty(nb.score, nb.max_score, seconds, term.policy)
                    nb.late_submission_penalty = pen if seconds > 0 else None
                total = sum(nb.late_submission_penalty or 0.0 for nb in sub.notebooks)
                if seconds > 0:
                    late.append(Late(sub.student_id, lesson, sub.timestamp,
                                     _utc_naive(effective) if effective else None, own is not None, seconds, total))
        gb.db.commit()
    return late


def set_due(course: Course, lesson: str, when: str | _dt.datetime) -> list[Late]:
    """Set ``lesson``'s due date, save the term, stamp the release, recompute penalties."""
    lesson = course.check_lessons([lesson])[0]
    term = load_term(course)
    term.due[lesson] = parse_when(when, f"due date of {lesson}")
    save_term(course, term)
    stamp_release(course, lesson)
    return recompute(course)


def extend(course: Course, lesson: str, student: str, until: str | _dt.datetime | None = None,
           hours: float | None = None) -> list[Late]:
    """Give ``student`` until ``until`` (or ``hours`` after the due date) for ``lesson``; recompute.

    ``until=None`` and ``hours=None`` removes the student's extension.
    """
    from kzcourse.grading.course import roster_ids

    lesson = course.check_lessons([lesson])[0]
    if student not in roster_ids(course):
        raise CourseError(f"No student {student!r} in the gradebook: expected a student id of the roster. "
                          f"Add the student first (nbgrader db student add {student}).")
    term = load_term(course)
    per = term.extensions.setdefault(lesson, {})
    if hours is not None:
        if lesson not in term.due:
            raise CourseError(f"{lesson} has no due date to extend: set one first with "
                              f"`kzcourse deadline set {lesson} DATE`, or give the new date itself.")
        per[student] = term.due[lesson] + _dt.timedelta(hours=hours)
    elif until is not None:
        per[student] = parse_when(until, f"extension of {student}")
    else:
        per.pop(student, None)
    save_term(course, term)
    return recompute(course)


def due_text(when: _dt.datetime) -> str:
    """How a due date is shown to students: its own zone and UTC.

    >>> due_text(parse_when("2026-02-02T23:59:00+05:00"))
    '2026-02-02 23:59 (UTC+05:00), that is 2026-02-02 18:59 UTC'
    """
    utc = when.astimezone(_dt.timezone.utc)
    off = when.strftime("%z")
    return f"{when:%Y-%m-%d %H:%M} (UTC{off[:3]}:{off[3:5]}), that is {utc:%Y-%m-%d %H:%M} UTC"


def stamp_release(course: Course, lesson: str) -> bool:
    """Put the due date (and the late policy) in the first cell of the released notebook.

    The cell is an ordinary markdown cell marked ``kzcourse_due`` in its metadata, replaced
    when the date changes. Returns whether a release was stamped (False before ``release``).
    """
    import nbformat

    path = course.folder("release") / lesson / f"{lesson}.ipynb"
    term = load_term(course)
    if not path.is_file():
        return False
    nb = nbformat.read(path, as_version=4)
    nb.cells = [c for c in nb.cells if not c.get("metadata", {}).get(DUE_CELL)]
    due = term.due.get(lesson)
    if due is not None:
        pct = f"{term.policy.per_day * 100:g} %"
        grace = f" after a grace period of {term.policy.grace_minutes:g} minutes" if term.policy.grace_minutes else ""
        cell = nbformat.v4.new_markdown_cell(
            f"**Due: {due_text(due)}.** Work handed in later loses {pct} of this lesson's points for every "
            f"started day late{grace}. If you were given an extension, your own date applies.")
        cell.metadata[DUE_CELL] = True
        nb.cells.insert(0, cell)
    nbformat.write(nb, path)
    return True
