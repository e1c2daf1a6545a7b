"""A complete sample term in one command: ``kzcourse demo DIR``.

Creates a course with a synthetic roster, releases the lessons, writes submissions of
varied quality built from the lessons themselves — right (the source's solutions), partly
right, wrong (the plausible wrong answers of ``lessons/<id>/wrong.toml``), blank (the
release as handed out) and one broken file (invalid JSON) — grades them, writes feedback,
and the report. The submission builders are also used by the tests and the benchmark.
"""
from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

KINDS = ("right", "partly", "wrong", "blank", "broken")
FIRST = ["Aigerim", "Nurlan", "Dana", "Yerlan", "Madina", "Timur", "Saule", "Arman", "Aliya", "Daniyar",
         "Zarina", "Askar"]
LAST = ["Akhmetova", "Bekov", "Sadykova", "Omarov", "Nurpeisova", "Kassymov", "Zhunusova", "Tulegenov",
        "Ismailova", "Abenov", "Seitkali", "Mukanov"]
WRITTEN = ("Demo answer: the article's figure and the measured one differ, and the paragraph cited "
           "(P2) says why; a source's claim is evidence of what was said, not of what happened.")


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def strip_solution_markers(source: str) -> str:
    """Drop nbgrader's solution and mark-scheme marker lines, keeping the solution itself.

    >>> strip_solution_markers("x = 1\\n### BEGIN SOLUTION\\ny = 2\\n### END SOLUTION")
    'x = 1\\ny = 2'
    """
    return "\n".join(l for l in source.splitlines()
                     if not re.search(r"(BEGIN|END) (SOLUTION|MARK SCHEME)", l))


def wrong_answers(lesson_id: str, lessons_root: Path) -> dict[str, str]:
    """The plausible wrong answer per question id, from ``<lessons_root>/<id>/wrong.toml`` (none: ``{}``)."""
    path = lessons_root / lesson_id / "wrong.toml"
    if path.is_file():
        return {q: w["code"] for q, w in tomllib.loads(path.read_text(encoding="utf-8"))["wrong"].items()}
    return {}


def written_spec(lesson_id: str, lessons_root: Path) -> dict[str, dict]:
    """The demo's written answers of a lesson (``<lessons_root>/<id>/written.toml``) per written question's
    grade id: rubric points with phrasings that earn them, and vague sentences that earn nothing.

    The file holds one question (``question = "w1"``, ``vague``, ``[[point]]``) or a table per grade id
    (``[w2]``, ``[[w2.point]]``). ``{}`` without the file.
    """
    path = lessons_root / lesson_id / "written.toml"
    if not path.is_file():
        return {}
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    if "question" in raw:
        return {raw["question"]: raw}
    return {gid: spec for gid, spec in raw.items() if isinstance(spec, dict) and "point" in spec}


def written_answer(spec: dict, points: list[int], rng, vague: int = 0) -> str:
    """A written answer that earns the rubric ``points`` (indexes of ``spec["point"]``), each in a phrasing
    drawn with ``rng`` (a ``random.Random``), plus ``vague`` sentences that earn nothing.

    >>> import random
    >>> spec = {"vague": ["It depends."], "point": [{"phrasings": ["A (P1)."]}, {"phrasings": ["B (P2)."]}]}
    >>> written_answer(spec, [1], random.Random(0), vague=1)
    'It depends. B (P2).'
    """
    sentences = [rng.choice(spec["vague"]) for _ in range(vague)]
    sentences += [rng.choice(spec["point"][i]["phrasings"]) for i in sorted(points)]
    return " ".join(sentences)


#: Words students put in their own way (:func:`own_words`); only swaps that keep the facts and the grammar.
OWN_WORDS = {
    "detained": ["arrested", "held", "taken into custody"], "announced": ["made public", "published", "reported"],
    "announcement": ["public statement", "news", "report"], "January": ["Jan.", "January 2022"],
    "would": ["could", "might"], "events table": ["table of events", "events data", "dataset's event rows"],
    "shows": ["tells us", "records", "makes clear"], "the article": ["the report", "the news story", "the piece"],
    "timeline": ["chronology", "time line", "sequence of events"], "careless": ["sloppy", "hasty", "naive"],
    "dismissal": ["sacking", "removal", "firing"], "reader": ["student", "person reading it", "reader of the news"],
    "riots": ["violence", "rioting", "clashes"], "case": ["example", "instance"], "but": ["yet", "however"],
    "later": ["afterwards", "after that"], "wrong": ["misleading", "inaccurate"],
    "careful": ["cautious", "wary", "critical"], "dates": ["days", "calendar dates"], "news": ["press", "media"],
    "better": ["more reliable", "safer"], "making": ["building", "writing", "drawing up"],
    "important": ["essential", "key", "vital"], "happened": ["took place", "occurred"],
    "crisis": ["unrest", "turmoil"], "arrest": ["detention", "capture"], "recorded": ["listed", "logged", "noted"],
    "links": ["connects", "ties", "attributes"], "Keeping": ["Having", "Using"], "row": ["line", "entry"],
    "rows": ["lines", "entries"], "avoids": ["prevents", "guards against"], "troops": ["soldiers", "forces"],
    "dismissals": ["sackings", "removals"], "because": ["since", "as"], "should": ["ought to", "must"],
    "always": ["usually", "generally"], "about": ["around", "roughly"], "shown": ["displayed", "drawn"],
    "explains": ["accounts for", "makes clear"], "weak": ["poor", "thin"], "strong": ["solid", "good"],
}
#: Checks students add at the end of an answer cell (none raises while the name is defined).
CHECKS = ["", "print({n})", "{n}", "print(type({n}), {n})", "print('{n} =', {n})", "print(repr({n})[:200])"]


