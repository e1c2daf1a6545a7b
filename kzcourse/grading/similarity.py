"""``kzcourse similarity [LESSON…]``: which students' work is suspiciously alike — for a human to read.

For each lesson, every submitted notebook in ``submitted/<student>/<lesson>/`` is read as
data (JSON; nothing is executed) and split in two documents:

* **code**: the answer cells the student edits (nbgrader solution cells, plus cells the
  student added), tokenised by `copydetect <https://pypi.org/project/copydetect/>`_ with
  Pygments: variable, attribute and function names become ``V``/``F``, strings ``S``,
  comments and whitespace vanish — so renaming variables does not hide a copy;
* **written**: the written answers (markdown solution cells and added markdown), lower-cased,
  punctuation dropped.

Both are fingerprinted by winnowing (copydetect's MOSS-style k-grams; k = :data:`K_CODE`
characters of the tokenised code, :data:`K_TEXT` of the text, window :data:`WINDOW`), which
finds shared passages wherever they sit, so reordered lines and cells still match. Two
things are **discounted** before any comparison, because they are alike for honest reasons:

1. the **starter code** and text of the release (every k-gram of it): handing in the lesson
   as given scores 0;
2. **class-common** passages: k-grams found in at least :data:`COMMON_SHARE` of the lesson's
   submissions (and at least 3) — the one obvious answer to a small task, which many honest
   students write identically.

A pair's code (written) similarity is the mean over its two students of the share of that
student's remaining fingerprinted tokens that the other's document shares (copydetect's
``compare_files``); a document with fewer than :data:`MIN_TOKENS` tokens left is not
compared (0). The pair's **score** is the larger of the two: a copied written answer alone is
enough. Pairs at or above :data:`THRESHOLD` are listed first in ``similarity.html``, with the
shared passages highlighted side by side. **No score is changed**; a high similarity is a
reason to read two notebooks, not a finding of copying (see the README for the limits).

Why copydetect: a maintained (MIT, 2024) library built for exactly this — winnowing as in
MOSS, Pygments tokenisation with identifier normalisation, boilerplate removal, and the
overlap slices needed to highlight passages — usable offline as a Python API. Its own
``CopyDetector`` works on files and directories; kzcourse calls its fingerprint and compare
functions on documents built from the notebooks instead.
"""
from __future__ import annotations

import html
import io
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from kzcourse.grading.course import Course, CourseError

K_CODE = 25
K_TEXT = 30
WINDOW = 4
COMMON_SHARE = 0.5
MIN_TOKENS = 40
#: Pairs at or above this score are shown as "read these two". Chosen from benchmarks/bench_similarity.py:
#: independent pairs of the synthetic class reached at most 0.80 (seeds 2022, 7, 11), an honest-only class
#: where most write the solution 0.87, planted copies 1.00 (lesson 03 with six coded questions; with five, the
#: honest-only class of seed 11 reaches 0.97: see the README, "Limits").
THRESHOLD = 0.9
DUE_CELL = "kzcourse_due"


@dataclass
class Document:
    """What one student handed in for one lesson, as the two texts compared."""

    student: str
    lesson: str
    code: str
    written: str


@dataclass
class Pair:
    """Two students' similarity on one lesson, with the shared passages."""

    lesson: str
    a: str
    b: str
    code: float
    written: float
    passages: dict[str, tuple[str, str]] = field(default_factory=dict)  # channel -> highlighted (a, b) HTML

    @property
    def score(self) -> float:
        return max(self.code, self.written)


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def split_notebook(nb: dict) -> tuple[str, str]:
    """The (code, written) answers of a notebook dict: solution and student-added cells only.

    >>> nb = {"cells": [
    ...     {"cell_type": "code", "source": "import x", "metadata": {"nbgrader": {"locked": True}}},
    ...     {"cell_type": "code", "source": "a = 1", "metadata": {"nbgrader": {"solution": True}}},
    ...     {"cell_type": "markdown", "source": "Because P2.", "metadata": {"nbgrader": {"solution": True}}},
    ...     {"cell_type": "code", "source": "print(a)", "metadata": {}}]}
    >>> split_notebook(nb)
    ('a = 1\\n\\nprint(a)', 'Because P2.')
    """
    code, written = [], []
    for cell in nb.get("cells", []):
        meta = _meta(cell)
        if cell.get("metadata", {}).get(DUE_CELL):
            continue
        if meta and not meta.get("solution"):
            continue  # locked text, locked code, tests
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        if cell.get("cell_type") == "code":
            code.append(source)
        elif cell.get("cell_type") == "markdown":
            written.append(source)
    return "\n\n".join(code), "\n\n".join(written)


