"""Scan release/ and feedback/ for solutions, hidden tests and mark schemes.

Secrets are taken from each lesson's *source* notebook, not only from nbgrader's markers:
the text between ``BEGIN SOLUTION``/``END SOLUTION`` (and of markdown solution cells), the
hidden tests, the mark-scheme section of ``instructor.md``, plus the markers themselves.
A line counts as secret only if it is long enough to be distinctive (more than 12
characters) and does not also appear in a public part of the source (a question, a
visible test). In feedback, text that is in the student's own submission is the student's
answer, not a leak.
"""
from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from kzcourse.grading.course import Course, CourseError
from kzcourse.grading.preprocessors import hidden_lines

MARKERS = ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "BEGIN MARK SCHEME")
MIN_LEN = 12


@dataclass(frozen=True)
class Leak:
    """One secret found in a released or feedback file."""

    path: Path
    kind: str  # "solution", "hidden test", "mark scheme", "marker", "instructor file"
    text: str

    def __str__(self) -> str:
        return f"{self.path}: {self.kind}: {self.text[:100]!r}"


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def _between(source: str, begin: str, end: str) -> list[str]:
    out, inside = [], False
    for line in source.splitlines():
        if begin in line:
            inside = True
        elif end in line:
            inside = False
        elif inside and line.strip():
            out.append(line.strip())
    return out


def secrets(course: Course, lesson: str) -> list[tuple[str, str]]:
    """``(kind, line)`` pairs that must never reach students, from the lesson's source."""
    import nbformat

    folder = course.source_dir / lesson
    nb = nbformat.read(folder / f"{lesson}.ipynb", as_version=4)
    public = "\n".join(c.source for c in nb.cells if not _meta(c).get("solution") and "BEGIN HIDDEN TESTS" not in c.source)
    public += "\n" + "\n".join(l for c in nb.cells for l in c.source.split("### BEGIN HIDDEN TESTS")[0].splitlines()
                               if "BEGIN HIDDEN TESTS" in c.source)
    out: list[tuple[str, str]] = []
    for cell in nb.cells:
        if _meta(cell).get("solution"):
            lines = _between(cell.source, "BEGIN SOLUTION", "END SOLUTION") if "BEGIN SOLUTION" in cell.source \
                else [l.strip() for l in cell.source.splitlines() if l.strip()]
            out += [("solution", l) for l in lines]
        out += [("hidden test", l) for l in hidden_lines(cell.source)]
        out += [("mark scheme", l) for l in _between(cell.source, "BEGIN MARK SCHEME", "END MARK SCHEME")]
    notes = folder / "instructor.md"
    if notes.is_file():
        section = re.split(r"(?im)^#+ .*mark scheme.*$", notes.read_text(encoding="utf-8"), maxsplit=1)
        if len(section) == 2:
            body = re.split(r"(?m)^#+ ", section[1], maxsplit=1)[0]
            out += [("mark scheme", l.strip(" -*0123456789.")) for l in body.splitlines()]
    return [(k, l) for k, l in out if len(l) > MIN_LEN and l not in public]


def _notebook_text(path: Path) -> str:
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        return path.read_text(encoding="utf-8", errors="replace")
    parts = []
    for cell in nb.get("cells", []):
        src = cell.get("source", "")
        parts.append("".join(src) if isinstance(src, list) else src)
        for o in cell.get("outputs", []):
            for key in ("text", "traceback"):
                val = o.get(key)
                if val:
                    parts.append("".join(val) if isinstance(val, list) else str(val))
            for val in o.get("data", {}).values():
                parts.append("".join(val) if isinstance(val, list) else str(val))
    return "\n".join(parts)


def _file_text(path: Path) -> str:
    if path.suffix == ".ipynb":
        return _notebook_text(path)
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix in (".html", ".htm"):
        text = html.unescape(re.sub(r"<[^>]+>", "", text))
    return text


def _scan(path: Path, text: str, secret: list[tuple[str, str]], own: str = "") -> list[Leak]:
    found = [Leak(path, "marker", m) for m in MARKERS if m in text]
    found += [Leak(path, kind, line) for kind, line in secret if line in text and line not in own]
    return found


