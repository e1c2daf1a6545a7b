"""The nbgrader settings every kzcourse course shares, in one place.

Both the repository's own ``nbgrader_config.py`` and the one ``kzcourse init`` writes for a
term call :func:`apply`, then set what differs between courses (course id, root, gradebook
URL, exchange root). So the two cannot drift apart: a new course policy is added here once.
Every setting is an nbgrader traitlet; a course's ``nbgrader_config.py`` may override any of
them after the call.

What :func:`apply` sets
-----------------------
* ``CourseDirectory.source_directory = "lessons"``: lessons are the source assignments,
  ``lessons/<lesson>/<lesson>.ipynb``.
* ``CourseDirectory.ignore``: only notebooks are released; lesson metadata (``*.toml``),
  ``instructor.md`` and kzcourse's integrity report ``integrity.json`` stay with the instructor
  and are never copied into releases or feedback.
* ``OverwriteCells.add_missing_cells = True``: a deleted test cell comes back at autograde.
* ``Execute.timeout = 60`` with ``interrupt_on_timeout``: an infinite loop cannot hold up a batch.
* ``GenerateFeedback.preprocessors``: feedback never reveals hidden tests, neither in the test
  cells' source (nbgrader's ``ClearHiddenTests``) nor in the tracebacks of failing hidden tests
  (:class:`kzcourse.grading.preprocessors.HideHiddenTestTracebacks`).
* ``Autograde.sanitize_preprocessors``: nbgrader's, after :class:`kzcourse.grading.repair.RepairMetadata`
  (an edited notebook is graded against the lesson's cells by ``grade_id``, and flagged).
* ``Autograde.autograde_preprocessors``: nbgrader's default list with two-phase grading
  (:class:`kzcourse.grading.phases.TwoPhaseExecute`: the tests run in a kernel that never ran
  student code) in place of nbgrader's ``Execute``, its kernels started in the sandbox
  (:mod:`kzcourse.grading.sandbox`) when bubblewrap works here. This is the one place where
  nbgrader's preprocessor list is rewritten; ``kzcourse grade`` calls
  :func:`autograde_preprocessors` too. Last comes :class:`kzcourse.grading.safe_outputs.SafeOutputs`:
  the autograded notebook, and so the Formgrader and feedback, run no student script (HTML outputs
  in sandboxed frames).

>>> from traitlets.config import Config
>>> c = Config()
>>> apply(c, sandbox=False)
>>> "integrity.json" in c.CourseDirectory.ignore
True
>>> [(p.__module__, p.__name__) for p in c.Autograde.autograde_preprocessors][:1]
[('kzcourse.grading.phases', 'TwoPhaseExecute')]
"""
from __future__ import annotations

import logging
from typing import Any

#: Files never released nor copied into feedback.
IGNORE = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*.toml", "instructor.md", "integrity.json"]
#: Per-cell time limit in seconds (``kzcourse grade --timeout S`` overrides it for one run).
TIMEOUT = 60


def autograde_preprocessors(sandbox: bool | None = None, pps: list | None = None) -> list[type]:
    """nbgrader's ``Autograde.autograde_preprocessors`` with two-phase grading in place of ``Execute``.

    Parameters
    ----------
    sandbox : bool or None
        Start the kernels inside bubblewrap (:class:`kzcourse.grading.sandbox.Execute`).
        ``None``: when bubblewrap is usable here, else with a warning that student code runs
        unsandboxed.
    pps : list or None
        The list to rewrite (a course's own); default: nbgrader's. Any ``Execute`` in it
        (nbgrader's, or either of kzcourse's) is replaced. :class:`~kzcourse.grading.safe_outputs.SafeOutputs`
        comes last (after the grades are saved from the test outputs).

    Examples
    --------
    >>> [p.__name__ for p in autograde_preprocessors(sandbox=False)]  # doctest: +NORMALIZE_WHITESPACE
    ['TwoPhaseExecute', 'IgnorePattern', 'ClearMetadataPreprocessor', 'LimitOutput', 'SaveAutoGrades',
     'AssignLatePenalties', 'CheckCellMetadata', 'SafeOutputs']
    """
    from nbgrader.converters.autograde import Autograde
    from nbgrader.preprocessors import Execute as NbgraderExecute
    from traitlets.utils.importstring import import_item

    from kzcourse.grading import phases, sandbox as sandbox_module
    from kzcourse.grading.safe_outputs import SafeOutputs

    if sandbox is None:
        sandbox = sandbox_module.available()
        if not sandbox:
            logging.getLogger("kzcourse").warning(
                "bubblewrap is not usable here: student code is autograded WITHOUT the sandbox "
                "(apt-get install bubblewrap).")
    execute = sandbox_module.Execute if sandbox else phases.TwoPhaseExecute
    out: list[type] = []
    for p in (Autograde.class_traits()["autograde_preprocessors"].default() if pps is None else pps):
        if isinstance(p, str):
            try:
                p = import_item(p)
            except ImportError:  # a preprocessor that is no longer there (e.g. the old canaries)
                continue
        if isinstance(p, type) and issubclass(p, NbgraderExecute):
            if execute not in out:
                out.append(execute)
        elif p not in out:
            out.append(p)
    if execute not in out:
        out.insert(0, execute)
    return [p for p in out if p is not SafeOutputs] + [SafeOutputs]


def sanitize_preprocessors(pps: list | None = None) -> list[type]:
    """nbgrader's ``Autograde.sanitize_preprocessors`` (or ``pps``) with :class:`~kzcourse.grading.repair.RepairMetadata` first.

    >>> [p.__name__ for p in sanitize_preprocessors()][:2]
    ['RepairMetadata', 'ClearOutput']
    """
    from nbgrader.converters.autograde import Autograde

    from kzcourse.grading.repair import RepairMetadata

    pps = list(Autograde.class_traits()["sanitize_preprocessors"].default() if pps is None else pps)
    return [RepairMetadata] + [p for p in pps if p is not RepairMetadata
                               and p != "kzcourse.grading.repair.RepairMetadata"]


def apply(c: Any, *, sandbox: bool | None = None) -> None:
    """Set kzcourse's shared course settings (see the module docstring) on the config ``c``.

    Parameters
    ----------
    c : traitlets.config.Config
        The config an ``nbgrader_config.py`` gets from ``get_config()``; changed in place.
    sandbox : bool or None
        See :func:`autograde_preprocessors`.
    """
    from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
    from nbgrader.preprocessors import ClearHiddenTests, GetGrades

    from kzcourse.grading.preprocessors import HideHiddenTestTracebacks

    c.CourseDirectory.source_directory = "lessons"
    c.CourseDirectory.ignore = list(IGNORE)
    c.OverwriteCells.add_missing_cells = True
    c.Execute.timeout = TIMEOUT
    c.Execute.interrupt_on_timeout = True
    c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTestTracebacks, ClearHiddenTests,
                                        CSSHTMLHeaderPreprocessor]
    c.Autograde.autograde_preprocessors = autograde_preprocessors(sandbox)
    c.Autograde.sanitize_preprocessors = sanitize_preprocessors()
