"""A course directory for one term: create it, open it, read its roster.

A kzcourse course directory is an ordinary nbgrader course root::

    nbgrader_config.py        the term's settings (nbgrader traitlets)
    lessons/<id>/             the lesson sources (copied from the course repository: notebooks with
                              solutions, instructor.md, wrong.toml); the folder is owner-only
    gradebook.db              nbgrader's SQLite gradebook (or a database URL in the config)
    exchange/                 nbgrader's exchange root for a one-machine class
    release/ submitted/ autograded/ feedback/   nbgrader's own folders
    .kzcourse/                kzcourse's bookkeeping (grading journal, logs, scratch)

:func:`init_course` writes one, :func:`open_course` opens an existing one (any
nbgrader course root works, including the repository itself), and
:func:`read_roster` validates a roster CSV in nbgrader's ``db student import``
format (columns ``id`` and optionally ``first_name``, ``last_name``, ``email``,
``lms_user_id``).
"""
from __future__ import annotations

import csv
import io
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kzcourse.errors import KzCourseError


class CourseError(KzCourseError):
    """A course directory, lesson or roster the command cannot work with."""


class RosterError(CourseError, ValueError):
    """A roster CSV with a missing column, a malformed or a duplicate student id."""


class DatabaseError(CourseError):
    """A gradebook database URL that is malformed, whose driver is missing or whose server cannot be reached."""


#: What a student id may look like: it becomes a folder name under submitted/ and autograded/.
STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,127}$")
ROSTER_FIELDS = ("id", "first_name", "last_name", "email", "lms_user_id")
CONFIG_NAME = "nbgrader_config.py"
STATE_DIR = ".kzcourse"

CONFIG_TEMPLATE = '''"""nbgrader configuration of a kzcourse term (written by `kzcourse init`).

Every setting is an nbgrader traitlet; `nbgrader --help-all` documents them.
`kzcourse` commands and plain `nbgrader` commands both read this file.
"""
import os

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)
_here = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.course_id = {course_id!r}
c.CourseDirectory.root = _here
# The settings every kzcourse course shares (kzcourse/grading/settings.py documents each): lessons/
# as the source; only notebooks released (lesson.toml, instructor.md, integrity.json stay here); a
# deleted test cell comes back at autograde; a 60 s per-cell time limit (`kzcourse grade --timeout S`
# overrides it for one run); feedback without hidden tests; two-phase grading (student cells in the
# bubblewrap sandbox, tests in a kernel that never ran student code), so plain `nbgrader autograde` gets it too.
# Override any of them below the call.
from kzcourse.grading import settings  # noqa: E402

settings.apply(c)

# The gradebook: SQLite beside this file, or a database URL shared by a team of graders
# (for example postgresql://grader@dbhost/kzcourse).
c.CourseDirectory.db_url = {db_url!r} or "sqlite:///" + os.path.join(_here, "gradebook.db")

# One-machine exchange inside the course folder; on JupyterHub point it at the shared volume.
c.Exchange.root = os.path.join(_here, "exchange")
'''


@dataclass(frozen=True)
class Student:
    """One roster row."""

    id: str
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    lms_user_id: str | None = None

    def fields(self) -> dict[str, str | None]:
        """The row as keyword arguments for nbgrader's ``Gradebook.update_or_create_student``."""
        return {"first_name": self.first_name, "last_name": self.last_name, "email": self.email,
                "lms_user_id": self.lms_user_id}