def own_words(text: str, rng, keep: float = 0.3) -> str:
    """``text`` in a student's own words: each word of :data:`OWN_WORDS` kept with probability ``keep``,
    else replaced by one of its alternatives (drawn with ``rng``).

    >>> import random
    >>> own_words("Riots began because of prices.", random.Random(1), keep=0) in (
    ...     "Riots began since of prices.", "Riots began as of prices.")
    True
    >>> own_words("Riots began because of prices.", random.Random(1), keep=1)
    'Riots began because of prices.'
    """
    for word, others in OWN_WORDS.items():
        if rng.random() >= keep:
            text = re.sub(rf"\b{re.escape(word)}\b", rng.choice(others), text)
    return text


def with_check(code: str, rng) -> str:
    """``code`` with one of :data:`CHECKS` on a name it assigns appended (or none), as students do."""
    names = assigned_names(code)
    check = rng.choice(CHECKS).format(n=rng.choice(names)) if names else ""
    return code + ("\n" + check if check else "")


def build_submission(kind: str, source, release, wrong: dict[str, str], *, right_share: float = 0.5,
                     written: dict | None = None, rng=None, checks: bool = False):
    """A submitted notebook of ``kind`` (right, partly, varied, wrong, blank) built from a lesson's notebooks.

    ``source`` and ``release`` are nbformat notebooks (the lesson's source and its release);
    ``wrong`` maps question ids to wrong code. A question without a wrong answer gets ``None``.
    ``partly`` answers the first ``right_share`` of the questions right; ``varied`` a random subset
    drawn with ``rng`` (each question right with a probability drawn for the student).
    With ``written`` (:func:`written_spec`), written answers answer their question at a rubric level
    that follows ``kind`` (every point, some points, or vague sentences only). With ``checks``, every code
    answer may end with a check of the student's own (:func:`with_check`); ``varied`` answers always may.
    """
    import random

    import nbformat

    rng = rng or random.Random(0)
    nb = nbformat.from_dict(json.loads(json.dumps(release)))
    if kind == "blank":
        return nb
    solutions = {_meta(c)["grade_id"]: c for c in source.cells if _meta(c).get("solution")}
    qids = [gid for gid, c in solutions.items() if c.cell_type == "code"]
    if kind == "varied":  # a student's ability, shifted by each question's own difficulty
        import random as _random

        ability = rng.uniform(0.2, 0.95)
        right = {q for q in qids if rng.random() < ability + _random.Random(solutions[q].source).uniform(-0.3, 0.3)}
    else:
        n_right = {"right": len(qids), "wrong": 0, "partly": max(1, int(len(qids) * right_share))}[kind]
        right = set(qids[:n_right])
    share = len(right) / len(qids) if qids else 0.5
    for cell in nb.cells:
        gid = _meta(cell).get("grade_id")
        if gid not in solutions or not _meta(cell).get("solution"):
            continue
        if cell.cell_type == "markdown" and gid in (written or {}):
            spec = written[gid]
            n = len(spec["point"])
            k = {"right": n, "wrong": 0}.get(kind, min(n, max(1, round(n * share * rng.uniform(0.6, 1.2)))))
            cell.source = own_words(written_answer(spec, rng.sample(range(n), k), rng,
                                                   vague=0 if k == n else rng.choice([1, 2])), rng)
        elif cell.cell_type == "markdown":
            cell.source = WRITTEN if kind != "wrong" else "I did not have time for this one."
        elif gid in right:
            cell.source = strip_solution_markers(solutions[gid].source)
        else:
            cell.source = wrong.get(gid) or "\n".join(
                f"{name} = None" for name in assigned_names(strip_solution_markers(solutions[gid].source)) or ["_unused"])
        if cell.cell_type == "code" and (checks or kind == "varied"):
            cell.source = with_check(cell.source, rng)
    return nb


def assigned_names(source: str) -> list[str]:
    """The names a solution assigns at the start of a line, in order (the answers a question asks for).

    >>> assigned_names("x = 1\\nif x == 1:\\n    y = 2\\nz = x")
    ['x', 'z']
    """
    names = []
    for line in source.splitlines():
        m = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)\s*=[^=]", line)
        if m and m.group(1) not in names:
            names.append(m.group(1))
    return names


