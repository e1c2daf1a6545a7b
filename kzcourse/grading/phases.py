"""Two-phase grading: the tests never run in a process that ran student code.

nbgrader's ``Execute`` runs a submission top to bottom in one kernel, test cells included,
so the student's code shares a Python process with the tests and can reach them (patch
the checks, read the hidden tests, rewrite the tests' locals). :class:`TwoPhaseExecute`
takes ``Execute``'s place in ``Autograde.autograde_preprocessors``
(:func:`kzcourse.grading.settings.apply` puts it there) and runs the notebook in two kernels:

Phase 1, the student's kernel (inside the sandbox when bubblewrap works here)
    runs every cell that is not a test cell, in order, in an empty scratch folder of its own
    (nothing of the submission's folder, not even the notebook, is in it). No test cell,
    visible or hidden, is ever sent to it. At each test cell's place it records the values
    of the names that test reads (its *answer names*, found by :func:`plan`) as plain data
    (:mod:`kzcourse.grading.values`: JSON, never a pickle).

Phase 2, the tests' kernel
    never runs a line of student code. It runs the lesson's own imports (taken from the
    *source* notebook, never from the submission), then every test cell, in order, with the
    values recorded at its place bound to their names (a name that was not set there is
    unbound, as it was in the student's kernel). A forged recording is only an answer: the
    real tests judge it.

The autograded notebook holds the student cells' outputs from phase 1 and the test cells'
outputs from phase 2, so nbgrader's ``SaveAutoGrades`` scores it, and the Formgrader and
feedback show it, as before.

What the student's kernel cannot do to grading, and what it can do to itself
    A cell over the time limit fails that cell and the rest still run (as with nbgrader).
    A kernel that dies (``os._exit``, a limit of the sandbox) ends phase 1 there: the
    answers recorded before are graded, the tests after it find no answer and score 0, and
    the notebook is flagged with where and why. Output above
    :attr:`TwoPhaseExecute.max_output_bytes_per_cell` (per cell) or
    :attr:`TwoPhaseExecute.max_output_bytes` (per notebook) is dropped with a note.

Flags (for a human to look at, never a change of score) are returned in
``resources["kzcourse"]["flags"]`` and written to ``integrity.json`` beside the autograded
notebook (:mod:`kzcourse.grading.integrity`).

The tests' kernel is reused between notebooks graded by one process (the namespace is reset,
warnings' once-registries cleared, and the execution count restarted before each one):
it only ever ran the course's tests over plain values. ``TwoPhaseExecute.reuse_test_kernel
= False`` starts a fresh one per notebook.

>>> import nbformat
>>> nb = nbformat.v4.new_notebook(cells=[
...     nbformat.v4.new_code_cell("from kzcourse.checks import check_equal\\nimport math"),
...     nbformat.v4.new_code_cell("answer = 6 * 7", metadata={"nbgrader": {"solution": True, "grade_id": "q1"}}),
...     nbformat.v4.new_code_cell("check_equal(answer, 42)\\nassert math.pi > 3",
...                               metadata={"nbgrader": {"grade": True, "grade_id": "q1_test", "points": 1}})])
>>> p = plan(nb)
>>> p.tests["q1_test"].names, p.preamble
(['answer'], 'from kzcourse.checks import check_equal\\nimport math')
"""
from __future__ import annotations

import ast
import builtins
import json
import os
import shutil
import signal
import tempfile
import time
import atexit
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbgrader.preprocessors import Execute as NbgraderExecute
from traitlets import Bool, Integer, Unicode

from kzcourse.errors import KzCourseError
from kzcourse.grading import values as _values

#: Names an IPython kernel provides besides Python's builtins.
KERNEL_NAMES = frozenset({"display", "get_ipython", "In", "Out", "exit", "quit", "__builtins__", "__name__"})


class PlanError(KzCourseError, ValueError):
    """A lesson's test cells cannot be graded in two phases."""


@dataclass
class TestStep:
    """One test cell of a source notebook: its code and the answer names it reads."""

    grade_id: str
    source: str
    names: list[str]
    index: int