def audit(course: Course, lessons: list[str] | None = None) -> list[Leak]:
    """Every leak in ``release/<lesson>/`` and ``feedback/*/<lesson>/`` for ``lessons`` (default: all)."""
    leaks: list[Leak] = []
    for lesson in course.check_lessons(lessons):
        secret = secrets(course, lesson)
        folders = [(course.folder("release") / lesson, None)]
        folders += [(f, f.parent.name) for f in sorted(course.folder("feedback").glob(f"*/{lesson}")) if f.is_dir()]
        for folder, student in folders:
            if not folder.is_dir():
                continue
            own = ""
            if student:
                sub = course.folder("submitted") / student / lesson
                own = "\n".join(_file_text(p) for p in sorted(sub.glob("*.ipynb")))
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                if path.name == "instructor.md" or path.suffix == ".toml":
                    leaks.append(Leak(path, "instructor file", path.name))
                    continue
                if path.suffix not in (".ipynb", ".html", ".htm", ".md", ".py", ".txt", ".json"):
                    continue
                leaks += _scan(path, _file_text(path), secret, own)
    return leaks


# --------------------------------------------------------------------------- installs: folders, wheels, environments
#: Kinds of secret an install scan looks for.
KINDS = ("solution", "hidden test", "mark scheme", "instructor note", "wrong-answer fixture")
#: A secret line needs this many letters or digits to be searched for (shorter ones, such as a bare
#: ``lengths`` or ``| --- |``, are not distinctive). Lines also in a student edition are never secret.
MIN_ALNUM = 12
#: Files named like the instructor's own files are findings whatever they hold.
INSTRUCTOR_FILES = ("instructor.md", "wrong.toml")
#: Files larger than this are not read (no text file of the course comes near it).
MAX_BYTES = 32 * 1024 * 1024
_WS = re.compile(r"\s+")
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_TAG = re.compile(r"<[^>]+>")


def normalise(line: str) -> str:
    """A line as the audit compares it: outer whitespace dropped, inner runs of it made one space,
    single quotes and backquotes made double quotes.

    >>> normalise("  assert  x == 'RUS' ,  'hint'  ")
    'assert x == "RUS" , "hint"'
    """
    return _WS.sub(" ", line.strip()).replace("'", '"').replace("`", '"')


def _distinctive(line: str) -> bool:
    return sum(ch.isalnum() for ch in line) >= MIN_ALNUM


@dataclass(frozen=True)
class Finding:
    """One secret found by :func:`scan`: where (file, line), what kind, of which lesson."""

    path: str
    line: int
    kind: str
    lesson: str
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.kind} of {self.lesson}: {self.text[:100]!r}"


@dataclass(frozen=True)
class Secrets:
    """The normalised lines students must never get, from a folder of lesson sources."""

    source: Path
    lines: dict[str, tuple[str, str]]  # normalised line -> (kind, lesson)
    lessons: tuple[str, ...]
    #: Solution lines that kzcourse's own code also contains (``kzcourse/<module>.py:<line>``): the
    #: library's public code, so not searched for, and listed by ``kzcourse audit`` so a reviewer sees them.
    in_package: dict[str, str] = field(default_factory=dict)
    #: Names of the instructor-only files beside the lesson notebooks (instructor.md, wrong.toml, written.toml...):
    #: a file of that name is a finding wherever it is.
    file_names: frozenset[str] = frozenset(INSTRUCTOR_FILES)

    def count(self, kind: str) -> int:
        """How many secret lines of ``kind`` there are."""
        return sum(k == kind for k, _ in self.lines.values())


def _blocks(source: str, name: str) -> tuple[list[str], list[str]]:
    """Lines inside and outside nbgrader's ``BEGIN name`` / ``END name`` markers (markers dropped)."""
    inside, outside, within = [], [], False
    for line in source.splitlines():
        if f"BEGIN {name}" in line:
            within = True
        elif f"END {name}" in line:
            within = False
        else:
            (inside if within else outside).append(line)
    return inside, outside


