"""A synthetic class for the similarity check: honest students drawn from answer variants, plus planted copies.

Lesson 03-timeline. For each autograded question an honest student writes one of: the solution, a second
correct answer written differently (one of the ways in ``fixtures/similarity-03-timeline.toml``), the lesson's plausible wrong
answer (``lessons/03-timeline/wrong.toml``), or a placeholder; the written answer covers a random subset of
the rubric points, each in one of three phrasings (``lessons/03-timeline/written.toml``). Planted copies:

* ``copy_exact`` hands in ``h00``'s notebook unchanged;
* ``copy_renamed`` hands in ``h01``'s with every intermediate variable renamed, adjacent statements
  swapped and a comment added;
* ``copy_written`` writes honest code of its own but copies ``h02``'s written answer.
"""
from __future__ import annotations

import json
import random
import re
import tomllib
from pathlib import Path

import nbformat

from kzcourse.grading.demo import _meta, assigned_names, own_words, strip_solution_markers, with_check, \
    written_answer, written_spec, wrong_answers

LESSON = "03-timeline"
HERE = Path(__file__).resolve().parent
PLANTED = {("copy_exact", "h00"), ("copy_renamed", "h01"), ("copy_written", "h02")}
RENAMES = {"names": "day_names", "back": "days_back", "per_day": "daily_counts", "masimov": "masimov_rows",
           "detained": "arrest_date", "announced": "announce_date", "name": "label", "day": "the_day",
           "start": "begin", "end": "finish", "counts": "tally", "rows": "picked", "order": "weekdays"}


def _variants(source, lessons_root: Path) -> dict[str, dict[str, str]]:
    own = tomllib.loads((HERE / "fixtures" / f"similarity-{LESSON}.toml").read_text(encoding="utf-8"))["own"]
    wrong = wrong_answers(LESSON, lessons_root)
    out = {}
    for cell in source.cells:
        gid = _meta(cell).get("grade_id")
        if cell.cell_type != "code" or not _meta(cell).get("solution"):
            continue
        right = strip_solution_markers(cell.source)
        out[gid] = {"right": right, "own": [own[gid]["code"], *own[gid].get("more", [])], "wrong": wrong.get(gid, right),
                    "none": "\n".join(f"{n} = None" for n in assigned_names(right))}
    return out


def honest(rng: random.Random, variants, spec, weights=(0.35, 0.3, 0.2, 0.15)) -> dict[str, str]:
    """One honest student's answers: grade id -> source. Like real students, each may end an answer with a
    check of their own (``demo.CHECKS``) and words written answers their own way (``demo.own_words``)."""
    answers = {}
    for gid, v in variants.items():
        answer = v[rng.choices(["right", "own", "wrong", "none"], weights=weights)[0]]
        answers[gid] = with_check(rng.choice(answer) if isinstance(answer, list) else answer, rng)
    n_points = rng.choice([0, 1, 2, 2, 3, 3, 4, 4])
    points = rng.sample(range(len(spec["point"])), n_points)
    text = written_answer(spec, points, rng, vague=max(2 - n_points, rng.choice([0, 1, 1, 2])))
    answers[spec["question"]] = own_words(text, rng)
    return answers


def renamed_and_reordered(code: str) -> str:
    """A copier's disguise: rename intermediate variables, swap adjacent top-level statements, add a comment."""
    for old, new in RENAMES.items():
        code = re.sub(rf"\b{old}\b", new, code)
    lines = code.splitlines()
    simple = [i for i, l in enumerate(lines) if re.match(r"^[A-Za-z_]\w* = ", l)]
    for i in simple:
        if i + 1 in simple and i + 1 < len(lines) - 1:
            lines[i], lines[i + 1] = lines[i + 1], lines[i]
            break
    return "# my own working\n" + "\n".join(lines)


def notebook(release, answers: dict[str, str]):
    nb = nbformat.from_dict(json.loads(json.dumps(release)))
    for cell in nb.cells:
        gid = _meta(cell).get("grade_id")
        if gid in answers and _meta(cell).get("solution"):
            cell.source = answers[gid]
    return nb


def build_class(course, n_honest: int = 30, seed: int = 2022, planted: bool = True,
                weights=(0.35, 0.3, 0.2, 0.15)) -> list[str]:
    """Write the class into ``course``'s ``submitted/`` (the lesson must be released); return the students."""
    from kzcourse.lessons import lessons_dir

    rng = random.Random(seed)
    source = nbformat.read(course.source_dir / LESSON / f"{LESSON}.ipynb", as_version=4)
    release = nbformat.read(course.folder("release") / LESSON / f"{LESSON}.ipynb", as_version=4)
    variants = _variants(source, lessons_dir())
    (spec,) = written_spec(LESSON, lessons_dir()).values()
    work = {f"h{i:02d}": honest(rng, variants, spec, weights) for i in range(n_honest)}
    if planted:
        work["copy_exact"] = dict(work["h00"])
        work["copy_renamed"] = {g: (renamed_and_reordered(a) if g in variants else a) for g, a in work["h01"].items()}
        own = honest(rng, variants, spec, weights)
        own[spec["question"]] = work["h02"][spec["question"]]
        work["copy_written"] = own
    for student, answers in work.items():
        folder = course.folder("submitted") / student / LESSON
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook(release, answers), folder / f"{LESSON}.ipynb")
    return list(work)
