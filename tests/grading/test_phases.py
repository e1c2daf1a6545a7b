"""Which names does each test read, and which lessons could not be graded in two phases?"""
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
