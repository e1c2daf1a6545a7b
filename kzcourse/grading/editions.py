"""Build the student editions of the lessons from their sources.

Two editions, one source:

* the **instructor's edition** is the course repository: ``lessons/<id>/<id>.ipynb`` (the
  nbgrader source, with solutions and hidden tests), ``lessons/<id>/instructor.md`` (notes and
  mark scheme) and ``lessons/<id>/wrong.toml`` (the wrong-answer fixtures);
* the **student edition** of a lesson is exactly what ``kzcourse release`` (nbgrader's
  ``generate_assignment``) releases: no solution, no hidden test, no mark scheme, locked cells
  and nbgrader's checksums kept, so Validate works on it.

The student editions are committed in ``kzcourse/student/`` (with a copy of
``lessons/course.toml`` for the lesson list) and are what the wheel, Binder, the hub images and
``make lab`` give students. ``tests/test_editions.py`` rebuilds them with :func:`build` and fails
when the committed copy is stale; rebuild with::

    python -m kzcourse.grading.editions

:func:`build` is the one builder; other tools (the course site) call it to get the student
editions of any source folder.
"""
from __future__ import annotations

import argparse
import filecmp
import shutil
import tempfile
from pathlib import Path

from kzcourse.grading.course import CourseError


def build(out: str | Path, source: str | Path | None = None, lessons: list[str] | None = None) -> list[Path]:
    """Write the student edition of every lesson of ``source`` into ``out``; return the files written.

    ``out`` receives ``course.toml`` (the lesson list: order, minutes, objectives) and
    ``<id>/<id>.ipynb`` per lesson; other files already in ``out`` are left alone. The editions
    are generated the way ``kzcourse release`` generates them: a throwaway course made by
    :func:`kzcourse.grading.course.init_course` from ``source``, then nbgrader's
    ``generate_assignment``.

    Parameters
    ----------
    out : path
        Folder to write into (created when missing).
    source : path, optional
        The instructor's lessons folder (``lessons/`` with ``course.toml``); default: the
        checkout's (:func:`kzcourse.lessons.lessons_dir`).
    lessons : list of str, optional
        Lesson ids (default: every lesson of ``source``).

    Examples
    --------
    >>> import tempfile, json
    >>> from pathlib import Path
    >>> out = Path(tempfile.mkdtemp())
    >>> [p.relative_to(out).as_posix() for p in build(out, lessons=["01-article"])]
    ['course.toml', '01-article/01-article.ipynb']
    >>> "BEGIN SOLUTION" in (out / "01-article" / "01-article.ipynb").read_text()
    False
    """
    from kzcourse.grading.course import init_course
    from kzcourse.lessons import lessons_dir

    source = Path(source) if source else lessons_dir()
    out = Path(out)
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="kzcourse-editions-") as tmp:
        course = init_course(Path(tmp) / "course", lessons_from=source)
        api = course.api()
        out.mkdir(parents=True, exist_ok=True)
        if (source / "course.toml").is_file():
            shutil.copyfile(source / "course.toml", out / "course.toml")
            written.append(out / "course.toml")
        for lesson in course.check_lessons(lessons):
            result = api.generate_assignment(lesson, force=True, create=True)
            if not result.get("success"):
                log = (result.get("error") or result.get("log") or "").strip().splitlines()
                raise CourseError(f"nbgrader could not generate the student edition of {lesson}: "
                                  f"{log[-1] if log else 'no message'}. Fix {source / lesson / (lesson + '.ipynb')}.")
            (out / lesson).mkdir(exist_ok=True)
            target = out / lesson / f"{lesson}.ipynb"
            shutil.copyfile(course.folder("release") / lesson / f"{lesson}.ipynb", target)
            written.append(target)
    return written


def stale(committed: str | Path | None = None, source: str | Path | None = None) -> list[str]:
    """Files of the committed student editions that differ from a fresh :func:`build` (empty: current).

    Also lists files that are missing, and extra lesson folders no source lesson makes.
    """
    from kzcourse.lessons import student_dir

    committed = Path(committed) if committed else student_dir()
    with tempfile.TemporaryDirectory(prefix="kzcourse-fresh-") as tmp:
        fresh = [p.relative_to(tmp) for p in build(tmp, source)]
        out = [str(rel) for rel in fresh
               if not (committed / rel).is_file() or not filecmp.cmp(Path(tmp) / rel, committed / rel, shallow=False)]
        made = {rel.as_posix() for rel in fresh}
    extra = [p.relative_to(committed).as_posix() for p in sorted(committed.rglob("*.ipynb"))
             if p.relative_to(committed).as_posix() not in made]
    return out + extra


def main(argv: list[str] | None = None) -> int:
    """Rebuild the committed student editions (``kzcourse/student/``) from ``lessons/``."""
    from kzcourse.lessons import student_dir

    parser = argparse.ArgumentParser(prog="python -m kzcourse.grading.editions", description=main.__doc__)
    parser.add_argument("--out", default=None, help="folder to write (default: the package's kzcourse/student/)")
    parser.add_argument("--source", default=None, help="the instructor's lessons folder (default: the checkout's)")
    args = parser.parse_args(argv)
    out = Path(args.out) if args.out else student_dir()
    for path in build(out, args.source):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
