"""An HTML report of a term: what is graded, what waits for hand grading, item analysis, late work.

Per lesson, for every question (the grade cells that share a question id: ``q1_test`` and
``q1_extra`` belong to ``q1``; ``w1`` is its own question), over the submissions that were
graded (flagged ones included; broken and missing ones never count):

``graded``
    submissions in which every cell of the question has a score;
``awaiting hand grading``
    submissions in which a cell of the question still needs a grader (a written answer
    nbgrader could not score). They are left out of every statistic of the question;
``mean (points)`` and ``mean (share)``
    the mean score of the graded ones, in points and as a share of the question's points;
``share at full marks``
    the share of the graded ones with every point;
``discrimination``
    Kelley's index D: the mean score (as a share of the question's points) of the upper 27 %
    of students minus that of the lower 27 %, students ranked by their score on the cells
    graded for all of them. From −1 to 1; near 0 or below, the question does not separate
    strong from weak work. **Undefined** (shown as "undefined", never as a number) with fewer
    than :data:`MIN_FOR_D` graded submissions, or when the ranking scores or the question's
    scores are all equal (no spread to separate).

Lesson totals are split: complete submissions (nothing pending) and the score-so-far of
submissions that still wait for hand grading, with the points still to grade. Every number is
rounded to two decimals (:func:`fmt`); shares are fractions from 0 to 1. Charts are plotly
figures, with plotly.js inlined once for the whole file (``kzcourse.charts.figure_html``: the
course's gzip copy, unpacked by the browser; it works offline), count axes in
whole numbers, and a table with the same numbers beside each chart.
"""
from __future__ import annotations

import html
import math
from dataclasses import dataclass
from pathlib import Path

from kzcourse.grading.course import Course
from kzcourse.grading.export import Row, gradebook_rows
from kzcourse.grading.journal import read_journal

#: Fewer graded submissions than this leave the discrimination index undefined.
MIN_FOR_D = 4
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9"]  # Okabe-Ito, colour-blind safe


@dataclass
class Item:
    """Item statistics of one question."""

    lesson: str
    question: str
    points: float
    written: bool
    n: int
    pending: int
    mean: float | None
    full_share: float | None
    discrimination: float | None

    @property
    def mean_share(self) -> float | None:
        return None if self.mean is None or not self.points else self.mean / self.points


def fmt(x: float | None, undefined: str = "—") -> str:
    """The report's one rounding rule: two decimals; ``undefined`` for no value.

    >>> fmt(2 / 3), fmt(0.6), fmt(3), fmt(None, "undefined")
    ('0.67', '0.60', '3.00', 'undefined')
    """
    return undefined if x is None else f"{x:.2f}"


def whole_step(top: float, ticks: int) -> int:
    """A whole-number tick step that shows at most about ``ticks`` ticks up to ``top``.

    >>> whole_step(3, 8), whole_step(30, 8), whole_step(0, 8)
    (1, 4, 1)
    """
    return max(1, math.ceil(top / ticks))


