"""Similarity check on a synthetic class: do planted copies rank above every independent pair, and by how much?

Builds a course (``kzcourse init`` + release of 03-timeline), writes the synthetic class of
``tests/grading/similarity_class.py`` (30 honest students drawn from right / second-right / wrong / placeholder
answers and written answers from rubric phrasings, plus three planted copies: exact, renamed + reordered,
written answer only), runs ``kzcourse.grading.similarity`` and prints, per planted pair, its score and rank,
the highest independent pair, and the margin. Also the honest-only class with the solution written by most
students (class-common code). Usage: python benchmarks/bench_similarity.py [--seeds 2022 7 11]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def measure(seed: int, tmp: Path) -> None:
    from kzcourse.grading.course import init_course
    from kzcourse.grading.similarity import THRESHOLD, similarity
    from tests.grading.similarity_class import LESSON, PLANTED, build_class

    course = init_course(tmp / f"c{seed}")
    course.api().generate_assignment(LESSON, force=True, create=True)
    build_class(course, seed=seed)
    pairs = similarity(course, [LESSON])[0].pairs
    planted = [p for p in pairs if (p.a, p.b) in PLANTED or (p.b, p.a) in PLANTED]
    independent = [p for p in pairs if p not in planted]
    best = independent[0]
    print(f"seed {seed}: {len(pairs)} pairs of {len(pairs) and int((1 + (1 + 8 * len(pairs)) ** 0.5) / 2)} students")
    for p in planted:
        print(f"  planted {p.a}-{p.b}: score {p.score:.3f} (code {p.code:.3f}, written {p.written:.3f}), "
              f"rank {pairs.index(p) + 1}")
    print(f"  highest independent pair {best.a}-{best.b}: {best.score:.3f} (code {best.code:.3f}, "
          f"written {best.written:.3f}); threshold {THRESHOLD}")
    print(f"  margin (lowest planted - highest independent): {min(p.score for p in planted) - best.score:.3f}")
    honest = init_course(tmp / f"h{seed}")
    honest.api().generate_assignment(LESSON, force=True, create=True)
    build_class(honest, seed=seed, planted=False, weights=(0.7, 0.1, 0.1, 0.1))
    top = similarity(honest, [LESSON])[0].pairs[0]
    print(f"  honest-only class, solution written by ~70 %: highest pair {top.score:.3f} "
          f"({'below' if top.score < THRESHOLD else 'AT OR ABOVE'} the threshold)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="*", default=[2022, 7, 11])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            measure(seed, Path(tmp))


if __name__ == "__main__":
    main()
