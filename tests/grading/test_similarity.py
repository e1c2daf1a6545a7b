"""kzcourse.grading.similarity on the synthetic class of tests/grading/similarity_class.py (lesson 03-timeline).

benchmarks/bench_similarity.py prints the same figures for more seeds.
"""
from __future__ import annotations

import pytest

pytest.importorskip("copydetect")

from tests.grading.similarity_class import LESSON, build_class  # noqa: E402


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    from kzcourse.grading.course import init_course

    course = init_course(tmp_path_factory.mktemp("sim") / "course")
    assert course.api().generate_assignment(LESSON, force=True, create=True)["success"]
    build_class(course, seed=2022)
    return course


@pytest.fixture(scope="module")
def pairs(course):
    from kzcourse.grading.similarity import similarity

    return {(p.a, p.b): p for p in similarity(course, [LESSON])[0].pairs}


def test_starter_code_alone_scores_zero(course):
    from kzcourse.grading.similarity import Document, compare_documents, starter

    code, written = starter(course, LESSON)
    twins = [Document("a", LESSON, code, written), Document("b", LESSON, code, written)]
    assert compare_documents(twins, code, written)[0].score == 0
    undiscounted = compare_documents(twins)[0]
    assert undiscounted.code > 0.9, "the same pair without the starter discount is identical (the test can fail)"


PLANTED = {frozenset(p) for p in (("copy_exact", "h00"), ("copy_renamed", "h01"), ("copy_written", "h02"))}


def test_every_planted_pair_ranks_above_every_independent_pair_and_the_threshold(pairs):
    from kzcourse.grading.similarity import THRESHOLD

    planted = [p for k, p in pairs.items() if frozenset(k) in PLANTED]
    independent = [p for k, p in pairs.items() if frozenset(k) not in PLANTED]
    assert len(planted) == 3 and len(independent) == 33 * 32 // 2 - 3
    assert min(p.score for p in planted) > max(p.score for p in independent)
    assert min(p.score for p in planted) >= THRESHOLD > max(p.score for p in independent)


def test_an_honest_class_where_most_write_the_solution_has_no_pair_above_the_threshold(tmp_path):
    from kzcourse.grading.course import init_course
    from kzcourse.grading.similarity import THRESHOLD, similarity

    course = init_course(tmp_path / "course")
    assert course.api().generate_assignment(LESSON, force=True, create=True)["success"]
    build_class(course, seed=2022, planted=False, weights=(0.7, 0.1, 0.1, 0.1))
    pairs = similarity(course, [LESSON])[0].pairs
    assert pairs[0].score < THRESHOLD, (pairs[0].a, pairs[0].b, pairs[0].code, pairs[0].written)


def test_an_exact_copy_ranks_first(pairs):
    ranked = list(pairs.values())
    assert (ranked[0].a, ranked[0].b) in {("copy_exact", "h00"), ("h00", "copy_exact")}
    assert ranked[0].code == pytest.approx(1.0)


def test_renaming_and_reordering_do_not_hide_a_copy(pairs):
    p = pairs.get(("copy_renamed", "h01")) or pairs[("h01", "copy_renamed")]
    honest = sorted((q.code for (a, b), q in pairs.items() if not {a, b} & {"copy_exact", "copy_renamed",
                                                                            "copy_written"}), reverse=True)
    assert p.code > honest[len(honest) // 100], "above the top 1 % of independent pairs' code similarity"


def test_a_copied_written_answer_alone_is_found(pairs):
    p = pairs.get(("copy_written", "h02")) or pairs[("h02", "copy_written")]
    assert p.written == pytest.approx(1.0) and p.score == pytest.approx(1.0)


def test_page_shows_pairs_side_by_side_and_says_no_score_changed(course):
    from kzcourse.grading.similarity import write_similarity

    out, _ = write_similarity(course, [LESSON])
    page = out.read_text(encoding="utf-8")
    assert "No score was changed" in page and "<mark>" in page and "class='side'" in page
    assert "copy_exact" in page
