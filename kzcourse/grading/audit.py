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
from dataclasses import dataclass
from pathlib import Path

from kzcourse.grading.course import Course
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
