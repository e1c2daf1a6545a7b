"""The course's lesson list (order and metadata, from ``course.toml``) and its two editions.

``lessons/course.toml`` is the one place the order of the lessons, their titles,
minutes, objectives, key points and readings live. Notebooks repeat the
student-facing parts in their first and last cells; a test keeps the two in step.

Two editions of each lesson:

* the instructor's edition, ``lessons/<id>/`` in the course repository (:func:`lessons_dir`):
  the nbgrader source notebook, ``instructor.md`` and ``wrong.toml``; never installed;
* the student edition, ``kzcourse/student/<id>/<id>.ipynb`` in the package (:func:`student_dir`):
  what ``kzcourse release`` makes from the source, built by
  :func:`kzcourse.grading.editions.build`. :func:`copy_student_editions` (``kzcourse lessons DIR``)
  copies them into a folder to work in, with a start page (:func:`start_page`).

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
    """Return the checkout's ``lessons/`` folder: the instructor's edition (the nbgrader source directory).

    Only a checkout of the course repository has it; an installed kzcourse carries the student
    editions only (:func:`student_dir`) and raises :class:`~kzcourse.errors.DataError`.

    >>> (lessons_dir() / "course.toml").is_file()
    True
    """
    root = Path(__file__).resolve().parent.parent
    candidate = root / "lessons"
    if (candidate / "course.toml").is_file() and (root / "pyproject.toml").is_file():
        return candidate
    raise DataError(
        f"No lesson sources here: expected a checkout of the course repository with lessons/course.toml next "
        f"to {root / 'kzcourse'}, got an installed kzcourse, which carries the student editions only. The "
        "instructor's edition (solutions, hidden tests, mark schemes) is the course repository: clone it and "
        "run from there, or pass the folder of its lessons (`--lessons DIR`)."
    )


def student_dir() -> Path:
    """Return the package's folder of student editions (``kzcourse/student/``), installed or in a checkout.

    >>> sorted(p.name for p in student_dir().glob("01-*/*"))
    ['01-article.ipynb']
    """
    return Path(__file__).resolve().parent / "student"


def _course_toml() -> Path:
    """The lesson list: the checkout's ``lessons/course.toml``, else the copy beside the student editions."""
    try:
        return lessons_dir() / "course.toml"
    except DataError:
        return student_dir() / "course.toml"


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
    def student_edition(self) -> Path:
        """Path of the lesson's student edition in the package."""
        return student_dir() / self.id / f"{self.id}.ipynb"

    @property
    def notebook(self) -> Path:
        """Path of the lesson's source notebook (a checkout only)."""
        return lessons_dir() / self.id / f"{self.id}.ipynb"

    @property
    def instructor_notes(self) -> Path:
        """Path of the lesson's instructor notes."""
        return lessons_dir() / self.id / "instructor.md"

    @property
    def wrong_answers(self) -> Path:
        """Path of the lesson's wrong-answer fixtures: one plausible wrong answer per autograded question."""
        return lessons_dir() / self.id / "wrong.toml"

    @property
    def key(self) -> Path:
        """Path of the lesson's answer key: what the course withholds from the student data (a checkout only)."""
        return lessons_dir() / self.id / "key.toml"


def course() -> list[Lesson]:
    """Return the lessons in course order.

    >>> [l.id for l in course()][:2]
    ['00-start', '01-article']
    """
    path = _course_toml()
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


#: The start page a working copy opens on (:func:`copy_student_editions` writes it).
START_PAGE = "START.md"


def start_page(lessons: list[Lesson] | None = None) -> str:
    """The start page of a working copy, as Markdown: the lesson list with minutes and objectives.

    Each title links to the lesson's notebook (``<id>/<id>.ipynb``, relative), the first one
    at the top as well, so the first lesson is one click away.

    Lessons are numbered by their id (``02-geography`` is 2).

    >>> page = start_page([lesson("01-article"), lesson("02-geography")])
    >>> page.splitlines()[0]
    '# The January 2022 crisis in Kazakhstan: a course in 2 lessons'
    >>> "**Start here:** [1. The article as a source](01-article/01-article.ipynb)" in page
    True
    """
    lessons = course() if lessons is None else lessons
    if not lessons:
        raise DataError("No lessons to list: expected at least one lesson in course.toml.")
    first = lessons[0]
    out = [f"# The January 2022 crisis in Kazakhstan: a course in {len(lessons)} lesson{'s' * (len(lessons) != 1)}", "",
           f"**Start here:** [{_number(first, 1)}. {first.title}]({first.id}/{first.id}.ipynb) "
           f"(about {first.minutes} minutes)", "",
           "Open a lesson, then run its cells from the top, in order (Shift+Enter). Your answers are saved in "
           "this folder; Validate (in the notebook's toolbar) checks a finished lesson.", "",
           "## The lessons", ""]
    for n, l in enumerate(lessons, 1):
        out.append(f"### [{_number(l, n)}. {l.title}]({l.id}/{l.id}.ipynb)")
        out.append("")
        out.append(f"About {l.minutes} minutes ({l.teaching_minutes} reading, {l.exercise_minutes} exercises). "
                   "You will be able to:")
        out.append("")
        out += [f"- {o}" for o in l.objectives]
        out.append("")
    return "\n".join(out)