@dataclass
class Course:
    """An opened course directory: its root, nbgrader configuration and lessons."""

    root: Path
    config: Any = field(repr=False)

    @property
    def course_id(self) -> str:
        return str(self.config.CourseDirectory.get("course_id", "") or "")

    @property
    def db_url(self) -> str:
        url = self.config.CourseDirectory.get("db_url")
        return str(url) if url else f"sqlite:///{self.root / 'gradebook.db'}"

    @property
    def source_dir(self) -> Path:
        return self.root / str(self.config.CourseDirectory.get("source_directory", "source"))

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    def folder(self, name: str) -> Path:
        """nbgrader's folder ``name`` (release, submitted, autograded, feedback) of this course."""
        key = f"{name}_directory"
        return self.root / str(self.config.CourseDirectory.get(key, name))

    def lesson_ids(self) -> list[str]:
        """Lessons in the source folder: ``<id>/<id>.ipynb``, in course.toml order when there is one."""
        found = sorted(p.name for p in self.source_dir.glob("*") if (p / f"{p.name}.ipynb").is_file())
        order = _course_order(self.source_dir / "course.toml")
        return [i for i in order if i in found] + [i for i in found if i not in order]

    def check_lessons(self, lessons: list[str] | None) -> list[str]:
        """Return ``lessons`` (all when empty) after checking each is a lesson of this course."""
        known = self.lesson_ids()
        if not lessons:
            return known
        unknown = [l for l in lessons if l not in known]
        if unknown:
            raise CourseError(
                f"Unknown lesson {', '.join(repr(u) for u in unknown)}: expected one of "
                f"{', '.join(known) or '(none)'} (folders of {self.source_dir}). Check the spelling, "
                f"or add the lesson as {self.source_dir}/<id>/<id>.ipynb."
            )
        return list(lessons)

    def api(self, **overrides: Any):
        """An ``nbgrader.apps.NbGraderAPI`` on this course (``overrides`` are extra config sections)."""
        from nbgrader.apps import NbGraderAPI
        from nbgrader.coursedir import CourseDirectory
        from traitlets.config import Config

        config = Config(self.config)
        config.CourseDirectory.root = str(self.root)
        for section, values in overrides.items():
            for key, value in values.items():
                setattr(getattr(config, section), key, value)
        return NbGraderAPI(CourseDirectory(config=config), config=config)


def _course_order(path: Path) -> list[str]:
    if not path.is_file():
        return []
    import tomllib

    try:
        return [entry["id"] for entry in tomllib.loads(path.read_text(encoding="utf-8")).get("lesson", [])]
    except (tomllib.TOMLDecodeError, KeyError, TypeError):
        return []


def load_config(root: Path):
    """Load ``root/nbgrader_config.py`` as a traitlets ``Config`` (the way nbgrader does)."""
    from traitlets.config.loader import PyFileConfigLoader

    return PyFileConfigLoader(CONFIG_NAME, path=str(root)).load_config()


def open_course(path: str | Path | None = None) -> Course:
    """Open the course directory ``path`` (default: the current folder).

    Raises :class:`CourseError` when the folder or its ``nbgrader_config.py`` is missing.

    >>> open_course("/no/such/folder")
    Traceback (most recent call last):
    ...
    kzcourse.grading.course.CourseError: Course directory '/no/such/folder' does not exist: expected a folder made by `kzcourse init DIR`. Create one with `kzcourse init /no/such/folder`, or pass --course DIR.
    """
    root = Path(path or ".").absolute()
    shown = str(path or root)
    if not root.is_dir():
        raise CourseError(
            f"Course directory {shown!r} does not exist: expected a folder made by `kzcourse init DIR`. "
            f"Create one with `kzcourse init {shown}`, or pass --course DIR."
        )
    if not (root / CONFIG_NAME).is_file():
        raise CourseError(
            f"{shown!r} is not a course directory: it has no {CONFIG_NAME}. Run the command inside a "
            f"course directory, pass --course DIR, or create one with `kzcourse init DIR`."
        )
    try:
        config = load_config(root)
    except Exception as exc:  # a syntax error or a failing import in the instructor's config
        raise CourseError(f"{root / CONFIG_NAME} could not be loaded: {exc}. Fix the file.") from None
    return Course(root=root, config=config)


