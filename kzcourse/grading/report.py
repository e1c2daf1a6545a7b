"""An HTML report of a term: item analysis, score distributions, flagged and broken submissions.

Per lesson, for every question (the grade cells that share a question id: ``q1_test`` and
``q1_extra`` belong to ``q1``; ``w1`` is its own question), over the graded submissions:

* **mean** score and **share at full marks**;
* **discrimination index** D: the mean score (as a share of the question's points) of the
  upper 27 % of students by lesson total minus that of the lower 27 % (Kelley's groups).
  D near 0 or negative means the question does not separate strong from weak work.

Charts are plotly figures with plotly.js inlined (the file works offline); every chart has
a table with the same numbers beside it.
"""
from __future__ import annotations

import html
import math
from dataclasses import dataclass
from pathlib import Path

from kzcourse.grading.course import Course
from kzcourse.grading.export import Row, gradebook_rows


@dataclass
class Item:
    """Item statistics of one question."""

    lesson: str
    question: str
    points: float
    n: int
    mean: float | None
    full_share: float | None
    discrimination: float | None


def question_of(cell: str) -> str:
    """The question a grade cell belongs to: its id before the first underscore.

    >>> question_of("q1_test"), question_of("w1")
    ('q1', 'w1')
    """
    return cell.split("_", 1)[0]


