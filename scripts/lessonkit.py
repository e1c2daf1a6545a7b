"""Authoring helper: build lesson notebooks with the right nbgrader cell metadata.

Lesson notebooks (lessons/<id>/<id>.ipynb) are the source of truth and can be
edited in JupyterLab with nbgrader's "Create Assignment" toolbar. This module is
a shortcut for writing a new one from Python:

    from lessonkit import Notebook
    nb = Notebook("01-article")
    nb.header()                      # title, minutes, objectives from lessons/course.toml
    nb.md("Some text")
    nb.code("import kzcourse")
    nb.solution("q1", "answer = 3")   # the student's answer cell (solution stripped on release)
    nb.tests("q1", 1, visible="check_type(answer, int, name='answer')", hidden="check_equal(answer, 3, name='answer')")
    nb.written("w1", 3, prompt="Explain ...", model_answer="...")
    nb.footer()                      # key points from course.toml
    nb.save()

Conventions the grading truth table relies on (tests/test_lessons.py): a question
`qN` has one solution cell with grade_id `qN` and test cells whose grade_id starts
with `qN_`; written answers are `wN`.
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kzcourse.lessons import lesson  # noqa: E402


def _meta(grade_id: str, *, grade: bool, solution: bool, locked: bool, points: float = 0) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3, "solution": solution, "task": False}
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


class Notebook:
    """A lesson notebook under construction."""

    def __init__(self, lesson_id: str):
        self.lesson = lesson(lesson_id)
        self.nb = nbformat.v4.new_notebook()
        self.nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
        self.nb.metadata["language_info"] = {"name": "python"}
        self._n = 0

    def _id(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}-{self._n:02d}"

    def md(self, text: str, *, locked: bool = True) -> None:
        cell = nbformat.v4.new_markdown_cell(text.strip())
        if locked:
            cell.metadata.update(_meta(self._id("text"), grade=False, solution=False, locked=True))
        self.nb.cells.append(cell)

    def code(self, source: str) -> None:
        self.nb.cells.append(nbformat.v4.new_code_cell(source.strip()))

    def header(self) -> None:
        l = self.lesson
        objectives = "\n".join(f"- {o}" for o in l.objectives)
        readings = ", ".join(l.readings)
        self.md(
            f"# {l.title}\n\n"
            f"**Time:** about {l.minutes} minutes ({l.teaching_minutes} teaching, {l.exercise_minutes} exercises)  \n"
            f"**Readings:** paragraphs {readings} of the article (`kzcourse.data.paragraph('P2')` prints one).\n\n"
            f"## Learning objectives\n\n{objectives}\n\n"
            "Answer in the cells that say `YOUR CODE HERE` or `YOUR ANSWER HERE`. Run the test cell after each "
            "answer: it tells you if something is off. Some tests are hidden and run when your work is graded. "
            "Use **Validate** (nbgrader's button) before you submit.\n\n"
            "Run the cells in order, from the top. **Run All** stops at the first question you have not answered "
            "yet (its cell raises `NotImplementedError`), so the maps, charts and tests below it stay empty until you "
            "answer it and run on from there."
        )

    def footer(self) -> None:
        points = "\n".join(f"- {p}" for p in self.lesson.key_points)
        self.md(f"## Key points\n\n{points}")

    def solution(self, grade_id: str, source: str) -> None:
        cell = nbformat.v4.new_code_cell(f"### BEGIN SOLUTION\n{source.strip()}\n### END SOLUTION")
        cell.metadata.update(_meta(grade_id, grade=False, solution=True, locked=False))
        self.nb.cells.append(cell)

    def tests(self, grade_id: str, points: float, *, visible: str, hidden: str = "") -> None:
        source = visible.strip()
        if hidden.strip():
            source += f"\n### BEGIN HIDDEN TESTS\n{hidden.strip()}\n### END HIDDEN TESTS"
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata.update(_meta(f"{grade_id}_test", grade=True, solution=False, locked=True, points=points))
        self.nb.cells.append(cell)

    def written(self, grade_id: str, points: float, *, prompt: str, model_answer: str) -> None:
        """A manually graded written answer: a locked prompt cell, then the answer cell.

        The model answer / mark scheme sits between solution markers, so release replaces it.
        """
        self.md(prompt)
        cell = nbformat.v4.new_markdown_cell(f"### BEGIN SOLUTION\n{model_answer.strip()}\n### END SOLUTION")
        cell.metadata.update(_meta(grade_id, grade=True, solution=True, locked=False, points=points))
        self.nb.cells.append(cell)

    def save(self) -> Path:
        path = self.lesson.notebook
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.validate(self.nb)
        nbformat.write(self.nb, path)
        return path
