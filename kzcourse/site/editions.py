"""The student editions the site is built from: what ``nbgrader generate_assignment`` releases.

One function, :func:`student_editions`, so that the site depends on one way of making
them. It makes a throwaway course (``kzcourse init`` in a temporary folder) and runs
nbgrader's own ``generate_assignment`` on every lesson, exactly as ``kzcourse release``
does: no solution, no hidden test, no mark scheme, locked cells kept.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from kzcourse.errors import KzCourseError


class SiteError(KzCourseError):
    """The site could not be built (bad option, folder or lesson)."""


def student_editions(dest: str | Path, lessons: list[str] | None = None) -> dict[str, Path]:
    """Write the student edition of each lesson to ``dest/<id>/<id>.ipynb``; return ``{id: path}``.

    Parameters
    ----------
    dest : str or Path
        Folder to write into (created; existing lesson folders in it are replaced).
    lessons : list of str, optional
        Lesson ids (default: every lesson of ``lessons/course.toml``).

    Raises
    ------
    SiteError
        If nbgrader cannot generate a lesson (the message names it and nbgrader's last line).
    """
    from kzcourse.grading.course import init_course

    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    with tempfile.TemporaryDirectory(prefix="kzcourse-editions-") as tmp:
        course = init_course(Path(tmp) / "course")
        api = course.api()
        for lesson in course.check_lessons(lessons):
            result = api.generate_assignment(lesson, force=True, create=True)
            if not result.get("success"):
                last = (result.get("error") or result.get("log") or "no message").strip().splitlines()[-1:]
                raise SiteError(f"nbgrader could not generate the student edition of {lesson}: {''.join(last)}. "
                                f"Fix lessons/{lesson}/{lesson}.ipynb and build again.")
            target = dest / lesson
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(course.folder("release") / lesson, target)
            out[lesson] = target / f"{lesson}.ipynb"
    return out