def discrimination_index(totals: list[float], scores: list[float], points: float, share: float = 0.27) -> float | None:
    """Upper-minus-lower group difference in mean item score, as a share of ``points``.

    ``totals[i]`` and ``scores[i]`` belong to the same student. Groups are the top and
    bottom ``share`` of students by total (at least one each; ties broken by position).

    >>> discrimination_index([10, 8, 2, 1], [1, 1, 0, 0], 1)
    1.0
    >>> discrimination_index([10, 8, 2, 1], [0, 0, 1, 1], 1)
    -1.0
    """
    n = len(totals)
    if n < 2 or not points:
        return None
    k = max(1, int(round(share * n)))
    k = min(k, n // 2)
    order = sorted(range(n), key=lambda i: -totals[i])
    upper = sum(scores[i] for i in order[:k]) / k
    lower = sum(scores[i] for i in order[-k:]) / k
    return round((upper - lower) / points, 4)


def item_analysis(rows: list[Row]) -> list[Item]:
    """Item statistics per lesson and question over graded (and flagged) submissions."""
    items = []
    for lesson in dict.fromkeys(r.lesson for r in rows):
        graded = [r for r in rows if r.lesson == lesson and r.status in ("graded", "flagged")]
        if not graded:
            continue
        cells = list(dict.fromkeys(c for r in graded for c in r.items))
        questions = list(dict.fromkeys(question_of(c) for c in cells))
        for q in questions:
            qcells = [c for c in cells if question_of(c) == q]
            points = sum(graded[0].item_max.get(c, 0) for c in qcells)
            pairs = [(r.score or 0.0, sum(r.items[c] or 0.0 for c in qcells)) for r in graded
                     if all(r.items.get(c) is not None for c in qcells)]
            if not pairs:
                items.append(Item(lesson, q, points, 0, None, None, None))
                continue
            totals, scores = [p[0] for p in pairs], [p[1] for p in pairs]
            mean = sum(scores) / len(scores)
            full = sum(1 for s in scores if points and math.isclose(s, points)) / len(scores)
            items.append(Item(lesson, q, points, len(pairs), round(mean, 4), round(full, 4),
                              discrimination_index(totals, scores, points)))
    return items


def _table(headers: list[str], rows: list[list]) -> str:
    head = "".join(f"<th scope='col'>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape('' if v is None else str(v))}</td>" for v in r) + "</tr>"
                   for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def build_report(course: Course, lessons: list[str] | None = None) -> str:
    """The report as one HTML document (plotly.js inlined once)."""
    import plotly.graph_objects as go

    rows = gradebook_rows(course, lessons)
    items = item_analysis(rows)
    parts, first = [], True

    def fig_html(fig) -> str:
        nonlocal first
        out = fig.to_html(full_html=False, include_plotlyjs=first, config={"displaylogo": False})
        first = False
        return out

    parts.append("<h1>kzcourse grading report</h1>")
    parts.append(f"<p>Course: {html.escape(str(course.root))}. Item statistics use graded submissions only; "
                 "broken and missing submissions are listed, never counted as 0.</p>")
    flagged = [r for r in rows if r.status == "flagged"]
    broken = [r for r in rows if r.status == "broken"]
    parts.append("<h2 id='flagged'>Flagged for manual review</h2>")
    parts.append(_table(["student", "lesson", "score", "findings"],
                        [[r.student, r.lesson, r.score, "; ".join(f"{f.get('code')}: {f.get('message')}" for f in r.flags)]
                         for r in flagged]) if flagged else "<p>None.</p>")
    parts.append("<h2 id='broken'>Broken submissions (not graded)</h2>")
    from kzcourse.grading.grade import read_journal

    journal = read_journal(course)
    parts.append(_table(["student", "lesson", "reason"],
                        [[r.student, r.lesson, journal.get((r.student, r.lesson), {}).get("reason", "")] for r in broken])
                 if broken else "<p>None.</p>")
    palette = ["#0072B2", "#E69F00", "#009E73", "#CC79A7"]  # Okabe-Ito, colour-blind safe
    for lesson in dict.fromkeys(r.lesson for r in rows):
        lrows = [r for r in rows if r.lesson == lesson]
        graded = [r for r in lrows if r.status in ("graded", "flagged")]
        parts.append(f"<h2 id='{html.escape(lesson)}'>{html.escape(lesson)}</h2>")
        counts = {s: sum(1 for r in lrows if r.status == s) for s in ("graded", "flagged", "broken", "missing")}
        parts.append("<p>" + ", ".join(f"{v} {k}" for k, v in counts.items()) + ".</p>")
        if not graded:
            continue
        totals = [r.score or 0.0 for r in graded]
        fig = go.Figure(go.Histogram(x=totals, xbins=dict(start=-0.5, end=(graded[0].max_score or 1) + 0.5, size=1),
                                     marker_color=palette[0], name="students"))
        fig.update_layout(title=f"{lesson}: total scores (out of {graded[0].max_score:g})", xaxis_title="score",
                          yaxis_title="students", height=320, margin=dict(t=50, b=40, l=50, r=20))
        parts.append(fig_html(fig))
        mean = sum(totals) / len(totals)
        parts.append(f"<p class='alt'>Text alternative: {len(totals)} graded submissions, mean {mean:.2f}, "
                     f"min {min(totals):g}, max {max(totals):g} of {graded[0].max_score:g}.</p>")
        litems = [i for i in items if i.lesson == lesson]
        fig = go.Figure()
        fig.add_bar(x=[i.question for i in litems], y=[i.mean / i.points if i.mean is not None and i.points else None
                                                         for i in litems], name="mean (share of points)",
                    marker_color=palette[0])
        fig.add_bar(x=[i.question for i in litems], y=[i.full_share for i in litems], name="share at full marks",
                    marker_color=palette[1])
        fig.add_scatter(x=[i.question for i in litems], y=[i.discrimination for i in litems], mode="markers",
                        name="discrimination index", marker=dict(color=palette[2], size=12, symbol="diamond"))
        fig.update_layout(title=f"{lesson}: item analysis", barmode="group", yaxis=dict(range=[-1, 1.05]),
                          height=360, margin=dict(t=50, b=40, l=50, r=20))
        parts.append(fig_html(fig))
        parts.append(_table(["question", "points", "n", "mean", "share at full marks", "discrimination index"],
                            [[i.question, f"{i.points:g}", i.n, i.mean, i.full_share, i.discrimination]
                             for i in litems]))
    style = ("body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em}"
             "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #999;padding:.2em .6em}")
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>kzcourse grading report</title>"
            f"<style>{style}</style></head><body>{''.join(parts)}</body></html>")


def write_report(course: Course, path: str | Path | None = None, lessons: list[str] | None = None) -> Path:
    """Write :func:`build_report` to ``path`` (default ``report.html`` in the course); return it."""
    out = Path(path) if path else course.root / "report.html"
    out.write_text(build_report(course, lessons), encoding="utf-8")
    return out