def write_submissions(course, lesson_id: str, plan: dict[str, str], checks: bool = False) -> None:
    """Write ``submitted/<student>/<lesson>/<lesson>.ipynb`` for each ``student -> kind`` of ``plan``
    (``checks``: see :func:`build_submission`)."""
    import nbformat

    source = nbformat.read(course.source_dir / lesson_id / f"{lesson_id}.ipynb", as_version=4)
    release = nbformat.read(course.folder("release") / lesson_id / f"{lesson_id}.ipynb", as_version=4)
    import random

    wrong = wrong_answers(lesson_id, _lessons_root())
    written = written_spec(lesson_id, _lessons_root())
    for student, kind in plan.items():
        folder = course.folder("submitted") / student / lesson_id
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{lesson_id}.ipynb"
        if kind == "broken":
            text = nbformat.writes(release)
            path.write_text(text[: len(text) // 2], encoding="utf-8")  # cut off mid-file: invalid JSON
        else:
            rng = random.Random(f"{lesson_id}/{student}")
            nbformat.write(build_submission(kind, source, release, wrong, written=written, rng=rng, checks=checks),
                           path)


def _lessons_root() -> Path:
    from kzcourse.lessons import lessons_dir

    return lessons_dir()


def _plant_late_and_copy(course, lesson: str, ids: list[str]) -> str:
    """One late submission, one extension, one copied notebook in ``lesson``; return what was planted."""
    import shutil

    from kzcourse.grading import deadlines

    due = "2026-02-02T23:59:00+05:00"  # 18:59 UTC
    deadlines.set_due(course, lesson, due)
    late, extended, copier = ids[1], ids[2], ids[-2]
    sub = course.folder("submitted")
    for sid in ids:
        stamp = {late: "2026-02-02 20:59:00 UTC", extended: "2026-02-03 15:00:00 UTC"}.get(sid, "2026-02-02 12:00:00 UTC")
        if (sub / sid / lesson).is_dir():
            (sub / sid / lesson / "timestamp.txt").write_text(stamp, encoding="utf-8")
    deadlines.extend(course, lesson, extended, hours=24)
    src = sub / ids[0] / lesson / f"{lesson}.ipynb"
    if copier not in (late, extended, ids[0]) and src.is_file():
        shutil.copy(src, sub / copier / lesson / f"{lesson}.ipynb")
    return (f"planted in {lesson}: due {due}; {late} 2 h late; {extended} 20 h late with a 24 h extension; "
            f"{copier} handed in a copy of {ids[0]}'s notebook (try `kzcourse similarity {lesson}`)")


def demo(path: str | Path, *, students: int = 6, lessons: list[str] | None = None, jobs: int | None = None,
         sandbox: bool = True, progress: bool = True) -> str:
    """Create, fill, grade and report a sample term in ``path``; return a summary for the terminal."""
    import csv
    import io

    from kzcourse.grading.course import CourseError, init_course
    from kzcourse.grading.grade import grade, summarise
    from kzcourse.grading.report import write_report

    if students < len(KINDS):
        raise CourseError(f"--students {students} is too few: expected at least {len(KINDS)} so that every kind of "
                          f"submission ({', '.join(KINDS)}) appears. Pass --students {len(KINDS)} or more.")
    root = Path(path).absolute()
    root.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["id", "first_name", "last_name", "email"])
    ids = []
    for i in range(students):
        first, last = FIRST[i % len(FIRST)], LAST[(i * 5) % len(LAST)]
        sid = f"{first.lower()}{i + 1:02d}"
        ids.append(sid)
        writer.writerow([sid, first, last, f"{sid}@example.edu"])
    (root / "roster.csv").write_text(buf.getvalue(), encoding="utf-8")
    course = init_course(root / "course", roster=root / "roster.csv")
    lessons = course.check_lessons(lessons)
    api = course.api()
    for lesson in lessons:
        result = api.generate_assignment(lesson, force=True, create=True)
        if not result.get("success"):
            raise CourseError(f"nbgrader could not generate {lesson}: {result.get('error', '')[-300:]}")
    for n, lesson in enumerate(lessons):
        plan = {}
        for i, sid in enumerate(ids):
            kind = ("right", "varied", "varied", "wrong", "varied", "blank", "varied", "varied")[(i + n) % 8]
            plan[sid] = kind
        if n == 0:
            plan[ids[-1]] = "broken"  # one broken file in the whole term
        write_submissions(course, lesson, plan, checks=True)
    planted = next((l for l in lessons if written_spec(l, _lessons_root())), lessons[0])
    late_note = _plant_late_and_copy(course, planted, ids)
    if api.exchange_is_functional:  # released lessons are not "draft" in the Formgrader
        for lesson in lessons:
            api.release_assignment(lesson)
    run = grade(course, lessons, jobs=jobs, sandbox=sandbox, collect=False, progress=progress)
    from kzcourse.grading.deadlines import recompute
    from kzcourse.grading.feedback import feedback

    recompute(course, lessons)
    feedback(course, lessons, release_ungraded=True)
    report = write_report(course)
    summary = summarise(course, lessons, run)
    return (f"Demo term in {course.root}\n{summary.text()}\n{late_note}\nreport: {report}\n"
            f"Open the Formgrader on it: cd {course.root} && jupyter lab  (Nbgrader -> Formgrader)")