@dataclass
class Plan:
    """What two-phase grading needs from a source notebook (see :func:`plan`)."""

    tests: dict[str, TestStep] = field(default_factory=dict)
    preamble: str = ""
    problems: list[str] = field(default_factory=list)


def _meta(cell: Any) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def is_test_cell(cell: Any) -> bool:
    """A code cell nbgrader autogrades by its output: ``grade`` set, ``solution`` not."""
    m = _meta(cell)
    return cell.get("cell_type") == "code" and bool(m.get("grade")) and not m.get("solution")


def python_source(source: str) -> str:
    """A cell's code as Python, after IPython's translation of magics and ``!`` lines.

    >>> python_source("%time x = 1")
    "get_ipython().run_line_magic('time', 'x = 1')\\n"
    """
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


def names_in(source: str) -> tuple[set[str], set[str]]:
    """The names a cell reads and the names it binds (anywhere in it, nested scopes included).

    >>> loaded, bound = names_in("import os\\ny = [x for x in data if os.sep]\\ndef f(a): return a + z")
    >>> sorted(loaded - bound), sorted(bound)
    (['data', 'z'], ['a', 'f', 'os', 'x', 'y'])
    """
    try:
        tree = ast.parse(python_source(source))
    except SyntaxError:
        return set(), set()
    loaded: set[str] = set()
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                bound.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            bound.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            bound.add(node.rest)
    return loaded, bound


def _imports(source: str) -> list[tuple[ast.stmt, set[str]]]:
    """The top-level absolute import statements of a cell, each with the names it binds."""
    try:
        tree = ast.parse(python_source(source))
    except SyntaxError:
        return []
    out = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)) and not (isinstance(node, ast.ImportFrom) and node.level):
            names = {(a.asname or a.name).split(".")[0] for a in node.names if a.name != "*"}
            if names:
                out.append((node, names))
    return out


def _only(node: ast.stmt, needed: set[str]) -> str:
    """An import statement reduced to the names in ``needed``."""
    import copy

    node = copy.deepcopy(node)
    node.names = [a for a in node.names if (a.asname or a.name).split(".")[0] in needed]
    return ast.unparse(node)


def plan(source_nb: Any) -> Plan:
    """Read a *source* notebook: each test cell's answer names, and the imports the tests need.

    A test cell's answer names are the names it reads and does not bind itself, other than
    builtins and names bound by the lesson's own top-level imports (those run in the tests'
    kernel from the source, as the *preamble*). ``problems`` lists what breaks the rule that
    keeps a lesson gradable in two phases: a test reads only answer names and what it imports
    or defines itself (not a name an earlier test defined), and no later non-test cell uses a
    name a test cell defined.
    """
    p = Plan()
    builtin_names = set(dir(builtins)) | KERNEL_NAMES
    imports: list[tuple[ast.stmt, set[str]]] = []
    for cell in source_nb.cells:
        if cell.get("cell_type") == "code" and not is_test_cell(cell):
            imports += _imports(cell.source)
    imported = set().union(*(names for _, names in imports)) if imports else set()
    defined_by_lesson: set[str] = set()  # bound so far by non-test cells
    defined_by_tests: dict[str, str] = {}  # name -> grade_id of the test that bound it
    needed: set[str] = set()
    for index, cell in enumerate(source_nb.cells):
        if cell.get("cell_type") != "code":
            continue
        loaded, bound = names_in(cell.source)
        if is_test_cell(cell):
            gid = _meta(cell).get("grade_id") or f"cell-{index}"
            free = loaded - bound - builtin_names
            needed |= free & imported
            answers = sorted(free - imported)
            for name in answers:
                if name in defined_by_tests and name not in defined_by_lesson:
                    p.problems.append(f"test {gid} reads {name!r}, which test {defined_by_tests[name]} defined")
            p.tests[gid] = TestStep(gid, cell.source, answers, index)
            for name in bound:
                defined_by_tests.setdefault(name, gid)
        else:
            for name in sorted(loaded - bound):
                if name in defined_by_tests and name not in defined_by_lesson and name not in imported:
                    p.problems.append(f"cell {index} uses {name!r}, which test {defined_by_tests[name]} defined")
            defined_by_lesson |= bound
    p.preamble = "\n".join(_only(node, needed) for node, names in imports if names & needed)
    return p


