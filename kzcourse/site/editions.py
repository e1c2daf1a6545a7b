"""The student editions the site is built from: what ``nbgrader generate_assignment`` releases.

One function, :func:`student_editions`, over the course's one builder of student editions,
:func:`kzcourse.grading.editions.build` (nbgrader's own ``generate_assignment`` on a
throwaway course, exactly as ``kzcourse release`` does: no solution, no hidden test, no mark
scheme, locked cells kept).
"""
from __future__ import annotations

from pathlib import Path

from kzcourse.errors import KzCourseError


class SiteError(KzCourseError):
    """The site could not be built (bad option, folder or lesson)."""


def student_editions(dest: str | Path, lessons: list[str] | None = None) -> dict[str, Path]:
    """Write the student edition of each lesson to ``dest/<id>/<id>.ipynb``; return ``{id: path}``.

    Parameters
    ----------
    dest : str or Path
        Folder to write into (created).
    lessons : list of str, optional
        Lesson ids (default: every lesson of ``lessons/course.toml``).

    Raises
    ------
    SiteError
        If nbgrader cannot generate a lesson (the message names it and nbgrader's last line).
    """
    from kzcourse.grading.editions import build

    try:
        written = build(dest, lessons=lessons)
    except KzCourseError as exc:
        raise SiteError(f"{exc} Then build the site again.") from None
    return {p.parent.name: p for p in written if p.suffix == ".ipynb"}
