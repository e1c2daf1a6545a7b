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


def written_spec(lesson_id: str, lessons_root: Path) -> dict | None:
    """The demo's written answers of a lesson (``<lessons_root>/<id>/written.toml``): rubric points with
    phrasings that earn them, and vague sentences that earn nothing; ``None`` without the file."""
    path = lessons_root / lesson_id / "written.toml"
    return tomllib.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


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


def build_submission(kind: str, source, release, wrong: dict[str, str], *, right_share: float = 0.5):
    """A submitted notebook of ``kind`` (right, partly, wrong, blank) built from a lesson's notebooks.

    ``source`` and ``release`` are nbformat notebooks (the lesson's source and its release);
    ``wrong`` maps question ids to wrong code. A question without a wrong answer gets ``None``.
    """
    import nbformat

    nb = nbformat.from_dict(json.loads(json.dumps(release)))
    if kind == "blank":
        return nb
    solutions = {_meta(c)["grade_id"]: c for c in source.cells if _meta(c).get("solution")}
    qids = [gid for gid, c in solutions.items() if c.cell_type == "code"]
    n_right = {"right": len(qids), "wrong": 0, "partly": max(1, int(len(qids) * right_share))}[kind]
    right = set(qids[:n_right])
    for cell in nb.cells:
        gid = _meta(cell).get("grade_id")
        if gid not in solutions or not _meta(cell).get("solution"):
            continue
        if cell.cell_type == "markdown":
            cell.source = WRITTEN if kind != "wrong" else "I did not have time for this one."
        elif gid in right:
            cell.source = strip_solution_markers(solutions[gid].source)
        else:
            cell.source = wrong.get(gid) or "\n".join(
                f"{name} = None" for name in assigned_names(strip_solution_markers(solutions[gid].source)) or ["_unused"])
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


def write_submissions(course, lesson_id: str, plan: dict[str, str]) -> None:
    """Write ``submitted/<student>/<lesson>/<lesson>.ipynb`` for each ``student -> kind`` of ``plan``."""
    import nbformat

    source = nbformat.read(course.source_dir / lesson_id / f"{lesson_id}.ipynb", as_version=4)
    release = nbformat.read(course.folder("release") / lesson_id / f"{lesson_id}.ipynb", as_version=4)
    wrong = wrong_answers(lesson_id, _lessons_root())
    for student, kind in plan.items():
        folder = course.folder("submitted") / student / lesson_id
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{lesson_id}.ipynb"
        if kind == "broken":
            text = nbformat.writes(release)
            path.write_text(text[: len(text) // 2], encoding="utf-8")  # cut off mid-file: invalid JSON
        else:
            nbformat.write(build_submission(kind, source, release, wrong), path)


def _lessons_root() -> Path:
    from kzcourse.lessons import lessons_dir

    return lessons_dir()


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
            kind = ("right", "partly", "wrong", "blank", "right", "partly")[(i + n) % 6]
            plan[sid] = kind
        if n == 0:
            plan[ids[-1]] = "broken"  # one broken file in the whole term
        write_submissions(course, lesson, plan)
    run = grade(course, lessons, jobs=jobs, sandbox=sandbox, collect=False, progress=progress)
    for lesson in lessons:
        api.generate_feedback(lesson, force=True)
    report = write_report(course)
    summary = summarise(course, lessons, run)
    return (f"Demo term in {course.root}\n{summary.text()}\nreport: {report}\n"
            f"Open the Formgrader on it: cd {course.root} && jupyter lab  (Nbgrader -> Formgrader)")
