"""A small fixture course whose gradebook is filled directly through nbgrader's API.

A real course (``init_course``) and a real nbgrader gradebook, with one lesson ``01-article``
made of three questions — ``q1`` (autograded, 2 points, two cells ``q1_a`` 1 + ``q1_b`` 1),
``q2`` (autograded, 1 point) and ``w1`` (written, 3 points) — and scores chosen by the test.
No kernel runs, so report and deadline arithmetic can be checked against a hand computation.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

LESSON = "01-article"
CELLS = {"q1_a": ("code", 1.0), "q1_b": ("code", 1.0), "q2": ("code", 1.0), "w1": ("markdown", 3.0)}


def small_course(tmp: Path, scores: dict[str, dict[str, float | None]],
                 timestamps: dict[str, dt.datetime] | None = None):
    """A course with ``scores[student][cell]`` recorded (``None``: awaiting hand grading); return it."""
    from nbgrader.api import Gradebook

    from kzcourse.grading.course import init_course, open_course

    roster = tmp / "roster.csv"
    roster.write_text("id\n" + "".join(f"{s}\n" for s in scores), encoding="utf-8")
    course = init_course(tmp / "course", roster=roster)
    with Gradebook(course.db_url, course.course_id) as gb:
        gb.update_or_create_assignment(LESSON)
        gb.add_notebook(LESSON, LESSON)
        for name, (kind, points) in CELLS.items():
            gb.add_grade_cell(name, LESSON, LESSON, max_score=points, cell_type=kind)
            if kind == "markdown":
                gb.add_solution_cell(name, LESSON, LESSON)
        for student, cells in scores.items():
            ts = (timestamps or {}).get(student)
            gb.add_submission(LESSON, student, timestamp=ts.astimezone(dt.timezone.utc).replace(tzinfo=None)
                              if ts else None)
            for name, value in cells.items():
                g = gb.find_grade(name, LESSON, LESSON, student)
                if CELLS[name][0] == "code":
                    g.auto_score, g.needs_manual_grade = value, False
                elif value is None:
                    g.auto_score, g.manual_score, g.needs_manual_grade = None, None, True
                else:
                    g.manual_score, g.needs_manual_grade = value, False
            gb.db.commit()
    (course.folder("autograded") / "placeholder").mkdir(parents=True, exist_ok=True)
    return open_course(course.root)
