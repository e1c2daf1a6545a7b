"""Edited notebooks are graded against the lesson's own cells, matched by ``grade_id``, and flagged.

A student can edit a notebook's nbgrader metadata (it is plain JSON): rename a test cell's
``grade_id``, give it more points, copy one ``grade_id`` onto another cell, turn a cell into a
test cell of their own, change a cell's type. nbgrader's autograde then stops on the notebook
(it is reported broken: no grade, and once no reason), which made tampering an escape from a zero.

:class:`RepairMetadata` runs first in ``Autograde.sanitize_preprocessors``
(:func:`kzcourse.grading.settings.apply` puts it there). It compares every cell that carries
nbgrader metadata with the lesson's cells in the gradebook:

* a ``grade_id`` the lesson does not have, a second cell with a ``grade_id`` already seen, or a
  cell whose type differs from the lesson's: its nbgrader metadata is removed (it becomes an
  ordinary student cell, run with the student's code and scored by nothing);
* a known cell whose grade, solution or task flags or points differ: they are set back to the
  lesson's, and its ``schema_version`` to nbgrader's;
* nbgrader metadata that is not a mapping, a ``grade_id`` that is not text, or metadata that
  nbgrader's own validator would reject: it is removed (student-controlled JSON never makes
  this step, or nbgrader after it, raise).

nbgrader's ``OverwriteCells`` then restores every test cell's code from the gradebook and adds
back the ones that are missing (``add_missing_cells``), so the answers the notebook does have
get their points. What was changed is flagged ``edited-metadata``: the list is kept in the
notebook's metadata (``kzcourse_repairs``, replaced by this step whatever the submission held)
until :class:`kzcourse.grading.phases.TwoPhaseExecute` moves it into the flags.
"""
from __future__ import annotations

from typing import Any

from nbgrader.preprocessors import NbGraderPreprocessor

#: The notebook metadata key that carries the repairs from the sanitize pass to the grading pass.
KEY = "kzcourse_repairs"
_FLAGS = ("grade", "solution", "locked", "task")
MARKERS = ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


def _lesson_cells(db_url: str, notebook: str, assignment: str) -> dict[str, dict]:
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gb:
        nb = gb.find_notebook(notebook, assignment)
        cells = {c.name: {"cell_type": c.cell_type, "locked": bool(c.locked), "grade": False, "solution": False,
                          "task": False} for c in nb.source_cells}
        for c in nb.grade_cells:
            cells.setdefault(c.name, {"cell_type": c.cell_type, "locked": False, "solution": False, "task": False})
            cells[c.name].update(grade=True, points=float(c.max_score))
        for c in nb.solution_cells:
            cells.setdefault(c.name, {"cell_type": "code", "locked": False, "grade": False, "task": False})
            cells[c.name]["solution"] = True
        for c in nb.task_cells:
            cells.setdefault(c.name, {"cell_type": "markdown", "locked": False, "grade": False, "solution": False})
            cells[c.name].update(task=True, points=float(c.max_score))
    return cells


def repair(nb: Any, lesson: dict[str, dict]) -> list[str]:
    """Put a notebook's nbgrader metadata back to the lesson's (see the module docstring); say what changed.

    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[
    ...     nbformat.v4.new_code_cell("x", metadata={"nbgrader": {"grade": True, "grade_id": "q1_test", "points": 9,
    ...                                                     "solution": False, "locked": True, "schema_version": 3}}),
    ...     nbformat.v4.new_code_cell("y", metadata={"nbgrader": {"grade": True, "grade_id": "mine", "points": 5}})])
    >>> lesson = {"q1_test": {"cell_type": "code", "grade": True, "solution": False, "locked": True,
    ...                       "task": False, "points": 1.0}}
    >>> repair(nb, lesson)
    ["cell q1_test: points 9 set back to the lesson's 1.0", "cell 2: grade_id 'mine' is not in the lesson; its nbgrader metadata was removed"]
    >>> "nbgrader" in nb.cells[1].metadata, nb.cells[0].metadata.nbgrader.points
    (False, 1.0)
    """
    changes: list[str] = []
    seen: set[str] = set()
    for index, cell in enumerate(nb.cells):
        where = f"cell {index + 1}"
        if not isinstance(cell.get("metadata"), dict):
            changes.append(f"{where}: cell metadata that is not a mapping was removed")
            cell["metadata"] = nbformat_node({})
            continue
        if "nbgrader" not in cell.metadata:
            continue
        try:
            _repair_cell(cell, where, lesson, seen, changes)
        except Exception as exc:  # student-controlled JSON: never let it stop grading
            changes.append(f"{where}: nbgrader metadata that could not be read ({type(exc).__name__}) was removed")
            cell.metadata.pop("nbgrader", None)
            continue
        if "nbgrader" in cell.metadata and not _valid(cell):
            changes.append(f"{where}: nbgrader metadata that nbgrader rejects was removed")
            del cell.metadata["nbgrader"]
    for index, cell in enumerate(nb.cells):  # nbgrader's markers outside a test cell stop its feedback
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution") or not isinstance(cell.get("source"), str):
            continue
        kept = cell.source
        for marker in MARKERS:  # nbgrader looks for them anywhere in a line
            kept = kept.replace(marker, marker.replace(" TESTS", "-TESTS"))
        if kept != cell.source:
            cell.source = kept
            changes.append(f"cell {index + 1}: hidden-test markers outside a test cell were changed (HIDDEN-TESTS)")
    return changes