def source_secrets(source: str | Path) -> Secrets:
    """Every secret line of the lessons in ``source`` (an instructor's ``lessons/`` folder).

    Per lesson: each line of every solution block (a markdown solution cell without markers: the whole
    cell), of every hidden-test block and of every mark-scheme block of the source notebook; each line
    of ``instructor.md`` (its mark-scheme section as "mark scheme", the rest as "instructor note"), of
    ``wrong.toml`` ("wrong-answer fixture") and of any other file in the lesson's folder (such as the
    model answers of ``written.toml``: "instructor note"). Lines are compared :func:`normalise`-d; a line that
    also stands in a public part of any lesson (what the student edition keeps) or in ``course.toml``
    is not secret, nor is one with fewer than :data:`MIN_ALNUM` letters and digits.

    >>> from kzcourse.lessons import lessons_dir
    >>> s = source_secrets(lessons_dir())
    >>> all(s.count(kind) > 0 for kind in KINDS)
    True
    """
    import nbformat

    source = Path(source)
    ids = sorted(p.name for p in source.glob("*") if (p / f"{p.name}.ipynb").is_file())
    if not ids:
        raise CourseError(f"{source} holds no lesson sources: expected <id>/<id>.ipynb folders (the instructor's "
                          f"lessons/). Pass the course repository's lessons folder with --sources DIR.")
    secret: dict[str, tuple[str, str]] = {}
    public: set[str] = set()
    names = set(INSTRUCTOR_FILES)
    if (source / "course.toml").is_file():
        public.update(normalise(l) for l in (source / "course.toml").read_text(encoding="utf-8").splitlines())

    def add(kind: str, lesson: str, lines) -> None:
        for line in lines:
            key = normalise(line)
            if _distinctive(key):
                secret.setdefault(key, (kind, lesson))

    for lesson in ids:
        folder = source / lesson
        nb = nbformat.read(folder / f"{lesson}.ipynb", as_version=4)
        for cell in nb.cells:
            text = cell.source
            if _meta(cell).get("solution") and "BEGIN SOLUTION" not in text:
                add("solution", lesson, text.splitlines())
                continue
            solution, rest = _blocks(text, "SOLUTION")
            hidden, rest = _blocks("\n".join(rest), "HIDDEN TESTS")
            scheme, rest = _blocks("\n".join(rest), "MARK SCHEME")
            add("solution", lesson, solution)
            add("hidden test", lesson, hidden)
            add("mark scheme", lesson, scheme)
            public.update(normalise(l) for l in rest)
        notes = folder / "instructor.md"
        if notes.is_file():
            text = notes.read_text(encoding="utf-8")
            parts = re.split(r"(?im)^(#+ .*mark scheme.*)$", text, maxsplit=1)
            if len(parts) == 3:
                scheme, _, after = parts[2].partition("\n#")
                add("mark scheme", lesson, [parts[1]] + scheme.splitlines())
                add("instructor note", lesson, parts[0].splitlines() + ("#" + after).splitlines())
            else:
                add("instructor note", lesson, text.splitlines())
        for other in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != f"{lesson}.ipynb"
                            and p.name != "instructor.md" and ".ipynb_checkpoints" not in p.parts):
            names.add(other.name)
            kind = "wrong-answer fixture" if other.name == "wrong.toml" else "instructor note"
            add(kind, lesson, other.read_text(encoding="utf-8", errors="replace").splitlines())
    secret = {k: v for k, v in secret.items() if k not in public}
    lines, in_package = _split_package_lines(secret)
    return Secrets(source, lines, tuple(ids), in_package, frozenset(names))


def _split_package_lines(secret: dict[str, tuple[str, str]]) -> tuple[dict, dict]:
    """Solution lines that also stand in kzcourse's own modules are public code (see :class:`Secrets`)."""
    import kzcourse

    package = Path(kzcourse.__file__).resolve().parent
    in_package: dict[str, str] = {}
    for module in sorted(package.rglob("*.py")):
        for number, line in enumerate(module.read_text(encoding="utf-8").splitlines(), 1):
            key = normalise(line)
            if secret.get(key, ("",))[0] == "solution" and key not in in_package:
                in_package[key] = f"kzcourse/{module.relative_to(package).as_posix()}:{number}"
    return {k: v for k, v in secret.items() if k not in in_package}, in_package


def _candidate_lines(name: str, text: str):
    """``(line number, text)`` pairs of a file as the audit reads it: in JSON, the strings on each
    line (split at their newlines); in HTML, each line without its tags and entities."""
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    for number, raw in enumerate(text.splitlines(), 1):
        if suffix in ("ipynb", "json"):
            for literal in _JSON_STRING.findall(raw):
                try:
                    value = json.loads(literal)
                except ValueError:
                    continue
                for piece in value.splitlines():
                    yield number, piece
            continue
        if suffix in ("html", "htm"):
            raw = html.unescape(_TAG.sub("", raw))
        if len(raw) <= 4096:  # a secret is one line of a lesson; minified code lines are not compared
            yield number, raw


