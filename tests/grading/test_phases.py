"""Which names does each test read, which lessons could not be graded in two phases, and the notebook time limit."""
from __future__ import annotations

from pathlib import Path

import nbformat

from kzcourse.grading.phases import plan


def _nb(*cells):
    out = []
    for kind, source in cells:
        meta = {}
        if kind == "test":
            meta = {"nbgrader": {"grade": True, "grade_id": f"t{len(out)}", "points": 1, "solution": False}}
        elif kind == "answer":
            meta = {"nbgrader": {"solution": True, "grade_id": f"a{len(out)}"}}
        out.append(nbformat.v4.new_code_cell(source, metadata=meta))
    return nbformat.v4.new_notebook(cells=out)


def test_answer_names_leave_out_builtins_imports_and_the_tests_own_names():
    p = plan(_nb(("lesson", "import pandas as pd\nfrom kzcourse.checks import check_equal, check_type\nimport os"),
                 ("answer", "x = 1\nrows = [1, 2]"),
                 ("test", "check_type(x, int)\n_n = len(rows)\nassert all(r > 0 for r in rows)\n"
                          "check_equal(x, pd.Series([1]).sum())\n%time y = 2")))
    assert p.tests["t2"].names == ["rows", "x"]
    assert p.preamble == "import pandas as pd\nfrom kzcourse.checks import check_equal, check_type"
    assert p.problems == []


def test_a_test_that_reads_what_an_earlier_test_defined_breaks_the_rule():
    p = plan(_nb(("answer", "x = 1"), ("test", "helper = 3\nassert x"), ("test", "assert helper == 3"),
                 ("lesson", "print(helper)")))
    assert any("reads 'helper'" in problem for problem in p.problems)
    assert any("cell 3 uses 'helper'" in problem for problem in p.problems)


def _lesson01_course(base: Path, config: str):
    """Lesson 01 in a course with kzcourse's configuration plus ``config`` (graded by real nbgrader
    in the sandbox; skipped where bubblewrap does not work); returns (course, source notebook)."""
    import pytest

    from kzcourse.grading import sandbox
    from tests.grading.sandbox_course import LESSON, new_course

    if not sandbox.available():
        pytest.skip("bubblewrap is not usable here")
    course, source, _ = new_course(base, LESSON, plain=False)
    with open(course / "nbgrader_config.py", "a", encoding="utf-8") as fh:
        fh.write("\n" + config + "\n")
    return course, source


def _flags(course: Path, student: str) -> list[dict]:
    """What grading flagged in a student's autograded lesson 01 (integrity.json; none when absent)."""
    import json

    from tests.grading.sandbox_course import LESSON

    path = course / "autograded" / student / LESSON / "integrity.json"
    return json.loads(path.read_text(encoding="utf-8"))["flags"] if path.exists() else []


def test_a_notebook_past_its_total_time_limit_keeps_the_answers_recorded_before(tmp_path):
    """Every cell stays under the per-cell limit, but together they pass ``notebook_timeout``:
    the kernel is stopped there, the questions answered before keep their points, the ones after
    score 0, and the flag names the total limit (real nbgrader, kzcourse's configuration)."""
    import json

    from tests.grading.sandbox_course import LESSON, autograde, scores, submit

    course, source = _lesson01_course(tmp_path / "course", "c.TwoPhaseExecute.notebook_timeout = 12\n"
                                                            "c.Execute.timeout = 60")
    nb = nbformat.from_dict(json.loads(json.dumps(source)))
    answers = [c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("solution")
               and c.cell_type == "code"]
    # After the first answer, each later answer cell first sleeps long enough that together they pass
    # the 12 s total (however many questions the lesson has), each well under the 60 s per-cell limit.
    later = answers[1:]
    assert later, "the test needs a lesson with at least two answer cells"
    pause = 12 // len(later) + 3
    for cell in later:
        cell.source = f"import time\ntime.sleep({pause})\n" + cell.source
    submit(course, LESSON, {"slow": nb, "right": source})
    autograde(course, LESSON)
    right, slow = scores(course, LESSON, "right"), scores(course, LESSON, "slow")
    first = min(right)
    assert all(v > 0 for v in right.values()), right
    assert slow[first] == right[first], (slow, right)
    assert 0 < sum(slow.values()) < sum(right.values()), (slow, right)
    assert slow[max(slow)] == 0, slow
    flags = _flags(course, "slow")
    assert any("total time limit of 12 s" in f["message"] for f in flags), flags


_DIE_ONCE = ('import os as _o, signal as _s\n'
             'if not _o.path.exists({marker!r}):  # the tests\' kernel dies the first time only\n'
             '    open({marker!r}, "w").close()\n'
             '    _o.kill(_o.getpid(), _s.SIGKILL)\n')
_DIE_ALWAYS = 'import os as _o, signal as _s\n_o.kill(_o.getpid(), _s.SIGKILL)\n'


def _course_whose_first_test_kills_its_kernel(base, code: str, config: str = ""):
    """Lesson 01 in a course whose first test cell (instructor code, run only in the tests' kernel)
    starts with ``code``; graded by real nbgrader with kzcourse's configuration (plus ``config``)."""
    from tests.grading.sandbox_course import LESSON, autograde, submit, wrong_answers

    course, source = _lesson01_course(base, config)
    path = course / "lessons" / LESSON / f"{LESSON}.ipynb"
    instructor = nbformat.read(path, as_version=4)
    first = next(c for c in instructor.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade")
                 and c.cell_type == "code" and not c.metadata["nbgrader"].get("solution"))
    first.source = code + first.source
    nbformat.write(instructor, path)
    submit(course, LESSON, {"right": source, "wrong": wrong_answers(source, LESSON)})
    autograde(course, LESSON)
    return course


def test_when_the_tests_kernel_dies_once_the_tests_run_again_in_a_fresh_kernel(tmp_path):
    """A death of the tests' kernel says nothing about the notebook (a kept kernel carries the CPU
    time of earlier notebooks): the tests run again in a fresh kernel and score as usual, unflagged."""
    from tests.grading.sandbox_course import LESSON, scores

    # The marker that makes the death happen once lies outside the kernel's folder, which a dead
    # kernel's retry does not reuse; so this tests' kernel runs unsandboxed (students' cells still
    # run in the sandbox), the one change to kzcourse's configuration.
    marker = str(tmp_path / "died-once")
    course = _course_whose_first_test_kills_its_kernel(
        tmp_path / "course", _DIE_ONCE.format(marker=marker),
        config='c.TwoPhaseExecute.test_kernel_manager_class = "jupyter_client.manager.AsyncKernelManager"')
    assert Path(marker).exists(), "the tests' kernel never reached the code that kills it"
    right, wrong = scores(course, LESSON, "right"), scores(course, LESSON, "wrong")
    assert all(v > 0 for v in right.values()) and not any(wrong.values()), (right, wrong)
    for student in ("right", "wrong"):
        codes = [f["code"] for f in _flags(course, student)]
        assert "tests-kernel-died" not in codes, (student, codes)


def test_when_the_tests_kernel_dies_twice_the_tests_score_0_and_the_notebook_is_flagged(tmp_path):
    from tests.grading.sandbox_course import LESSON, scores

    course = _course_whose_first_test_kills_its_kernel(tmp_path / "course", _DIE_ALWAYS)
    right = scores(course, LESSON, "right")
    assert not any(right.values()), right
    flags = _flags(course, "right")
    assert any(f["code"] == "tests-kernel-died" and "died twice" in f["message"] for f in flags), flags
