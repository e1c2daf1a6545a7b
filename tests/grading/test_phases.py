"""Which names does each test read, which lessons could not be graded in two phases, and the notebook time limit."""
from __future__ import annotations

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


def test_a_notebook_past_its_total_time_limit_keeps_the_answers_recorded_before(tmp_path):
    """Every cell stays under the per-cell limit, but together they pass ``notebook_timeout``:
    the kernel is stopped there, the questions answered before keep their points, the ones after
    score 0, and the flag names the total limit (real nbgrader, kzcourse's configuration)."""
    import json

    import pytest

    from kzcourse.grading import sandbox
    from tests.grading.sandbox_course import LESSON, autograde, new_course, scores, submit

    if not sandbox.available():
        pytest.skip("bubblewrap is not usable here")
    course, source, _ = new_course(tmp_path / "course", LESSON, plain=False)
    with open(course / "nbgrader_config.py", "a", encoding="utf-8") as fh:
        fh.write("\nc.TwoPhaseExecute.notebook_timeout = 12\nc.Execute.timeout = 60\n")
    nb = nbformat.from_dict(json.loads(json.dumps(source)))
    answers = [c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("solution")
               and c.cell_type == "code"]
    # After the first answer, each later answer cell first sleeps 5 s: 3 of them pass 12 s in all.
    for cell in answers[1:]:
        cell.source = "import time\ntime.sleep(5)\n" + cell.source
    submit(course, LESSON, {"slow": nb, "right": source})
    autograde(course, LESSON)
    right, slow = scores(course, LESSON, "right"), scores(course, LESSON, "slow")
    first = min(right)
    assert all(v > 0 for v in right.values()), right
    assert slow[first] == right[first], (slow, right)
    assert 0 < sum(slow.values()) < sum(right.values()), (slow, right)
    assert slow[max(slow)] == 0, slow
    flags = json.loads((course / "autograded" / "slow" / LESSON / "integrity.json").read_text(encoding="utf-8"))
    assert any("total time limit of 12 s" in f["message"] for f in flags["flags"]), flags