def normalise_text(text: str) -> str:
    """Written answers as compared: lower case, words and numbers only, single spaces.

    >>> normalise_text("The KNB *detained* Masimov on 6 January (KAZ040).")
    'the knb detained masimov on 6 january kaz040'
    """
    return " ".join(re.findall(r"[^\W_]+", text.lower()))


def read_documents(course: Course, lesson: str) -> tuple[list[Document], list[str]]:
    """Every readable submission of ``lesson`` as a :class:`Document`; also the unreadable ones' students."""
    docs, unreadable = [], []
    for folder in sorted(p for p in (course.folder("submitted")).glob(f"*/{lesson}") if p.is_dir()):
        path = folder / f"{lesson}.ipynb"
        try:
            nb = json.loads(path.read_text(encoding="utf-8"))
            code, written = split_notebook(nb)
        except (OSError, ValueError, AttributeError, TypeError):
            unreadable.append(folder.parent.name)
            continue
        docs.append(Document(folder.parent.name, lesson, code, written))
    return docs, unreadable


def starter(course: Course, lesson: str) -> tuple[str, str]:
    """The release's own (code, written) in the answer cells: what every student was handed."""
    path = course.folder("release") / lesson / f"{lesson}.ipynb"
    if not path.is_file():
        raise CourseError(f"{lesson} has not been released (no {path}): the similarity check discounts the starter "
                          f"code of the release. Run `kzcourse release {lesson}` first.")
    return split_notebook(json.loads(path.read_text(encoding="utf-8")))


def _copydetect():
    try:
        import copydetect
    except ImportError:
        raise CourseError("The similarity check needs the copydetect package, which is not installed: "
                          "pip install 'kzcourse[similarity]' (or pip install copydetect).") from None
    return copydetect


def _fingerprint(text: str, channel: str, boilerplate, window: int = WINDOW):
    cd = _copydetect()
    k = K_CODE if channel == "code" else K_TEXT
    if channel == "code":
        return cd.CodeFingerprint("answer.py", k, window, boilerplate=boilerplate, language="python",
                                  fp=io.StringIO(text))
    return cd.CodeFingerprint("answer.txt", k, window, boilerplate=boilerplate, filter=False,
                              fp=io.StringIO(normalise_text(text)))


def _all_kgrams(text: str, channel: str):
    import numpy as np

    fp = _fingerprint(text, channel, None, window=1)
    return np.array(sorted(fp.hashes), dtype=np.int64)


def _highlight(fp, slices) -> str:
    from copydetect.utils import highlight_overlap

    if len(slices) == 0 or slices.shape[-1] == 0:
        return html.escape(fp.raw_code)
    out, _ = highlight_overlap(fp.raw_code, slices, "<mark>", "</mark>", escape_html=True)
    return out


def compare_documents(docs: list[Document], starter_code: str = "", starter_written: str = "",
                      common_share: float = COMMON_SHARE) -> list[Pair]:
    """Every pair of ``docs`` with its code and written similarity, most similar first."""
    import numpy as np

    cd = _copydetect()
    fingerprints: dict[str, list] = {}
    for channel, start in (("code", starter_code), ("written", starter_written)):
        texts = [getattr(d, channel) if channel == "code" else normalise_text(d.written) for d in docs]
        df = Counter(h for t in texts for h in set(_all_kgrams(t, channel).tolist()))
        need = max(3, common_share * len(docs))
        common = [h for h, n in df.items() if n >= need]
        boiler = np.unique(np.concatenate([_all_kgrams(start, channel),
                                           np.array(common, dtype=np.int64)]))
        fingerprints[channel] = [_fingerprint(getattr(d, channel), channel, boiler) for d in docs]
    pairs = []
    for i in range(len(docs)):
        for j in range(i + 1, len(docs)):
            pair = Pair(docs[i].lesson, docs[i].student, docs[j].student, 0.0, 0.0)
            for channel in ("code", "written"):
                f1, f2 = fingerprints[channel][i], fingerprints[channel][j]
                if min(f1.token_coverage, f2.token_coverage) < MIN_TOKENS:
                    continue
                _, (s1, s2), (sl1, sl2) = cd.compare_files(f1, f2)
                value = float((s1 + s2) / 2)
                setattr(pair, channel, value)
                if value > 0:
                    pair.passages[channel] = (_highlight(f1, sl1), _highlight(f2, sl2))
            pairs.append(pair)
    pairs.sort(key=lambda p: (-p.score, p.a, p.b))
    return pairs