def _number(item: Lesson, position: int) -> int:
    head = item.id.split("-", 1)[0]
    return int(head) if head.isdigit() else position


@dataclass(frozen=True)
class WorkingCopy:
    """What :func:`copy_student_editions` did: the folder, its start page, the notebooks copied or kept."""

    folder: Path
    start: Path
    copied: tuple[Path, ...]
    kept: tuple[Path, ...]

    def __str__(self) -> str:
        n = len(self.copied) + len(self.kept)
        lines = [f"Student editions of {n} lesson{'s' * (n != 1)} in {self.folder}"]
        if self.kept:
            lines.append(f"  kept your own copy of {len(self.kept)} (already there): "
                         + ", ".join(p.parent.name for p in self.kept))
        lines.append(f"  start page: {self.start}")
        lines.append(f"Next: jupyter lab {self.folder} (open {self.start.name}: right-click, Open With, Markdown Preview)")
        return "\n".join(lines)


def copy_student_editions(dest: str | Path, lessons: list[str] | None = None) -> WorkingCopy:
    """Copy the student editions into ``dest`` to work in, with the start page; return what was done.

    A lesson notebook already in ``dest`` is the student's work and is kept, never overwritten;
    the start page is rewritten.

    >>> import tempfile
    >>> copy = copy_student_editions(tempfile.mkdtemp(), lessons=["01-article"])
    >>> [p.relative_to(copy.folder).as_posix() for p in copy.copied], copy.start.name
    (['01-article/01-article.ipynb'], 'START.md')
    >>> copy_student_editions(copy.folder, lessons=["01-article"]).kept == copy.copied
    True
    """
    import shutil

    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise DataError(f"{str(dest)!r} is a file: expected a folder to copy the lessons into. Pick another path.")
    chosen = course() if not lessons else [lesson(i) for i in lessons]
    copied, kept = [], []
    for item in chosen:
        if not item.student_edition.is_file():
            raise DataError(f"The student edition of {item.id} is missing ({item.student_edition}): expected it "
                            "in the package. Reinstall kzcourse; in a checkout, run `python -m kzcourse.grading.editions`.")
        target = dest / item.id / f"{item.id}.ipynb"
        if target.exists():
            kept.append(target)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(item.student_edition, target)
        copied.append(target)
    start = dest / START_PAGE
    start.write_text(start_page(chosen) + "\n", encoding="utf-8")
    return WorkingCopy(dest, start, tuple(copied), tuple(kept))


#: The value a withheld answer has in the student data while a lesson asks students to reach it.
WITHHELD = "withheld"
#: Tables that may withhold answers: table -> (the column that reads :data:`WITHHELD`, the column of
#: its explanation, then any columns that would give the answer away and so are withheld too: they
#: read :data:`WITHHELD`, or stay empty where the column holds an id). ``key.toml`` gives every one of
#: these columns' real values, in a section ``[<table>.<id>]``. In ``attributions`` the speaker is
#: withheld with the voice: an empty speaker, or the kind ``reporter``, is the voice ``reporter``.
WITHHOLDING: dict[str, tuple[str, ...]] = {
    "claims": ("status", "finding"),
    "attributions": ("voice", "note", "speaker", "speaker_id", "speaker_kind"),
}