def parse_roster(text: str, *, source: str = "roster") -> list[Student]:
    """Parse and validate a roster CSV given as text.

    >>> [s.id for s in parse_roster("id,first_name\\nabai,Abai\\nzhanna,Zhanna\\n")]
    ['abai', 'zhanna']
    >>> parse_roster("id\\nabai\\nabai\\n")
    Traceback (most recent call last):
    ...
    kzcourse.grading.course.RosterError: roster: duplicate student id 'abai' on lines 2 and 3: expected each id once. Merge or rename the rows.
    """
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if "id" not in header:
        raise RosterError(
            f"{source}: no 'id' column: expected a header row with the columns {', '.join(ROSTER_FIELDS)} "
            f"(only 'id' is required); got {header or 'an empty file'}. Add the header row."
        )
    unknown = [h for h in header if h not in ROSTER_FIELDS]
    if unknown:
        raise RosterError(f"{source}: unknown column(s) {', '.join(map(repr, unknown))}: expected only "
                          f"{', '.join(ROSTER_FIELDS)}. Rename or remove them.")
    students, seen = [], {}
    for line, row in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in row.items() if k is not None}
        sid = row.get("id", "")
        if not STUDENT_ID.match(sid):
            raise RosterError(
                f"{source}: malformed student id {sid!r} on line {line}: expected letters, digits and . _ @ + - "
                f"(starting with a letter or digit, at most 128 characters), because the id names the "
                f"student's folders. Fix the id."
            )
        if sid in seen:
            raise RosterError(f"{source}: duplicate student id {sid!r} on lines {seen[sid]} and {line}: "
                              f"expected each id once. Merge or rename the rows.")
        seen[sid] = line
        students.append(Student(sid, **{k: row.get(k) or None for k in ROSTER_FIELDS[1:]}))
    return students


def read_roster(path: str | Path) -> list[Student]:
    """Read and validate the roster CSV at ``path`` (see :func:`parse_roster`)."""
    path = Path(path)
    if not path.is_file():
        raise RosterError(f"Roster {str(path)!r} does not exist: expected a CSV file with an 'id' column. "
                          f"Check the path.")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise RosterError(f"Roster {str(path)!r} is not UTF-8 text: save it as CSV (UTF-8).") from None
    return parse_roster(text, source=str(path))


#: Seconds to wait for a database server before giving up (a firewalled host never answers).
DB_CONNECT_TIMEOUT = 10


def shown_db_url(db_url) -> str:
    """A database URL as it may be printed: without its password.

    >>> shown_db_url("postgresql+psycopg2://grader:secret@dbhost/kzcourse")
    'postgresql+psycopg2://grader:***@dbhost/kzcourse'
    """
    from sqlalchemy.engine import make_url

    try:
        return make_url(db_url).render_as_string(hide_password=True)
    except Exception:
        return "<database URL>" if "@" in str(db_url) else str(db_url)


def with_postgres_driver(db_url: str) -> str:
    """Name the psycopg2 driver in a PostgreSQL URL that names none.

    Which driver a bare ``postgresql://`` URL means depends on the SQLAlchemy version
    (psycopg2 up to 2.0, psycopg 3 from 2.1); ``kzcourse[postgres]`` installs psycopg2, so the
    course's configuration names it and works with any version. ``postgres://`` (Heroku-style)
    is accepted as well.

    >>> with_postgres_driver("postgresql://grader@dbhost:5432/kzcourse")
    'postgresql+psycopg2://grader@dbhost:5432/kzcourse'
    >>> with_postgres_driver("sqlite:///gradebook.db")
    'sqlite:///gradebook.db'
    """
    for prefix in ("postgresql://", "postgres://"):
        if db_url.startswith(prefix):
            return "postgresql+psycopg2://" + db_url[len(prefix):]
    return db_url


