"""Helpers for the site tests: heading order and the audit of a built site (axe-core: tests/browser/axe.py)."""
from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"


def headings_in_order(page: Any) -> bool:
    """True when no heading skips a level after the previous one (h2 -> h4 is a skip)."""
    levels = page.eval_on_selector_all("main h1, main h2, main h3, main h4, main h5, main h6",
                                       "els => els.map(e => Number(e.tagName[1]))")
    return all(b <= a + 1 for a, b in zip(levels, levels[1:])) and (not levels or levels[0] == 1)


def audit_site(folder: Path) -> list[Any]:
    """Every solution line, hidden test or mark scheme of the lessons' sources found in ``folder``.

    Uses :mod:`kzcourse.grading.audit`'s secrets (taken from the source notebooks and
    instructor notes, not only nbgrader's markers), the way ``kzcourse audit`` does per
    lesson: a lesson's page, notebooks and maps (named after its id), and its records in the
    search index, against that lesson's secrets; every other text file (home, article,
    guides) against the distinctive (over 40 characters) secret lines of all lessons.
    """
    import nbformat

    from kzcourse.grading import audit
    from kzcourse.grading.course import init_course

    def norm(text: str) -> str:
        return " ".join(re.sub(r"[*_`]", "", text).split())

    with tempfile.TemporaryDirectory() as tmp:
        course = init_course(Path(tmp) / "course")
        per_lesson = {lesson: audit.secrets(course, lesson) for lesson in course.lesson_ids()}
        # A secret line that the lesson's public cells hold (wrapped differently, or with markdown
        # emphasis) is the question's wording, not the answer: compare with whitespace normalised.
        for lesson, lines in per_lesson.items():
            nb = nbformat.read(course.source_dir / lesson / f"{lesson}.ipynb", as_version=4)
            public = norm(" ".join(c.source.split("### BEGIN HIDDEN TESTS")[0] for c in nb.cells
                                   if not c.metadata.get("nbgrader", {}).get("solution")))
            per_lesson[lesson] = [(k, l) for k, l in lines if norm(l) not in public]

    # Pages not made from a lesson are checked against every lesson's distinctive lines (a short
    # wrapped line such as "the notebook." of a model answer also occurs in ordinary prose).
    anywhere = [s for lines in per_lesson.values() for s in lines if len(s[1]) > 40]

    def lesson_of(name: str) -> str | None:
        return next((l for l in per_lesson if name.startswith(l)), None)

    leaks = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if path.name == "instructor.md":
            leaks.append(audit.Leak(path, "instructor file", path.name))
            continue
        if path.name == "search-index.js":  # one record per page section: each against its page's lesson
            records = json.loads(path.read_text(encoding="utf-8").split("=", 1)[1].rstrip().rstrip(";"))
            for rec in records:
                lesson = lesson_of(rec["url"])
                leaks += audit._scan(path, rec["text"], per_lesson[lesson] if lesson else anywhere)
            continue
        if path.suffix not in (".html", ".ipynb", ".js", ".json", ".md", ".txt") or path.name == "plotly.min.js":
            continue
        lesson = lesson_of(path.name) or (path.parent.name if path.parent.name in per_lesson else None)
        leaks += audit._scan(path, audit._file_text(path), per_lesson[lesson] if lesson else anywhere)
    return leaks