def _scan_text(where: str, name: str, data: bytes, secrets_: Secrets) -> list[Finding]:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    found: list[Finding] = []
    if base in secrets_.file_names:
        found.append(Finding(where, 1, "instructor file", "?", base))
    if b"\0" in data[:4096]:
        return found
    text = data.decode("utf-8", errors="replace")
    seen: set[int] = set()
    for number, line in _candidate_lines(base, text):
        hit = secrets_.lines.get(normalise(line))
        if hit and number not in seen:
            seen.add(number)
            found.append(Finding(where, number, hit[0], hit[1], line.strip()))
    return found


def _scan_zip(label: str, opener, secrets_: Secrets) -> list[Finding]:
    import zipfile

    found: list[Finding] = []
    with zipfile.ZipFile(opener()) as archive:
        for info in archive.infolist():
            if info.is_dir() or info.file_size > MAX_BYTES:
                continue
            inner = f"{label}!{info.filename}"
            if info.filename.lower().endswith((".whl", ".zip")):
                import io

                data = archive.read(info)
                found += _scan_zip(inner, lambda d=data: io.BytesIO(d), secrets_)
            else:
                found += _scan_text(inner, info.filename, archive.read(info), secrets_)
    return found


def _scan_tar(label: str, path: Path, secrets_: Secrets) -> list[Finding]:
    import tarfile

    found: list[Finding] = []
    with tarfile.open(path) as archive:
        for member in archive:
            if member.isfile() and member.size <= MAX_BYTES:
                data = archive.extractfile(member).read()
                found += _scan_text(f"{label}!{member.name}", member.name, data, secrets_)
    return found


def _scan_file(path: Path, secrets_: Secrets) -> list[Finding]:
    name = path.name.lower()
    try:
        if name.endswith((".whl", ".zip")):
            return _scan_zip(str(path), lambda: path, secrets_)
        if name.endswith((".tar.gz", ".tgz", ".tar")):
            return _scan_tar(str(path), path, secrets_)
        if path.stat().st_size > MAX_BYTES:
            return []
        return _scan_text(str(path), path.name, path.read_bytes(), secrets_)
    except (OSError, ValueError) as exc:  # unreadable file, broken archive: say so, do not stop the scan
        return [Finding(str(path), 0, "unreadable", "?", f"{type(exc).__name__}: {exc}")]


def scan(paths, secrets_: Secrets) -> list[Finding]:
    """Every secret of ``secrets_`` in ``paths``: folders (recursively, symbolic links not followed),
    wheels and zip files (their members, nested ones too), tar archives, or single files.

    A finding names the file (``archive!member`` inside an archive) and the line: the line of the
    file as stored (for a notebook, the line of its JSON that holds the text).
    """
    found: list[Finding] = []
    for target in paths:
        target = Path(target)
        if target.is_dir():
            for path in sorted(target.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    found += _scan_file(path, secrets_)
        elif target.is_file():
            found += _scan_file(target, secrets_)
        else:
            raise CourseError(f"Nothing to audit at {str(target)!r}: expected a folder, a wheel (.whl) or a file. "
                              f"Check the path.")
    return found


def installed_paths() -> list[Path]:
    """The folders of the running Python environment that ``kzcourse audit --installed`` scans:
    its prefix (``sys.prefix``: site-packages, ``share/jupyter``, scripts) or, for a system Python,
    its site-packages and data folders."""
    import sys
    import sysconfig

    if sys.prefix != sys.base_prefix:  # a virtual environment: all of it
        return [Path(sys.prefix)]
    paths = sysconfig.get_paths()
    found = {Path(paths[k]) for k in ("purelib", "platlib") if k in paths}
    found.add(Path(paths.get("data", sys.prefix)) / "share" / "jupyter")
    return sorted(p for p in found if p.is_dir())


def editable_checkouts() -> list[Path]:
    """Checkouts that an editable install of kzcourse exposes (empty for an ordinary install).

    An editable install points into the course repository, the instructor's edition, which
    ``--installed`` does not scan: the audit names it instead.
    """
    import kzcourse

    package = Path(kzcourse.__file__).resolve().parent
    return [package.parent] if (package.parent / "lessons").is_dir() and (package.parent / "pyproject.toml").is_file() \
        else []
