"""Grades out of nbgrader's gradebook, in the column layouts gradebook imports accept.

Formats (``kzcourse export --format ...``):

``csv``
    One row per student and lesson: ``student_id, first_name, last_name, email, lms_user_id,
    lesson, score, max_score, late_penalty, status, needs_manual_grade, flags``.
    ``score`` is nbgrader's total (autograded + manual) minus the late penalty.
    ``status`` is ``graded``, ``flagged`` (graded, integrity findings — see ``flags``),
    ``broken`` (could not be graded: score left empty, never 0) or ``missing`` (no submission:
    score empty).
``canvas``
    Canvas's gradebook import: ``Student`` ("Last, First"), ``ID`` (the roster's lms_user_id),
    ``SIS User ID`` (the student id), ``SIS Login ID`` (email), ``Section`` (empty), then one
    column per lesson headed ``<lesson title> (<lesson id>)``; the first data row is
    ``Points Possible``. An empty cell means "no grade" (Canvas leaves it unchanged).
``moodle``
    Moodle's "Import grades from CSV": ``First name``, ``Last name``, ``ID number`` (the student
    id), ``Email address``, then one column per lesson headed by its id. Map ``ID number`` (or
    ``Email address``) as the identifier and each lesson column to a grade item when importing;
    empty cells are skipped.

Broken, flagged-for-review and missing submissions never turn into a 0 in any format: they
are left empty in canvas/moodle and carry their status in csv.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from kzcourse.grading.course import Course
from kzcourse.grading.journal import read_journal

FORMATS = ("csv", "canvas", "moodle")


@dataclass
class Row:
    """One student's result on one lesson."""

    student: str
    first_name: str | None
    last_name: str | None
    email: str | None
    lms_user_id: str | None
    lesson: str
    status: str
    score: float | None = None
    max_score: float | None = None
    late_penalty: float | None = None
    needs_manual_grade: bool = False
    flags: list[dict] = field(default_factory=list)
    items: dict[str, float | None] = field(default_factory=dict)  # grade cell -> score (None: not graded yet)
    item_max: dict[str, float] = field(default_factory=dict)
    written: set[str] = field(default_factory=set)  # grade cells graded by hand (markdown answers)

    @property
    def pending(self) -> list[str]:
        """Grade cells that wait for hand grading."""
        return [c for c, v in self.items.items() if v is None]


def gradebook_rows(course: Course, lessons: list[str] | None = None) -> list[Row]:
    """Every (student, lesson) of the gradebook with its score and status (journal-aware).

    Late penalties are recomputed from the term's deadlines first (:mod:`kzcourse.grading.deadlines`).
    """
    from nbgrader.api import Gradebook, MissingEntry

    from kzcourse.grading.deadlines import recompute
    from kzcourse.grading.submission import submission_digest

    lessons = course.check_lessons(lessons)
    recompute(course, lessons)
    entries = read_journal(course)
    rows = []
    with Gradebook(course.db_url, course.course_id) as gb:
        students = sorted(gb.students, key=lambda s: s.id)
        known = {a.name for a in gb.assignments}
        for lesson in lessons:
            if lesson not in known:
                continue
            assignment = gb.find_assignment(lesson)
            max_score = assignment.max_score
            for s in students:
                row = Row(s.id, s.first_name, s.last_name, s.email, s.lms_user_id, lesson, "missing",
                          max_score=max_score)
                entry = entries.get((s.id, lesson))
                folder = course.folder("submitted") / s.id / lesson
                current = entry is not None and folder.is_dir() and submission_digest(folder) == entry.get("digest")
                try:
                    sub = gb.find_submission(lesson, s.id)
                except MissingEntry:
                    sub = None
                if current and entry["status"] == "broken":
                    row.status = "broken"
                elif sub is not None:
                    row.status = "flagged" if (current and entry.get("flags")) else "graded"
                    row.flags = entry.get("flags", []) if current else []
                    penalty = sub.late_submission_penalty or 0.0
                    row.score = round(max(0.0, sub.score - penalty), 6)
                    row.late_penalty = penalty
                    row.needs_manual_grade = bool(sub.needs_manual_grade)
                    for nb in sub.notebooks:
                        for g in nb.grades:
                            row.items[g.name] = None if g.needs_manual_grade else g.score
                            row.item_max[g.name] = g.max_score
                            if g.cell.cell_type == "markdown":
                                row.written.add(g.name)
                rows.append(row)
    return rows


def _num(x: float | None) -> str:
    if x is None:
        return ""
    return f"{x:g}"


def _titles(course: Course) -> dict[str, str]:
    import tomllib

    path = course.source_dir / "course.toml"
    if not path.is_file():
        return {}
    try:
        return {e["id"]: e.get("title", e["id"]) for e in tomllib.loads(path.read_text(encoding="utf-8"))["lesson"]}
    except (tomllib.TOMLDecodeError, KeyError):
        return {}


def export(course: Course, fmt: str = "csv", path: str | Path | None = None, lessons: list[str] | None = None) -> Path:
    """Write the grades of ``lessons`` in format ``fmt`` (see the module docstring); return the file."""
    from kzcourse._validate import check_choice

    check_choice(fmt, FORMATS, what="export format")
    rows = gradebook_rows(course, lessons)
    out = Path(path) if path else course.root / f"grades-{fmt}.csv"
    lesson_ids = list(dict.fromkeys(r.lesson for r in rows))
    with open(out, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        if fmt == "csv":
            w.writerow(["student_id", "first_name", "last_name", "email", "lms_user_id", "lesson", "score",
                        "max_score", "late_penalty", "status", "needs_manual_grade", "flags"])
            for r in rows:
                graded = r.status in ("graded", "flagged")
                w.writerow([r.student, r.first_name or "", r.last_name or "", r.email or "", r.lms_user_id or "",
                            r.lesson, _num(r.score) if graded else "", _num(r.max_score),
                            _num(r.late_penalty) if graded else "", r.status,
                            ("yes" if r.needs_manual_grade else "no") if graded else "",
                            "; ".join(f"{f.get('code')}: {f.get('message')}" for f in r.flags)])
            return out
        by_student: dict[str, dict[str, Row]] = {}
        for r in rows:
            by_student.setdefault(r.student, {})[r.lesson] = r
        max_by_lesson = {r.lesson: r.max_score for r in rows}
        if fmt == "canvas":
            titles = _titles(course)
            w.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
                       + [f"{titles.get(l, l)} ({l})" for l in lesson_ids])
            w.writerow(["Points Possible", "", "", "", ""] + [_num(max_by_lesson[l]) for l in lesson_ids])
            for sid, per in by_student.items():
                any_row = next(iter(per.values()))
                name = ", ".join(x for x in (any_row.last_name, any_row.first_name) if x) or sid
                w.writerow([name, any_row.lms_user_id or "", sid, any_row.email or "", ""]
                           + [_num(per[l].score) if l in per and per[l].status == "graded" else "" for l in lesson_ids])
        else:  # moodle
            w.writerow(["First name", "Last name", "ID number", "Email address"] + lesson_ids)
            for sid, per in by_student.items():
                any_row = next(iter(per.values()))
                w.writerow([any_row.first_name or "", any_row.last_name or "", sid, any_row.email or ""]
                           + [_num(per[l].score) if l in per and per[l].status == "graded" else "" for l in lesson_ids])
    return out