def answer_keys(table: str = "claims") -> dict[str, dict[str, str]]:
    """The course's withheld answers in ``table``: ``{row_id: {"lesson": ..., <column>: ...}}``, from
    every lesson's ``key.toml`` (the instructor's edition only).

    A row whose verdict a lesson asks students to reach must not carry that verdict in any data a
    student's kernel can load — the package's data is installed for students and readable inside
    the grading sandbox, so a question graded against it would be a lookup. In the table the row
    reads :data:`WITHHELD` (see :data:`WITHHOLDING`); its real values live in
    ``lessons/<id>/key.toml``, which nbgrader never releases (``*.toml`` is ignored) and the wheel
    never contains. The lesson's hidden test holds the same answers literally
    (tests/test_lessons.py checks that they agree).

    >>> keys = answer_keys("claims")
    >>> keys["C20"]["lesson"], keys["C20"]["status"]
    ('07-sources', 'disputed')
    >>> v06 = answer_keys("attributions")["V06"]
    >>> v06["lesson"], v06["voice"], v06["speaker_kind"], v06["speaker"]
    ('01-article', 'reporter', 'reporter', '')
    """
    if table not in WITHHOLDING:
        raise DataError(f"No answers are withheld from {table!r}: expected one of {sorted(WITHHOLDING)}.")
    columns = set(WITHHOLDING[table])
    out: dict[str, dict[str, str]] = {}
    for item in course():
        path = item.key
        if not path.is_file():
            continue
        try:
            sections = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise DataError(f"{path} is not valid TOML: {exc}. Fix the file.") from None
        unknown = set(sections) - set(WITHHOLDING)
        if unknown:
            raise DataError(f"{path}: sections {sorted(unknown)} name no table that withholds answers; expected "
                            f"[{'|'.join(sorted(WITHHOLDING))}.<id>].")
        for row_id, entry in sections.get(table, {}).items():
            missing = columns - set(entry)
            if missing:
                raise DataError(f"{path}: {table} row {row_id} lacks {sorted(missing)}; expected "
                                f"{', '.join(sorted(columns))}.")
            if row_id in out:
                raise DataError(f"{path}: {table} row {row_id} is also withheld by lesson {out[row_id]['lesson']}; "
                                "a row has one answer key.")
            out[row_id] = {"lesson": item.id, **{c: entry[c] for c in columns}}
    return out


#: JupyterLab user settings for a student's working copy: Markdown files open rendered (so the start
#: page is a page of links), and no "get notified about Jupyter news?" prompt nor update check.
LAB_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"defaultViewers": {"markdown": "Markdown Preview"}},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
}


def write_lab_settings(folder: str | Path) -> list[Path]:
    """Write :data:`LAB_SETTINGS` into the JupyterLab user-settings folder ``folder``; return the files.

    ``folder`` is ``<Jupyter config dir>/lab/user-settings`` (``~/.jupyter/lab/user-settings`` by
    default) or what ``--LabApp.user_settings_dir`` names.

    >>> import tempfile
    >>> [p.name for p in write_lab_settings(tempfile.mkdtemp())]
    ['plugin.jupyterlab-settings', 'notification.jupyterlab-settings']
    """
    import json

    written = []
    for name, value in LAB_SETTINGS.items():
        path = Path(folder) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value, indent=2) + "\n", encoding="utf-8")
        written.append(path)
    return written


#: nbgrader's instructor tools, hidden in a student's JupyterLab: the Formgrader (a gradebook view) and
#: the course list are for instructors, and "Create Assignment" shows the cell metadata nbgrader grades
#: by. The student tools stay: the assignment list (fetch and submit on a shared exchange) and
#: "Validate". Names as nbgrader's installation guide gives them.
INSTRUCTOR_LAB_EXTENSIONS = ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                             "@jupyter/nbgrader:course-list")
INSTRUCTOR_SERVER_EXTENSIONS = ("nbgrader.server_extensions.formgrader", "nbgrader.server_extensions.course_list")


def write_student_jupyter_config(folder: str | Path) -> list[Path]:
    """Write a Jupyter config folder for students: nbgrader's instructor tools switched off.

    ``folder`` becomes ``JUPYTER_CONFIG_DIR`` of the student's JupyterLab (``make lab`` uses
    ``.jupyter/student-config``); settings there override those nbgrader installs for the whole
    environment, so the same venv still serves ``make lab-instructor`` with everything on.
    Other settings in the two files are kept.

    >>> import json, tempfile
    >>> paths = write_student_jupyter_config(tempfile.mkdtemp())
    >>> [p.relative_to(p.parents[1]).as_posix() if p.parent.name == "labconfig" else p.name for p in paths]
    ['labconfig/page_config.json', 'jupyter_server_config.json']
    >>> json.loads(paths[0].read_text())["disabledExtensions"]["@jupyter/nbgrader:formgrader"]
    True
    """
    import json

    folder = Path(folder)
    wanted = {
        folder / "labconfig" / "page_config.json": ("disabledExtensions", INSTRUCTOR_LAB_EXTENSIONS, True),
        folder / "jupyter_server_config.json": ("ServerApp.jpserver_extensions", INSTRUCTOR_SERVER_EXTENSIONS, False),
    }
    written = []
    for path, (key, names, value) in wanted.items():
        try:
            config = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        except json.JSONDecodeError as exc:
            raise DataError(f"{path} is not valid JSON ({exc}); expected a Jupyter config file. "
                              f"Fix or delete it, then run this again.") from None
        section = config
        for part in key.split("."):
            section = section.setdefault(part, {})
        section.update({name: value for name in names})
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
        written.append(path)
    return written


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