# --------------------------------------------------------------------------- the preprocessor

_KEPT: dict[tuple, tuple[Any, Any]] = {}  # reusable tests' kernels of this process: key -> (km, kc)
_FOLDERS: dict[str, Path] = {}  # the tests' kernels' empty working folders, by scratch root


def _stop_kept() -> None:
    from jupyter_core.utils import run_sync

    for km, kc in list(_KEPT.values()):
        try:
            kc.stop_channels()
            run_sync(km._async_shutdown_kernel)(now=True)
        except Exception:  # the process is exiting; a kernel that is already gone is fine
            pass
    _KEPT.clear()
    for folder in _FOLDERS.values():
        shutil.rmtree(folder, ignore_errors=True)
    _FOLDERS.clear()


atexit.register(_stop_kept)


def _signal_reason(returncode: int | None, limits: dict) -> str:
    """Why a kernel died, from its exit status (bwrap passes its child's on)."""
    if returncode is None:
        return "the kernel stopped answering"
    sig = -returncode if returncode < 0 else (returncode - 128 if returncode > 128 else 0)
    if sig == signal.SIGXCPU:
        return f"CPU time limit {limits.get('cpu', '?')} s exceeded"
    if sig == signal.SIGXFSZ:
        return f"file size limit {_mib(limits.get('fsize'))} exceeded"
    if sig == signal.SIGKILL:
        return "the kernel was killed (SIGKILL; e.g. out of memory)"
    if sig:
        return f"the kernel died of signal {signal.Signals(sig).name}"
    return f"the kernel exited with status {returncode} (the code called exit or os._exit)"


def _mib(n: Any) -> str:
    if not isinstance(n, (int, float)) or not n:
        return "?"
    return f"{n / 2**30:g} GiB" if n >= 2**30 else f"{n / 2**20:g} MiB"


PLOTLY_JSON = "application/vnd.plotly.v1+json"


