"""The course's lesson list: order and metadata, read from ``lessons/course.toml``.

``lessons/course.toml`` is the one place the order of the lessons, their titles,
minutes, objectives, key points and readings live. Notebooks repeat the
student-facing parts in their first and last cells; a test keeps the two in step.

Run ``python -m kzcourse.lessons --clear-outputs`` to strip outputs from every
lesson notebook before committing.
"""
from __future__ import annotations

import argparse
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from kzcourse._validate import check_choice
from kzcourse.errors import DataError


def lessons_dir() -> Path:
    """Return the ``lessons/`` folder of the checkout (the nbgrader source directory).

    >>> (lessons_dir() / "course.toml").is_file()
    True
    """
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "lessons", here / "lessons"):
        if (candidate / "course.toml").is_file():
            return candidate
    raise DataError(
        f"No lessons/course.toml found next to {here}. The lessons ship with the kzcourse source; "
        "clone the repository or run from its folder."
    )


@dataclass(frozen=True)
class Lesson:
    """One lesson's metadata."""

    id: str
    title: str
    teaching_minutes: int
    exercise_minutes: int
    objectives: tuple[str, ...]
    key_points: tuple[str, ...]
    readings: tuple[str, ...] = field(default=())
    uses: tuple[str, ...] = field(default=())

    @property
    def minutes(self) -> int:
        """Total estimated minutes."""
        return self.teaching_minutes + self.exercise_minutes

    @property
    def notebook(self) -> Path:
        """Path of the lesson's source notebook."""
        return lessons_dir() / self.id / f"{self.id}.ipynb"

    @property
    def instructor_notes(self) -> Path:
        """Path of the lesson's instructor notes."""
        return lessons_dir() / self.id / "instructor.md"

    @property
    def wrong_answers(self) -> Path:
        """Path of the lesson's wrong-answer fixtures: one plausible wrong answer per autograded question."""
        return lessons_dir() / self.id / "wrong.toml"


def course() -> list[Lesson]:
    """Return the lessons in course order.

    >>> [l.id for l in course()][:2]
    ['00-start', '01-article']
    """
    path = lessons_dir() / "course.toml"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"{path} is not valid TOML: {exc}. Fix the file.") from None
    out = []
    for entry in raw.get("lesson", []):
        try:
            out.append(
                Lesson(
                    id=entry["id"],
                    title=entry["title"],
                    teaching_minutes=int(entry["teaching_minutes"]),
                    exercise_minutes=int(entry["exercise_minutes"]),
                    objectives=tuple(entry["objectives"]),
                    key_points=tuple(entry["key_points"]),
                    readings=tuple(entry.get("readings", ())),
                    uses=tuple(entry.get("uses", ())),
                )
            )
        except KeyError as exc:
            raise DataError(f"{path}: lesson {entry.get('id', '?')!r} lacks the key {exc.args[0]!r}.") from None
    return out


def lesson(lesson_id: str) -> Lesson:
    """Return one lesson by id; unknown ids list the valid ones."""
    lessons = {l.id: l for l in course()}
    check_choice(lesson_id, lessons, what="lesson id")
    return lessons[lesson_id]


def clear_outputs() -> list[Path]:
    """Strip outputs and execution counts from every lesson notebook; return the notebooks changed."""
    import nbformat

    changed = []
    for item in course():
        nb = nbformat.read(item.notebook, as_version=4)
        dirty = False
        for cell in nb.cells:
            if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None):
                cell.outputs, cell.execution_count, dirty = [], None, True
        if dirty:
            nbformat.write(nb, item.notebook)
            changed.append(item.notebook)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kzcourse.lessons", description=__doc__.splitlines()[0])
    parser.add_argument("--clear-outputs", action="store_true", help="strip outputs from the lesson notebooks")
    args = parser.parse_args(argv)
    if args.clear_outputs:
        for path in clear_outputs():
            print(f"cleared {path}")
    else:
        for i, item in enumerate(course(), 1):
            print(f"{i}. {item.id}: {item.title} ({item.minutes} min)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