def _tallest_bin(values: list[float]) -> int:
    """The highest count of a unit-wide histogram bin centred on whole numbers."""
    from collections import Counter

    return max(Counter(math.floor(v + 0.5) for v in values).values(), default=0)


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
    ``None`` (undefined) with fewer than :data:`MIN_FOR_D` students or no spread.

    >>> discrimination_index([10, 8, 5, 2, 1], [1, 1, 1, 0, 0], 1)
    1.0
    >>> discrimination_index([10, 8, 5, 2, 1], [0, 0, 1, 1, 1], 1)
    -1.0
    >>> discrimination_index([10, 8, 5, 2, 1], [1, 1, 1, 1, 1], 1) is None   # everyone got it
    True
    >>> discrimination_index([4, 4, 4, 4], [1, 0, 1, 0], 1) is None          # totals all equal
    True
    """
    n = len(totals)
    if n < MIN_FOR_D or not points or len(set(totals)) < 2 or len(set(scores)) < 2:
        return None
    k = min(max(1, int(round(share * n))), n // 2)
    order = sorted(range(n), key=lambda i: -totals[i])
    upper = sum(scores[i] for i in order[:k]) / k
    lower = sum(scores[i] for i in order[-k:]) / k
    return (upper - lower) / points


def _graded(rows: list[Row]) -> list[Row]:
    return [r for r in rows if r.status in ("graded", "flagged")]


def item_analysis(rows: list[Row]) -> list[Item]:
    """Item statistics per lesson and question (see the module docstring)."""
    items = []
    for lesson in dict.fromkeys(r.lesson for r in rows):
        graded = _graded([r for r in rows if r.lesson == lesson])
        if not graded:
            continue
        cells = list(dict.fromkeys(c for r in graded for c in r.items))
        for q in dict.fromkeys(question_of(c) for c in cells):
            qcells = [c for c in cells if question_of(c) == q]
            points = sum(graded[0].item_max.get(c, 0) for c in qcells)
            written = any(c in graded[0].written for c in qcells)
            done = [r for r in graded if all(r.items.get(c) is not None for c in qcells)]
            pending = len(graded) - len(done)
            if not done:
                items.append(Item(lesson, q, points, written, 0, pending, None, None, None))
                continue
            scores = [sum(r.items[c] for c in qcells) for r in done]
            common = [c for c in cells if all(r.items.get(c) is not None for r in done)]
            totals = [sum(r.items[c] for c in common) for r in done]
            mean = sum(scores) / len(scores)
            full = sum(1 for s in scores if points and math.isclose(s, points)) / len(scores)
            items.append(Item(lesson, q, points, written, len(done), pending, mean, full,
                              discrimination_index(totals, scores, points)))
    return items


def _table(headers: list[str], rows: list[list], caption: str = "") -> str:
    head = "".join(f"<th scope='col'>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape('' if v is None else str(v))}</td>" for v in r) + "</tr>"
                   for r in rows)
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _totals_section(lesson: str, lrows: list[Row], fig_html) -> list[str]:
    import plotly.graph_objects as go

    graded = _graded(lrows)
    max_score = graded[0].max_score or 0
    complete = [r for r in graded if not r.pending]
    waiting = [r for r in graded if r.pending]
    so_far = [sum(v for v in r.items.values() if v is not None) for r in waiting]
    done_totals = [r.score or 0.0 for r in complete]
    parts = []
    fig = go.Figure()
    bins = dict(start=-0.5, end=max_score + 0.5, size=1)
    fig.add_histogram(x=done_totals, xbins=bins, name="complete (nothing pending)",
                      marker_color=PALETTE[0])
    fig.add_histogram(x=so_far, xbins=bins, name="score so far, awaiting hand grading", marker_color=PALETTE[1],
                      marker_pattern_shape="/")
    fig.update_layout(title=f"{lesson}: lesson totals (out of {max_score:g})", barmode="stack", bargap=0.15,
                      xaxis=dict(title="points", dtick=whole_step(max_score, 20), range=[-0.5, max_score + 0.5]),
                      yaxis=dict(title="students", dtick=whole_step(_tallest_bin(done_totals + so_far), 8),
                                 rangemode="tozero"),
                      height=320, margin=dict(t=50, b=40, l=50, r=20), legend=dict(orientation="h", y=-0.25))
    parts.append(fig_html(fig))
    done_scores = done_totals
    text = [f"{len(graded)} graded submissions: {len(complete)} complete"]
    if complete:
        text.append(f"(mean {fmt(sum(done_scores) / len(done_scores))}, min {fmt(min(done_scores))}, "
                    f"max {fmt(max(done_scores))} of {fmt(max_score)})")
    if waiting:
        pend_points = [sum(r.item_max[c] for c in r.pending) for r in waiting]
        text.append(f"and {len(waiting)} awaiting hand grading (score so far: mean {fmt(sum(so_far) / len(so_far))}, "
                    f"with up to {fmt(max(pend_points))} points still to grade each; these totals are incomplete, "
                    f"not low)")
    parts.append("<p class='alt'>Text alternative: " + " ".join(text) + ".</p>")
    return parts


def _items_section(lesson: str, litems: list[Item], fig_html) -> list[str]:
    import plotly.graph_objects as go

    qs = [i.question for i in litems]
    parts = []
    fig = go.Figure()
    fig.add_bar(x=qs, y=[i.mean_share for i in litems], name="mean (share of points)", marker_color=PALETTE[0])
    fig.add_bar(x=qs, y=[i.full_share for i in litems], name="share at full marks", marker_color=PALETTE[1],
                marker_pattern_shape="/")
    for i in litems:
        if i.n == 0:
            fig.add_annotation(x=i.question, y=0.05, text="awaiting<br>hand grading", showarrow=False,
                               font=dict(size=10))
    fig.update_layout(title=f"{lesson}: difficulty (graded answers only)", barmode="group",
                      yaxis=dict(title="share (0-1)", range=[0, 1.05]), height=320,
                      margin=dict(t=50, b=40, l=50, r=20), legend=dict(orientation="h", y=-0.25))
    parts.append(fig_html(fig))
    fig = go.Figure()
    fig.add_scatter(x=qs, y=[i.discrimination for i in litems], mode="markers", name="discrimination index D",
                    marker=dict(color=PALETTE[2], size=13, symbol="diamond"))
    for i in litems:
        if i.discrimination is None:
            fig.add_annotation(x=i.question, y=0, text="undefined", showarrow=False, font=dict(size=10),
                               textangle=-90)
    fig.add_hline(y=0, line_color="#777", line_width=1)
    fig.update_layout(title=f"{lesson}: discrimination (upper minus lower 27 %)", height=300,
                      xaxis=dict(categoryorder="array", categoryarray=qs),
                      yaxis=dict(title="D (-1 to 1)", range=[-1.05, 1.05], zeroline=False),
                      margin=dict(t=50, b=40, l=50, r=20))
    parts.append(fig_html(fig))
    parts.append(_table(
        ["question", "kind", "points", "graded", "awaiting hand grading", "mean (points)", "mean (share)",
         "share at full marks", "discrimination"],
        [[i.question, "written" if i.written else "autograded", fmt(i.points), i.n, i.pending, fmt(i.mean),
          fmt(i.mean_share), fmt(i.full_share), fmt(i.discrimination, "undefined")] for i in litems],
        caption=f"{lesson}: item analysis (the numbers of the two charts above)"))
    return parts


def build_report(course: Course, lessons: list[str] | None = None) -> str:
    """The report as one HTML document (plotly.js inlined once)."""
    from kzcourse.grading.deadlines import due_text, load_term, recompute

    rows = gradebook_rows(course, lessons)
    late = recompute(course, lessons)
    term = load_term(course)
    items = item_analysis(rows)
    parts, first = [], True

    def fig_html(fig) -> str:  # plotly.js once, the course's compressed copy when it matches plotly
        from kzcourse.charts import figure_html

        nonlocal first
        fig.update_layout(meta={"builder": "report",
                                "alt": f"{fig.layout.title.text}: the numbers are in the text and table below"})
        out = figure_html(fig, include_plotlyjs=first)
        first = False
        return out

    graded = _graded(rows)
    pending = [r for r in graded if r.pending]
    parts.append("<h1>kzcourse grading report</h1>")
    parts.append(f"<p>Course: {html.escape(str(course.root))}. {len(graded)} graded submissions, "
                 f"<strong>{len(pending)} of them awaiting hand grading</strong> (written answers not scored yet: "
                 "left out of the item statistics, their totals marked incomplete). Broken and missing submissions "
                 "are listed, never counted as 0. Every number is rounded to two decimals; shares run from 0 "
                 "to 1.</p>")
    nav = "".join(f"<a href='#{html.escape(l)}'>{html.escape(l)}</a> " for l in dict.fromkeys(r.lesson for r in rows))
    parts.append(f"<nav>Lessons: {nav}· <a href='#late'>late</a> · <a href='#flagged'>flagged</a> · "
                 "<a href='#broken'>broken</a></nav>")
    parts.append("<h2 id='overview'>Overview</h2>")
    overview = []
    for lesson in dict.fromkeys(r.lesson for r in rows):
        lrows = [r for r in rows if r.lesson == lesson]
        lg = _graded(lrows)
        due = term.due.get(lesson)
        overview.append([lesson, due_text(due) if due else "none", sum(1 for r in lg if not r.pending),
                         sum(1 for r in lg if r.pending), sum(1 for r in lrows if r.status == "flagged"),
                         sum(1 for r in lrows if r.status == "broken"), sum(1 for r in lrows if r.status == "missing"),
                         sum(1 for x in late if x.lesson == lesson)])
    parts.append(_table(["lesson", "due", "complete", "awaiting hand grading", "flagged", "broken", "missing",
                         "late"], overview))
    parts.append("<h2 id='late'>Late submissions</h2>")
    parts.append(_table(["student", "lesson", "submitted (UTC)", "due (UTC)", "extension", "hours late", "penalty"],
                        [[x.student, x.lesson, f"{x.submitted:%Y-%m-%d %H:%M}", f"{x.due:%Y-%m-%d %H:%M}",
                          "yes" if x.extended else "no", fmt(x.hours_late), fmt(x.penalty)] for x in late])
                 if late else "<p>None.</p>")
    if term.due:
        parts.append(f"<p>Late policy: {fmt(term.policy.per_day)} of the lesson's points per started day late "
                     f"(grace {term.policy.grace_minutes:g} minutes), never more than the score; totals below "
                     "are after the penalty.</p>")
    flagged = [r for r in rows if r.status == "flagged"]
    broken = [r for r in rows if r.status == "broken"]
    parts.append("<h2 id='flagged'>Flagged for manual review</h2>")
    parts.append(_table(["student", "lesson", "score", "findings"],
                        [[r.student, r.lesson, fmt(r.score),
                          "; ".join(f"{f.get('code')}: {f.get('message')}" for f in r.flags)] for r in flagged])
                 if flagged else "<p>None.</p>")
    parts.append("<h2 id='broken'>Broken submissions (not graded)</h2>")
    entries = read_journal(course)
    parts.append(_table(["student", "lesson", "reason"],
                        [[r.student, r.lesson, entries.get((r.student, r.lesson), {}).get("reason", "")]
                         for r in broken]) if broken else "<p>None.</p>")
    for lesson in dict.fromkeys(r.lesson for r in rows):
        lrows = [r for r in rows if r.lesson == lesson]
        parts.append(f"<h2 id='{html.escape(lesson)}'>{html.escape(lesson)}</h2>")
        if not _graded(lrows):
            parts.append("<p>Nothing graded yet.</p>")
            continue
        parts += _totals_section(lesson, lrows, fig_html)
        parts += _items_section(lesson, [i for i in items if i.lesson == lesson], fig_html)
    style = ("body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em}"
             "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #999;padding:.2em .6em}"
             "caption{text-align:left;font-style:italic}td{text-align:right}td:first-child{text-align:left}")
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>kzcourse grading report</title>"
            f"<style>{style}</style></head><body>{''.join(parts)}</body></html>")


def write_report(course: Course, path: str | Path | None = None, lessons: list[str] | None = None) -> Path:
    """Write :func:`build_report` to ``path`` (default ``report.html`` in the course); return it."""
    out = Path(path) if path else course.root / "report.html"
    out.write_text(build_report(course, lessons), encoding="utf-8")
    return out