class TwoPhaseExecute(NbgraderExecute):
    """nbgrader's ``Execute``, split in two kernels (see the module docstring).

    It keeps nbgrader's class name, so ``c.Execute.timeout`` and the other ``c.Execute.*``
    settings apply to both phases unchanged.
    """

    test_kernel_manager_class = Unicode(
        "", help="Kernel manager of the tests' kernel (phase 2), as 'module.Class'; empty: the same class as "
                 "the student's kernel.").tag(config=True)
    reuse_test_kernel = Bool(True, help="Reuse the tests' kernel for the next notebook graded by this process "
                                        "(namespace reset in between); it never runs student code.").tag(config=True)
    max_output_bytes_per_cell = Integer(1 << 20, help="Outputs of one student cell above this many bytes are "
                                                      "dropped, with a note.").tag(config=True)
    max_output_bytes = Integer(8 << 20, help="Outputs of a notebook's student cells above this many bytes in all "
                                             "are dropped, with a note.").tag(config=True)
    notebook_timeout = Integer(600, help="Wall-clock seconds for all of a notebook's student cells (phase 1); 0: "
                                         "no limit. Past it the student's kernel is stopped as if it had died: "
                                         "the answers recorded before are graded, the rest score 0, and the "
                                         "notebook is flagged.").tag(config=True)
    scratch_root = Unicode("", help="Where the student's kernel gets its empty scratch folder (default: the "
                                    "system's temporary folder).").tag(config=True)

    # -- helpers ------------------------------------------------------------------------------
    def _source_plan(self, nb: Any, resources: dict) -> Plan:
        """The plan of the assignment's source notebook (the instructor's, found by nbgrader's paths)."""
        import nbformat
        from nbgrader.coursedir import CourseDirectory

        info = (resources or {}).get("nbgrader", {})
        assignment, notebook = info.get("assignment"), info.get("notebook")
        if assignment and notebook:
            coursedir = CourseDirectory(config=self.config)
            path = Path(coursedir.format_path(coursedir.source_directory, ".", assignment)) / f"{notebook}.ipynb"
            if path.is_file():
                return plan(nbformat.read(path, as_version=4))
        raise PlanError(
            "Two-phase grading needs the assignment's source notebook: expected "
            f"<source_directory>/{assignment}/{notebook}.ipynb for assignment {assignment!r} and notebook "
            f"{notebook!r}, found none. Run autograde from the course folder with the lesson in its source folder.")

    def _flag(self, code: str, cell: str, message: str) -> None:
        self._kz_flags.append({"code": code, "cell": cell, "message": message})

    def output(self, outs: list, msg: dict, display_id: str | None, cell_index: int):
        out = super().output(outs, msg, display_id, cell_index)
        if out is None or not self._kz_limit_output:
            return out
        data = out.get("data")
        if isinstance(data, dict) and PLOTLY_JSON in data:
            # A chart's HTML copy (the first one carries plotly.js, 2 MB) is not kept: SafeOutputs, the last
            # autograde step, draws the chart from its JSON in a sandboxed frame, with one plotly.js per page.
            data.pop("text/html", None)
        size = len(json.dumps(out, default=str))
        cell_total = self._kz_cell_bytes.get(cell_index, 0) + size
        over = None
        if cell_total > self.max_output_bytes_per_cell:
            over = f"{self.max_output_bytes_per_cell} bytes per cell"
        elif self._kz_total_bytes + size > self.max_output_bytes:
            over = f"{self.max_output_bytes} bytes per notebook"
        if over is None:
            self._kz_cell_bytes[cell_index] = cell_total
            self._kz_total_bytes += size
            return out
        if outs and outs[-1] is out:
            outs.pop()
        if cell_index not in self._kz_truncated:
            self._kz_truncated.add(cell_index)
            from nbformat.v4 import new_output

            outs.append(new_output("stream", name="stdout", text=f"\n[grading: output over the limit of {over} "
                                                                  "was dropped]\n"))
            self._flag("output-limit", self._label(cell_index), f"output over the limit of {over} was dropped")
        return None

    def _label(self, index: int) -> str:
        cell = self.nb.cells[index] if 0 <= index < len(self.nb.cells) else {}
        return _meta(cell).get("grade_id") or f"cell {index + 1}"

    def _limits(self) -> dict:
        km = self.km
        return dict(getattr(km, "kz_limits", {}) or {})

    def _new_km(self, manager_class: Any, scratch: Path | None) -> Any:
        kw: dict[str, Any] = {"config": self.config}
        kernel_name = self.kernel_name or self.nb.metadata.get("kernelspec", {}).get("name")
        if kernel_name:
            kw["kernel_name"] = kernel_name
        km = manager_class(**kw)
        if scratch is not None and hasattr(km, "scratch"):
            km.scratch = str(scratch)
        return km

    def _run_hidden(self, source: str, index: int) -> Any:
        """Run code that is not a notebook cell (out of IPython's history); return the cell it filled."""
        import nbformat

        cell = nbformat.v4.new_code_cell(source)
        limiting, self._kz_limit_output = self._kz_limit_output, False
        original = self.nb.cells[index]
        try:
            self.execute_cell(cell, index, store_history=False)
        finally:  # nbclient puts the cell it ran at its index: put the notebook's own back
            self.nb.cells[index] = original
            self._kz_limit_output = limiting
        return cell

    # -- the two phases -----------------------------------------------------------------------
    def preprocess(self, nb: Any, resources: Any = None, km: Any = None):
        from nbclient.client import NotebookClient
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        NotebookClient.__init__(self, nb, km)
        self.reset_execution_trackers()
        self._check_assign_resources(resources)
        self._kz_flags: list[dict] = []
        self._kz_cell_bytes: dict[int, int] = {}
        self._kz_total_bytes = 0
        self._kz_truncated: set[int] = set()
        self._kz_limit_output = False
        self._kz_timed_out = False
        self._kz_deadline = None
        from kzcourse.grading import repair

        for change in nb.metadata.pop(repair.KEY, None) or []:
            self._flag("edited-metadata", "", str(change)[:500])
        the_plan = self._source_plan(nb, self.resources)
        tests = {i: the_plan.tests[_meta(c).get("grade_id")] for i, c in enumerate(nb.cells)
                 if is_test_cell(c) and _meta(c).get("grade_id") in the_plan.tests}
        for i, test in tests.items():
            nb.cells[i].source = test.source  # the instructor's test, whatever the submission holds
        records: dict[int, str] = {}
        student_class = self.kernel_manager_class
        scratch = Path(tempfile.mkdtemp(prefix="kzs-", dir=self.scratch_root or None))
        died_at = None
        try:
            # ---- phase 1: the student's cells, in the student's kernel
            self.km = self._new_km(student_class, scratch)
            with self.setup_kernel(cwd=str(scratch)):
                info = self.wait_for_reply(self.kc.kernel_info())
                self.nb.metadata["language_info"] = info["content"]["language_info"]
                if self.notebook_timeout > 0:
                    self._kz_deadline = time.monotonic() + self.notebook_timeout
                for index, cell in enumerate(self.nb.cells):
                    if self._kz_deadline is not None and time.monotonic() >= self._kz_deadline:
                        died_at, reason = index, (f"the notebook ran past its total time limit of "
                                                  f"{self.notebook_timeout} s; the kernel was stopped")
                        break
                    try:
                        if index in tests:
                            records[index] = self._record(tests[index], index)
                        else:
                            self._kz_limit_output = True
                            self.preprocess_cell(cell, self.resources, index)
                            self._kz_limit_output = False
                            self._note_limits(index)
                    except DeadKernelError:
                        died_at, reason = index, None
                        break
                    except CellTimeoutError:  # interrupted, yet still busy: the kernel is stopped
                        died_at, reason = index, (f"the cell ran past the time limit of {self.timeout} s and "
                                                  "did not stop when interrupted; the kernel was stopped")
                        break
                if died_at is not None:
                    self._died(died_at, reason or _signal_reason(self._exit_status(), self._limits()))
            self.set_widgets_metadata()
        finally:
            self._kz_limit_output = False
            self._kz_deadline = None
            shutil.rmtree(scratch, ignore_errors=True)
        # ---- phase 2: the tests, in a kernel that never ran student code
        self._phase2(tests, records, the_plan.preamble, student_class)
        self.resources.setdefault("kzcourse", {})["flags"] = list(self._kz_flags)
        self._write_flags()
        return self.nb, self.resources

    def _get_timeout(self, cell: Any) -> int | None:
        """The per-cell time limit, cut to what is left of the notebook's (phase 1 only)."""
        timeout = super()._get_timeout(cell)
        if getattr(self, "_kz_deadline", None) is None:
            return timeout
        left = max(1, int(self._kz_deadline - time.monotonic()) + 1)
        return left if timeout is None else min(timeout, left)

    async def _async_handle_timeout(self, timeout: int, cell: Any = None) -> Any:
        self._kz_timed_out = True
        return await super()._async_handle_timeout(timeout, cell)

    def _note_limits(self, index: int) -> None:
        """Flag a student cell stopped by the time limit or out of memory (the cell failed; the rest ran)."""
        cell = self.nb.cells[index]
        if getattr(self, "_kz_timed_out", False):
            self._kz_timed_out = False
            self._flag("time-limit", self._label(index), f"the cell ran past the time limit of {self.timeout} s and "
                                                         "was interrupted; the rest of the notebook still ran")
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if any("[Errno 27]" in str(o.get("evalue", "")) for o in errors):
            self._flag("file-size-limit", self._label(index),
                       f"file size limit {_mib(self._limits().get('fsize'))} exceeded (File too large)")
        if any(o.get("ename") == "MemoryError" for o in errors):
            limit = self._limits().get("memory")
            self._flag("memory-limit", self._label(index),
                       f"memory limit {_mib(limit)} exceeded (MemoryError)" if limit else "out of memory (MemoryError)")

    def _exit_status(self) -> int | None:
        km = self.km
        process = getattr(getattr(km, "provisioner", None), "process", None)
        if process is None:
            return None
        try:
            return process.wait(timeout=5)
        except Exception:
            return None

    def _died(self, index: int, reason: str) -> None:
        from nbformat.v4 import new_output

        where = self._label(index)
        self.nb.cells[index].setdefault("outputs", []).append(new_output(
            "error", ename="KernelDied", evalue=reason,
            traceback=[f"KernelDied: {reason}. Answers recorded before this cell are graded; later tests score 0."]))
        self._flag("kernel-died", where, f"{reason}; answers before {where} were graded, the questions after it "
                                         "scored 0")

    def _record(self, test: TestStep, index: int) -> str:
        """Record the answer names of one test in the student's kernel; "" if nothing usable came back."""
        if not test.names:
            return ""
        code = f"__import__('kzcourse.grading.values').grading.values.record({test.names!r})"
        cell = self._run_hidden(code, index)
        texts = [o.get("data", {}).get(_values.MIME) for o in cell.get("outputs", [])
                 if o.get("output_type") == "display_data" and _values.MIME in o.get("data", {})]
        if len(texts) != 1:
            self._flag("no-recording", test.grade_id, "the answers for this test could not be recorded (the "
                                                      "student's kernel did not return them); the test ran "
                                                      "without them")
            return ""
        # Student data is never decoded here, in the grader's own process: only its size is
        # checked. The tests' kernel decodes it (values.bind), under its limits.
        if not isinstance(texts[0], str) or len(texts[0]) > _values.MAX_CHARS:
            self._flag("bad-recording", test.grade_id, "the answers recorded for this test are more than "
                                                       f"{_values.MAX_CHARS} characters of JSON; the test ran "
                                                       "without them")
            return ""
        return texts[0]

    def _bind(self, test: TestStep, index: int, text: str) -> str | None:
        """Bind a test's recorded answers in the tests' kernel; what went wrong, for the test's output, or None."""
        bound = self._run_hidden(f"__import__('kzcourse.grading.values').grading.values.bind({text!r}, "
                                 f"{test.names!r})", index)
        problem = None
        for out in bound.get("outputs", []):
            if out.get("output_type") == "error":
                problem = ("reading them took longer than the time limit" if out.get("ename") == "KeyboardInterrupt"
                           else f"{out.get('ename')}: {str(out.get('evalue'))[:200]}")
            elif out.get("output_type") == "display_data" and _values.BIND_MIME in out.get("data", {}):
                report = json.loads(out["data"][_values.BIND_MIME])
                for name, type_name in sorted((report.get("unplain") or {}).items()):
                    self._flag("not-plain-data", test.grade_id, f"`{name}` is a {type_name}, not plain data; the "
                                                                "test judged it as such")
                problem = report.get("problem") or problem
        if problem:
            self._flag("bad-recording", test.grade_id, f"the answers recorded for this test could not be read "
                                                       f"({problem}); the test ran without them, so it failed")
            return (f"[grading: the answers recorded for this test could not be read ({problem}); the test ran "
                    "without them, so this answer is marked wrong]\n")
        return None

    def _phase2(self, tests: dict[int, TestStep], records: dict[int, str], preamble: str, student_class: Any) -> None:
        """Run the tests; if the tests' kernel dies (or hangs), run them all again once in a fresh kernel.

        A kept kernel carries the CPU time of the notebooks it tested before (RLIMIT_CPU counts
        per process), so its death says nothing about this notebook: the retry grades it as if
        the kernel had been new. If a fresh kernel dies too, the tests done before keep their
        result, the one it died in and the ones after score 0, and the notebook is flagged.
        """
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        if not tests:
            return
        for attempt in (1, 2):
            done: list[int] = []
            try:
                self._run_tests(tests, records, preamble, student_class, done, fresh=attempt == 2)
                return
            except (DeadKernelError, CellTimeoutError) as exc:
                reason = getattr(self, "_kz_tests_reason", None) or type(exc).__name__
                self.log.warning("The tests' kernel died (%s), attempt %d", reason, attempt)
            if attempt == 1:
                for index in tests:
                    self.nb.cells[index].outputs = []
                    self.nb.cells[index].execution_count = None
        from nbformat.v4 import new_output

        remaining = [i for i in sorted(tests) if i not in done]
        for index in remaining:
            self.nb.cells[index].outputs = [new_output(
                "error", ename="TestsKernelDied", evalue=reason,
                traceback=[f"TestsKernelDied: {reason}. The tests' kernel died twice on this notebook's answers; "
                           "this test scores 0."])]
        where = tests[remaining[0]].grade_id if remaining else ""
        self._flag("tests-kernel-died", where, f"the tests' kernel died twice ({reason}), in a fresh kernel too; "
                                               f"tests from {where} on scored 0")

    def _run_tests(self, tests: dict[int, TestStep], records: dict[int, str], preamble: str, student_class: Any,
                   done: list[int], fresh: bool) -> None:
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        manager_class = student_class
        if self.test_kernel_manager_class:
            from traitlets.utils.importstring import import_item

            manager_class = import_item(self.test_kernel_manager_class)
        empty = self._tests_folder()
        kernel_name = self.kernel_name or self.nb.metadata.get("kernelspec", {}).get("name") or ""
        key = (manager_class, kernel_name, os.getpid())
        self.km, self.kc = _KEPT.pop(key, (None, None)) if self.reuse_test_kernel else (None, None)
        reused = self.km is not None
        if reused and (fresh or not self._alive()):
            self._discard()
            reused = False
        if self.km is None:
            self.km = self._new_km(manager_class, empty)
        keep = self.reuse_test_kernel
        self._kz_tests_reason = None
        try:
            with self.setup_kernel(cwd=str(empty), cleanup_kc=not keep):
                if reused:
                    self._run_hidden("__import__('kzcourse.grading.values').grading.values.reset()", 0)
                if preamble:
                    self._run_hidden(preamble, min(tests))
                for index, test in sorted(tests.items()):
                    problem = self._bind(test, index, records.get(index, "")) if test.names else None
                    self.preprocess_cell(self.nb.cells[index], self.resources, index)
                    if problem:
                        from nbformat.v4 import new_output

                        self.nb.cells[index].outputs.insert(0, new_output("stream", name="stderr", text=problem))
                    done.append(index)
        except CellTimeoutError:
            keep = False
            self._kz_tests_reason = (f"a test ran past the time limit of {self.timeout} s and did not stop when "
                                     "interrupted")
            raise
        except DeadKernelError:
            keep = False
            self._kz_tests_reason = _signal_reason(self._exit_status(), self._limits())
            raise
        finally:
            if keep and self.km is not None and self._alive():
                _KEPT[key] = (self.km, self.kc)
            elif keep:
                self._discard()
            self.km = self.kc = None
            if not keep:
                shutil.rmtree(empty, ignore_errors=True)
                _FOLDERS.pop(self.scratch_root, None)

    def _tests_folder(self) -> Path:
        """The tests' kernel's working folder: empty, one per process (a kept kernel stays in it)."""
        folder = _FOLDERS.get(self.scratch_root)
        if folder is None or not folder.is_dir():
            folder = _FOLDERS[self.scratch_root] = Path(tempfile.mkdtemp(prefix="kzt-", dir=self.scratch_root or None))
        return folder

    def _alive(self) -> bool:
        from jupyter_core.utils import ensure_async, run_sync

        async def check() -> bool:
            return bool(await ensure_async(self.km.is_alive()))

        try:
            return run_sync(check)()
        except Exception:
            return False

    def _discard(self) -> None:
        try:
            self._cleanup_kernel()
        except Exception:
            pass
        self.km = self.kc = None

    def _write_flags(self) -> None:
        from kzcourse.grading import integrity

        path = (self.resources or {}).get("metadata", {}).get("path")
        if path and Path(path).is_dir():
            integrity.write_flags(Path(path), self._kz_flags)
