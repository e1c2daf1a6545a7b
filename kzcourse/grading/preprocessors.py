"""nbgrader preprocessors that kzcourse adds to nbgrader's own pipeline.

:class:`HideHiddenTestTracebacks` runs in ``generate_feedback`` *before*
nbgrader's ``ClearHiddenTests``. nbgrader removes the hidden tests from a test
cell's source, but a failing hidden test leaves an IPython traceback in the
cell's output, and that traceback prints the failing lines — the hidden test
itself. This preprocessor rewrites the error outputs of every cell that holds
hidden tests, so feedback keeps the student-facing message and loses the code.
"""
from __future__ import annotations

from typing import Any

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool, Unicode

BEGIN = "### BEGIN HIDDEN TESTS"
END = "### END HIDDEN TESTS"


def hidden_lines(source: str) -> list[str]:
    """Return the non-blank lines between the hidden-test markers of a cell.

    >>> hidden_lines("x = 1\\n### BEGIN HIDDEN TESTS\\nassert x == 1\\n### END HIDDEN TESTS\\n")
    ['assert x == 1']
    """
    out, inside = [], False
    for line in source.splitlines():
        if line.strip() == BEGIN:
            inside = True
        elif line.strip() == END:
            inside = False
        elif inside and line.strip():
            out.append(line.strip())
    return out


class HideHiddenTestTracebacks(Preprocessor):
    """Replace tracebacks of cells with hidden tests by a one-line summary without test code."""

    enabled = Bool(True, help="nbconvert runs a preprocessor only when it is enabled.").tag(config=True)
    redacted = Unicode(
        "A hidden test failed; its code is not shown. Check your answer against the question again.",
        help="What feedback shows instead of a message that would quote a hidden test.",
    ).tag(config=True)

    def preprocess_cell(self, cell: Any, resources: dict, index: int):
        if cell.cell_type != "code" or BEGIN not in cell.source:
            return cell, resources
        secret = hidden_lines(cell.source)
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                summary = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}".rstrip(": ")
                if any(line in summary for line in secret) or not output.get("evalue"):
                    summary = f"{output.get('ename', 'Error')}: {self.redacted}"
                output["traceback"] = [summary]
                output["evalue"] = summary.split(": ", 1)[-1]
            elif output.get("output_type") == "stream":
                output["text"] = "\n".join(
                    l for l in output.get("text", "").splitlines() if not any(s in l for s in secret)
                )
        return cell, resources