@dataclass
class LessonResult:
    lesson: str
    students: int
    pairs: list[Pair]
    unreadable: list[str]


def similarity(course: Course, lessons: list[str] | None = None) -> list[LessonResult]:
    """Compare the submissions of each lesson (see the module docstring); scores are not touched."""
    _copydetect()
    results = []
    for lesson in course.check_lessons(lessons):
        docs, unreadable = read_documents(course, lesson)
        if len(docs) < 2:
            continue
        code, written = starter(course, lesson)
        results.append(LessonResult(lesson, len(docs), compare_documents(docs, code, written), unreadable))
    return results


def build_page(results: list[LessonResult], top: int = 10) -> str:
    """``similarity.html``: per lesson the pairs at or above the threshold (else the top few), side by side."""
    parts = ["<h1>kzcourse similarity check</h1>",
             f"<p>Pairs of students whose answers share unusually much, after discounting the starter code and "
             f"passages found in at least {COMMON_SHARE:.0%} of a lesson's submissions. Code is compared with "
             f"names normalised (renaming does not hide a copy); written answers as words. Score = the larger of "
             f"the code and written similarity (0-1). Pairs at or above {THRESHOLD:.2f} are marked "
             f"<strong>read these</strong>. <strong>No score was changed</strong>: a similar pair is a reason to "
             f"read both notebooks, not proof of copying — shared sources, a worked example in class or a study "
             f"group also make answers alike.</p>"]
    for res in results:
        above = [p for p in res.pairs if p.score >= THRESHOLD]
        shown = above or res.pairs[:min(3, top)]
        parts.append(f"<h2 id='{html.escape(res.lesson)}'>{html.escape(res.lesson)}</h2>")
        parts.append(f"<p>{res.students} submissions, {len(res.pairs)} pairs; {len(above)} at or above "
                     f"{THRESHOLD:.2f}." + (f" Not readable as notebooks (not compared): "
                                            f"{html.escape(', '.join(res.unreadable))}." if res.unreadable else "")
                     + "</p>")
        rows = "".join(f"<tr><td>{i + 1}</td><td>{html.escape(p.a)}</td><td>{html.escape(p.b)}</td>"
                       f"<td>{p.score:.2f}</td><td>{p.code:.2f}</td><td>{p.written:.2f}</td>"
                       f"<td>{'read these' if p.score >= THRESHOLD else ''}</td></tr>"
                       for i, p in enumerate(res.pairs[:max(top, len(above))]))
        parts.append("<table><thead><tr><th>rank</th><th>student</th><th>student</th><th>score</th><th>code</th>"
                     f"<th>written</th><th></th></tr></thead><tbody>{rows}</tbody></table>")
        for p in shown:
            parts.append(f"<h3>{html.escape(p.a)} and {html.escape(p.b)}: score {p.score:.2f} "
                         f"(code {p.code:.2f}, written {p.written:.2f})</h3>")
            for channel, (left, right) in p.passages.items():
                parts.append(f"<p class='channel'>{channel}: shared passages highlighted</p><div class='side'>"
                             f"<div><h4>{html.escape(p.a)}</h4><pre>{left}</pre></div>"
                             f"<div><h4>{html.escape(p.b)}</h4><pre>{right}</pre></div></div>")
    style = ("body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em}"
             "table{border-collapse:collapse}td,th{border:1px solid #999;padding:.2em .6em}"
             ".side{display:grid;grid-template-columns:1fr 1fr;gap:1em}"
             "pre{white-space:pre-wrap;background:#f6f6f6;padding:.5em;font-size:.85em;max-height:30em;overflow:auto}"
             "mark{background:#E69F00;color:#000}")
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>kzcourse similarity</title>"
            f"<style>{style}</style></head><body>{''.join(parts)}</body></html>")


def write_similarity(course: Course, lessons: list[str] | None = None, path: str | Path | None = None,
                     top: int = 10) -> tuple[Path, list[LessonResult]]:
    """Run :func:`similarity` and write :func:`build_page` (default ``similarity.html`` in the course)."""
    results = similarity(course, lessons)
    out = Path(path) if path else course.root / "similarity.html"
    out.write_text(build_page(results, top), encoding="utf-8")
    return out, results