def check_database(db_url: str) -> None:
    """Check that the gradebook database ``db_url`` can be used: its URL parses, the Python driver
    it names is installed and (for a server database) the server accepts a connection.

    Raises :class:`DatabaseError` with what was expected, what arrived and how to fix it.
    SQLite URLs are only parsed: nbgrader creates the file.

    >>> check_database("sqlite:///gradebook.db")
    >>> check_database("postgresql://grader@dbhost:port/kzcourse")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    kzcourse.grading.course.DatabaseError: Gradebook database URL 'postgresql://grader@dbhost:port/kzcourse' is not a database URL: ...
    >>> check_database("not a url")
    Traceback (most recent call last):
    ...
    kzcourse.grading.course.DatabaseError: Gradebook database URL 'not a url' is not a database URL: expected sqlite:///PATH or postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE. Fix --db-url (or c.CourseDirectory.db_url in nbgrader_config.py).
    """
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    try:
        url = make_url(db_url)
    except (sa.exc.ArgumentError, ValueError):  # ValueError: e.g. a port that is not a number
        raise DatabaseError(
            f"Gradebook database URL {db_url!r} is not a database URL: expected sqlite:///PATH or "
            f"postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE. Fix --db-url (or c.CourseDirectory.db_url in "
            f"{CONFIG_NAME})."
        ) from None
    shown = shown_db_url(db_url)
    backend = url.get_backend_name()
    postgres = backend == "postgresql"
    try:
        dialect = url.get_dialect()
        if backend == "sqlite":
            return
        (getattr(dialect, "import_dbapi", None) or dialect.dbapi)()
    except sa.exc.NoSuchModuleError:
        raise DatabaseError(
            f"Gradebook database URL {shown} names the database kind {url.drivername!r}, which SQLAlchemy does not "
            f"know: expected sqlite:///PATH or postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE. Fix the URL."
        ) from None
    except ImportError as exc:
        module = exc.name or url.get_driver_name()
        if postgres and url.get_driver_name() == "psycopg2":
            fix = ('install it with `pip install "kzcourse[postgres]"` (or `pip install psycopg2-binary`) into the '
                   'Python that runs kzcourse')
        elif postgres:
            fix = (f'install the package that provides {module!r}, or run `pip install "kzcourse[postgres]"` and '
                   f'name its driver in the URL: postgresql+psycopg2://… (as `kzcourse init` writes it)')
        else:
            fix = f"install the Python package that provides {module!r}"
        raise DatabaseError(
            f"Gradebook database {shown} needs the {backend} driver {module!r}, which this Python "
            f"({sys.executable}) cannot import ({exc}): expected the driver installed with kzcourse. To fix it, "
            f"{fix}; or leave out --db-url to keep the gradebook in SQLite."
        ) from None
    connect_args = {"connect_timeout": DB_CONNECT_TIMEOUT} if postgres and url.get_driver_name() == "psycopg2" else {}
    engine = sa.create_engine(url, connect_args=connect_args, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.DBAPIError as exc:
        reason = " ".join(str(exc.orig or exc).split()) or type(exc.orig).__name__
        reason += "" if reason.endswith((".", "?", "!")) else "."
        kind = {"postgresql": "PostgreSQL", "mysql": "MySQL"}.get(backend, backend)
        raise DatabaseError(
            f"Cannot connect to the gradebook database {shown}: expected a {kind} server accepting connections "
            f"there, got: {reason} Check the URL (user, password, host, port and database name), that the server "
            f"is running and reachable from this machine (for PostgreSQL: `pg_isready -h HOST -p PORT`), and that "
            f"the database exists (`createdb -h HOST -p PORT -U USER DATABASE`)."
        ) from None
    finally:
        engine.dispose()


def add_students(course: Course, students: list[Student]) -> None:
    """Create or update ``students`` in the course's gradebook (nbgrader's Gradebook API)."""
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url, course.course_id) as gb:
        for s in students:
            gb.update_or_create_student(s.id, **s.fields())


def _graders_gid(group: str) -> int:
    """The id of the Unix group ``group``, after checking this user may give a folder to it."""
    import grp
    import os

    try:
        gid = grp.getgrnam(group).gr_gid
    except KeyError:
        raise CourseError(f"Unknown graders' group {group!r}: expected an existing Unix group. Create it "
                          f"(`sudo groupadd {group}`, then add the graders), or leave out --graders-group.") from None
    if os.geteuid() != 0 and gid not in os.getgroups() and gid != os.getegid():
        raise CourseError(f"You are not a member of the graders' group {group!r}, so the course folder cannot be "
                          f"given to it: expected a group you belong to. Ask for `sudo usermod -aG {group} "
                          f"$USER` (then log in again), or leave out --graders-group.")
    return gid