def nbformat_node(d: dict) -> Any:
    from nbformat import NotebookNode

    return NotebookNode(d)


def _valid(cell: Any) -> bool:
    """Whether nbgrader's own validator accepts a cell's nbgrader metadata (checked on a copy)."""
    import copy

    from nbgrader.nbgraderformat import MetadataValidator

    try:
        validator = MetadataValidator()
        validator.validate_cell(validator.upgrade_cell_metadata(copy.deepcopy(cell)))
    except Exception:
        return False
    return True


def _repair_cell(cell: Any, where: str, lesson: dict[str, dict], seen: set[str], changes: list[str]) -> None:
    """Repair one cell's nbgrader metadata in place (see :func:`repair`); may remove it."""
    from nbgrader.nbgraderformat import SCHEMA_VERSION

    meta = cell.metadata["nbgrader"]
    if not isinstance(meta, dict):
        changes.append(f"{where}: nbgrader metadata that is not a mapping ({type(meta).__name__}) was removed")
        del cell.metadata["nbgrader"]
        return
    gid = meta.get("grade_id")
    if gid is not None and not isinstance(gid, str):
        changes.append(f"{where}: a grade_id that is not text ({type(gid).__name__}); its nbgrader metadata was "
                       "removed")
        del cell.metadata["nbgrader"]
        return
    cleared = gid in lesson and gid not in seen and any(lesson[gid].get(k) for k in ("grade", "solution", "task"))
    if not any(meta.get(k) for k in _FLAGS) and not cleared:
        return  # not an nbgrader cell (nbgrader's validator still checks it)
    if gid not in lesson:
        changes.append(f"{where}: grade_id {gid!r} is not in the lesson; its nbgrader metadata was removed")
        del cell.metadata["nbgrader"]
        return
    if gid in seen:
        changes.append(f"{where}: grade_id {gid!r} appears more than once; this copy's nbgrader metadata was "
                       "removed")
        del cell.metadata["nbgrader"]
        return
    seen.add(gid)
    want = lesson[gid]
    if cell.cell_type != want["cell_type"]:
        changes.append(f"{where} ({gid}): a {cell.cell_type} cell where the lesson has a {want['cell_type']} "
                       "cell; its nbgrader metadata was removed")
        del cell.metadata["nbgrader"]
        return
    for key in ("grade", "solution", "task"):  # locked cells are restored by OverwriteCells itself
        if bool(meta.get(key)) != bool(want.get(key)):
            changes.append(f"cell {gid}: {key} {bool(meta.get(key))} set back to the lesson's {want.get(key)}")
            meta[key] = bool(want.get(key))
    if "points" in want and meta.get("points") != want["points"]:
        try:
            same = float(meta.get("points")) == want["points"]
        except (TypeError, ValueError, OverflowError):
            same = False
        if not same:
            changes.append(f"cell {gid}: points {str(meta.get('points'))[:40]} set back to the lesson's "
                           f"{want['points']}")
        meta["points"] = want["points"]
    elif "points" not in want and "points" in meta and not (meta.get("grade") or meta.get("task")):
        meta.pop("points")
    if meta.get("schema_version") != SCHEMA_VERSION:
        changes.append(f"cell {gid}: schema_version {str(meta.get('schema_version'))[:40]} set back to "
                       f"nbgrader's {SCHEMA_VERSION}")
        meta["schema_version"] = SCHEMA_VERSION


class RepairMetadata(NbGraderPreprocessor):
    """Set a submission's nbgrader metadata back to the lesson's, and note what changed (see the module)."""

    def preprocess(self, nb: Any, resources: dict):
        info = resources["nbgrader"]
        nb.metadata.pop(KEY, None)
        changes = repair(nb, _lesson_cells(info["db_url"], info["notebook"], info["assignment"]))
        if changes:
            nb.metadata[KEY] = changes
            for change in changes:
                self.log.warning("Edited nbgrader metadata: %s", change)
        return nb, resources
