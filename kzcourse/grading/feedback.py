"""Feedback that waits for the grader: ``kzcourse feedback``.

nbgrader's ``generate_feedback`` writes a page for every autograded submission, so a written
answer nobody has graded yet reads "0.0 / 4.0" to the student. kzcourse recomputes late
penalties (:mod:`kzcourse.grading.deadlines`), lets nbgrader write the pages, and then, for
every submission with a written answer still **awaiting hand grading**:

* by default **holds it back**: its page is removed from ``feedback/`` (so ``--release``
  cannot hand it out) and the student is listed as held back;
* with ``release_ungraded=True`` (``--release-ungraded``) keeps the page, with a banner at
  the top saying which answers are not graded yet and that the total is incomplete.
"""
from __future__ import annotations

import html
import shutil
from dataclasses import dataclass, field

from kzcourse.grading.course import Course, CourseError

BANNER_CLASS = "kzcourse-not-graded"


@dataclass
class FeedbackResult:
    """What :func:`feedback` did for one lesson."""

    lesson: str
    written: list[str] = field(default_factory=list)  # students with a page
    held_back: list[str] = field(default_factory=list)  # students with answers awaiting hand grading, no page
    marked: list[str] = field(default_factory=list)  # pages kept with the "not graded yet" banner
    released: bool | str = False  # True, False, or why the exchange refused


def _banner(pending: list[str]) -> str:
    names = ", ".join(pending)
    return (f"<div class='{BANNER_CLASS}' role='alert' style='border:3px solid #E69F00;background:#fff6e0;"
            f"padding:.8em 1em;margin:1em;font-size:1.1em'><strong>Not graded yet.</strong> Your written "
            f"answer{'s' if len(pending) > 1 else ''} ({html.escape(names)}) "
            f"{'have' if len(pending) > 1 else 'has'} not been graded by hand yet: "
            f"{'they show' if len(pending) > 1 else 'it shows'} 0 points for now, and the total below is "
            f"incomplete. You will get this page again once grading is done.</div>")


def mark_not_graded(page_html: str, pending: list[str]) -> str:
    """Insert the "not graded yet" banner right after ``<body>`` (once).

    >>> out = mark_not_graded("<html><body class='x'><p>0.0 / 4.0</p></body></html>", ["w1"])
    >>> out.index("Not graded yet") < out.index("0.0 / 4.0")
    True
    >>> mark_not_graded(out, ["w1"]).count("Not graded yet")
    1
    """
    if BANNER_CLASS in page_html:
        return page_html
    start = page_html.find("<body")
    end = page_html.find(">", start) + 1 if start >= 0 else 0
    return page_html[:end] + _banner(pending) + page_html[end:]


def feedback(course: Course, lessons: list[str] | None = None, *, release_ungraded: bool = False,
             release: bool = False) -> list[FeedbackResult]:
    """Write feedback pages for ``lessons``, holding back (or marking) unfinished hand grading."""
    from kzcourse.grading.export import gradebook_rows

    lessons = course.check_lessons(lessons)
    api = course.api()
    results = []
    rows = gradebook_rows(course, lessons)  # recomputes late penalties first
    for lesson in lessons:
        if not list(course.folder("autograded").glob(f"*/{lesson}")):
            continue
        result = api.generate_feedback(lesson, force=True)
        if not result.get("success"):
            text = (result.get("error") or result.get("log") or "").strip().splitlines()
            raise CourseError(f"nbgrader could not generate feedback for {lesson}: "
                              f"{text[-1] if text else 'no message'}")
        res = FeedbackResult(lesson)
        for r in rows:
            if r.lesson != lesson:
                continue
            folder = course.folder("feedback") / r.student / lesson
            if not folder.is_dir():
                continue
            if r.status not in ("graded", "flagged"):
                shutil.rmtree(folder)  # a page of an older, now broken, submission
            elif not r.pending:
                res.written.append(r.student)
            elif release_ungraded:
                for page in folder.glob("*.html"):
                    page.write_text(mark_not_graded(page.read_text(encoding="utf-8"), r.pending), encoding="utf-8")
                res.marked.append(r.student)
            else:
                shutil.rmtree(folder)
                res.held_back.append(r.student)
        if release and (res.written or res.marked) and api.exchange_is_functional:
            out = api.release_feedback(lesson)
            res.released = True if out.get("success") else (out.get("error") or "refused").strip()[-200:]
        results.append(res)
    return results