def restrict_access(root: Path, graders_group: str | None = None) -> None:
    """Make the course folder ``root`` readable by its owner only (mode 700), or by its owner and the
    graders' group (mode 2770, everything inside group-readable and -writable, new files keeping the group).

    Students must never read a course folder: it holds the sources (solutions, hidden tests, mark
    schemes), the gradebook and every submission.
    """
    import os

    if not graders_group:
        root.chmod(0o700)
        return
    gid = _graders_gid(graders_group)
    for folder, dirs, files in os.walk(root):
        os.chown(folder, -1, gid)
        os.chmod(folder, 0o2770)
        for name in files:
            os.chown(os.path.join(folder, name), -1, gid)
            os.chmod(os.path.join(folder, name), 0o660)


def describe_access(root: Path) -> str:
    """Who can read the course folder ``root``, in words (as ``kzcourse init`` prints it)."""
    import grp
    import pwd
    import stat

    st = root.stat()
    mode = stat.filemode(st.st_mode)
    owner = pwd.getpwuid(st.st_uid).pw_name
    group = grp.getgrgid(st.st_gid).gr_name
    if st.st_mode & 0o007:
        return f"{mode} {owner}:{group}: other users can reach it; run `chmod o-rwx {root}`"
    if st.st_mode & 0o070:
        return f"{mode} {owner}:{group}: readable by its owner and the group {group!r} only"
    return f"{mode} {owner}: readable by its owner only"


def init_course(path: str | Path, *, roster: str | Path | None = None, db_url: str | None = None,
                course_id: str = "kzcourse", lessons_from: str | Path | None = None,
                graders_group: str | None = None) -> Course:
    """Create a course directory for a new term and return it opened.

    Copies the lesson sources (``lessons_from``, default: the checkout's ``lessons/``: an installed
    kzcourse has none) as the nbgrader source, writes ``nbgrader_config.py``, creates the gradebook
    (SQLite by default, or ``db_url``) with the roster's students and an exchange root, and makes
    the folder readable by its owner only, or its owner and ``graders_group``
    (:func:`restrict_access`). Refuses a folder that already holds a course.
    """
    from kzcourse.lessons import lessons_dir

    root = Path(path).absolute()
    students = read_roster(roster) if roster else []
    if (root / CONFIG_NAME).exists():
        raise CourseError(f"{str(path)!r} already holds a course ({CONFIG_NAME} exists): expected a new or empty "
                          f"folder. Pick another folder, or use the existing course with --course {path}.")
    if root.exists() and not root.is_dir():
        raise CourseError(f"{str(path)!r} is a file: expected a folder for the new course. Pick another path.")
    if db_url:
        db_url = with_postgres_driver(db_url)
        check_database(db_url)  # before anything is written: a failed init leaves no half-made course
    source = Path(lessons_from) if lessons_from else lessons_dir()
    if not (source.is_dir() and any((p / f"{p.name}.ipynb").is_file() for p in source.iterdir())):
        raise CourseError(f"{str(source)!r} holds no lesson sources: expected a folder of <id>/<id>.ipynb (the "
                          f"course repository's lessons/). Pass it with --lessons DIR.")
    if graders_group:
        _graders_gid(graders_group)  # before anything is written
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o700)  # from the start: the sources are copied into a folder no one else can enter
    shutil.copytree(source, root / "lessons", ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"),
                    dirs_exist_ok=True)
    (root / CONFIG_NAME).write_text(CONFIG_TEMPLATE.format(course_id=course_id, db_url=db_url or ""), encoding="utf-8")
    (root / "exchange").mkdir(exist_ok=True)
    (root / STATE_DIR).mkdir(exist_ok=True)
    course = open_course(root)
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url, course.course_id):
        pass  # creates the schema
    add_students(course, students)
    restrict_access(root, graders_group)
    return course


def roster_ids(course: Course) -> set[str]:
    """Student ids in the course's gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url, course.course_id) as gb:
        return {s.id for s in gb.students}
