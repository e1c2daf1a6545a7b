"""Detect submissions that change how nbgrader's tests run.

nbgrader runs the tests in the same Python process as the student's code, so a submission can
make failing tests look passed: IPython input or AST transformers and hooks that swallow
errors, patched builtins or kzcourse functions, names that shadow the checks the tests call,
objects that claim to equal anything. Two layers catch this; neither changes any score.

1. :func:`scan_notebook` reads the student-editable code cells (their syntax tree, after
   IPython's own magic translation) and reports code that reaches into those places.
2. Canary cells, added around nbgrader's ``Execute`` by :class:`AddCanaries` and read by
   :class:`CheckCanaries`:

   * a *reference* canary at the very top, before any student code, prints a fingerprint of
     the builtins, the loaded ``kzcourse`` modules, IPython's transformer, hook and exception
     machinery and the kernel's messaging methods;
   * before every test cell, and at the end, a canary prints the fingerprint again and then
     *must fail* through an ``assert``; more end canaries must fail through each
     ``kzcourse.checks`` function the tests call, and through ``isinstance``/``len``/``all``.

   Canary cells run through :class:`Execute`: nbgrader's, except that a canary cell stays out
   of IPython's history (it takes no execution count, and its traceback is formatted once).

   A fingerprint that differs from the reference, a canary that did not fail, or a test's
   name (``check_equal``, ``isinstance``...) bound to something else in the notebook is a
   finding. :class:`CheckCanaries` removes the canary cells (the gradebook and feedback never
   see them) and writes ``integrity.json`` beside the autograded notebook; :func:`read_flags`
   reads it back.

>>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import builtins\\nbuiltins.len = lambda x: 0")])
>>> [f.code for f in scan_notebook(nb)]
['builtins', 'patched-module']
"""
from __future__ import annotations

import ast
import builtins
import json
import re
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable

import nbformat
from nbgrader.preprocessors import Execute as NbgraderExecute, NbGraderPreprocessor

from kzcourse.errors import KzCourseError

REPORT = "integrity.json"
META = "kzcourse_canary"

# ----------------------------------------------------------------------------- findings


@dataclass(frozen=True)
class Finding:
    """One reason to review a submission by hand.

    ``code`` names the kind (e.g. ``"ipython-internals"``, ``"errors-swallowed"``), ``cell``
    the cell (its nbgrader ``grade_id``, or ``"cell N"``), ``message`` says what was seen.
    """

    code: str
    cell: str
    message: str

    def to_dict(self) -> dict[str, str]:
        """A JSON-ready dict.

        >>> Finding("x", "q1", "m").to_dict()
        {'code': 'x', 'cell': 'q1', 'message': 'm'}
        """
        return asdict(self)


class IntegrityError(KzCourseError, ValueError):
    """An integrity report cannot be read."""


# ----------------------------------------------------------------------------- static scan

_IPYTHON_ATTRS = {
    "input_transformers_cleanup", "input_transformers_post", "input_transformer_manager", "ast_transformers",
    "set_custom_exc", "custom_exceptions", "CustomTB", "showtraceback", "_showtraceback", "showsyntaxerror",
    "run_cell", "run_cell_async", "run_ast_nodes", "run_code", "transform_cell", "transform_ast", "excepthook",
    "displayhook", "display_pub", "user_ns", "user_global_ns", "register_magic_function", "cleanup_transforms",
    "line_transforms", "token_transformers", "do_execute", "execute_request", "send_response", "iopub_socket",
}
_RISKY_MODULES = {
    "builtins": "builtins", "__builtin__": "builtins", "IPython": "ipython-internals", "ipykernel": "ipython-internals",
    "traitlets": "ipython-internals", "zmq": "ipython-internals", "jupyter_client": "ipython-internals",
    "ctypes": "dynamic-code", "gc": "dynamic-code", "inspect": "dynamic-code", "importlib": "dynamic-code",
    "code": "dynamic-code", "codeop": "dynamic-code", "types": "dynamic-code", "unittest": "dynamic-code",
    "socket": "system-access", "subprocess": "system-access", "urllib": "system-access", "http": "system-access",
    "requests": "system-access", "pty": "system-access", "multiprocessing": "system-access", "signal": "system-access",
}
_SYS_ATTRS = {"modules", "excepthook", "displayhook", "settrace", "setprofile", "_getframe", "meta_path", "path_hooks",
              "addaudithook", "set_asyncgen_hooks", "breakpointhook", "unraisablehook"}
_OS_CALLS = {"system", "popen", "fork", "kill", "killpg", "_exit", "execv", "execve", "execvp", "spawnv", "spawnl",
             "posix_spawn", "symlink", "link", "chroot"}
_DYNAMIC_CALLS = {"exec", "eval", "compile", "__import__", "globals", "locals", "vars", "setattr", "delattr",
                  "breakpoint"}
_DUNDER_TRICKS = {"__eq__", "__ne__", "__hash__", "__instancecheck__", "__subclasscheck__", "__subclasshook__",
                  "__class__", "__bool__", "__getattribute__", "__init_subclass__", "__class_getitem__"}
_MAGIC_OK = {"matplotlib", "time", "timeit", "who", "whos", "pwd", "ls", "precision", "pinfo", "pinfo2", "pdoc"}
_KZ_CHECKS = ("check_type", "check_equal", "check_close", "check_members")


def _is_code(cell: Any) -> bool:
    return cell.get("cell_type") == "code"


def _meta(cell: Any) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def student_cells(nb: Any) -> list[tuple[int, Any]]:
    """The code cells a student may change: solution cells and cells nbgrader does not track.

    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    >>> [i for i, _ in student_cells(nb)]
    [0]
    """
    out = []
    for i, cell in enumerate(nb.cells):
        m = _meta(cell)
        if _is_code(cell) and not cell.get("metadata", {}).get(META) and (m.get("solution") or not (m.get("locked") or m.get("grade"))):
            out.append((i, cell))
    return out


def graded_test_cells(nb: Any) -> list[tuple[int, Any]]:
    """The autograded test cells (code cells with nbgrader ``grade`` and no ``solution``)."""
    return [(i, c) for i, c in enumerate(nb.cells) if _is_code(c) and _meta(c).get("grade") and not _meta(c).get("solution")]


def _label(nb: Any, index: int) -> str:
    return _meta(nb.cells[index]).get("grade_id") or f"cell {index}"


def _python(source: str) -> ast.Module | None:
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        source = TransformerManager().transform_cell(source)
    except Exception:  # noqa: BLE001 - a cell IPython cannot read is not Python either
        pass
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError):
        return None


def names_used_by_tests(nb: Any) -> set[str]:
    """Names the test cells read (``check_equal``, ``isinstance``, answer variables...).

    >>> cell = nbformat.v4.new_code_cell("check_equal(x, 1)")
    >>> cell.metadata["nbgrader"] = {"grade": True, "grade_id": "t", "points": 1}
    >>> sorted(names_used_by_tests(nbformat.v4.new_notebook(cells=[cell])))
    ['check_equal', 'x']
    """
    names: set[str] = set()
    for _, cell in graded_test_cells(nb):
        tree = _python(cell.source)
        if tree:
            names |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return names


def protected_names(nb: Any) -> set[str]:
    """Names the tests rely on that a student has no reason to rebind: builtins and kzcourse's.

    >>> cell = nbformat.v4.new_code_cell("check_equal(len(x), 1)")
    >>> cell.metadata["nbgrader"] = {"grade": True, "grade_id": "t", "points": 1}
    >>> sorted(protected_names(nbformat.v4.new_notebook(cells=[cell])))
    ['check_equal', 'len']
    """
    kz = set(_KZ_CHECKS) | {"kzcourse", "data", "geo", "network", "maps", "charts", "explore", "checks", "AnswerError"}
    return {n for n in names_used_by_tests(nb) if n in kz or hasattr(builtins, n)}


def _root_name(node: ast.AST) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _chain(node: ast.AST) -> list[str]:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return parts[::-1]


def _bound_names(tree: ast.Module) -> list[tuple[str, ast.AST]]:
    """Names a cell binds in the notebook's namespace (top level, or declared ``global``)."""
    declared = {n for node in ast.walk(tree) if isinstance(node, ast.Global) for n in node.names}
    out: list[tuple[str, ast.AST]] = []

    def targets(t: ast.AST):
        if isinstance(t, ast.Name):
            out.append((t.id, t))
        elif isinstance(t, (ast.Tuple, ast.List)):
            for e in t.elts:
                targets(e)
        elif isinstance(t, ast.Starred):
            targets(t.value)

    def visit(nodes: Iterable[ast.AST], top: bool):
        for node in nodes:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                if top or node.name in declared:
                    out.append((node.name, node))
                visit(node.body, False)
                continue
            if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.For, ast.AsyncFor, ast.With, ast.AsyncWith)):
                tlist = node.targets if isinstance(node, ast.Assign) else (
                    [node.target] if not isinstance(node, (ast.With, ast.AsyncWith))
                    else [i.optional_vars for i in node.items if i.optional_vars is not None])
                for t in tlist:
                    before = len(out)
                    targets(t)
                    if not top:
                        kept = [x for x in out[before:] if x[0] in declared]
                        del out[before:]
                        out.extend(kept)
            if isinstance(node, ast.NamedExpr) and isinstance(node.target, ast.Name) and (top or node.target.id in declared):
                out.append((node.target.id, node))
            if isinstance(node, (ast.Import, ast.ImportFrom)) and top:
                for alias in node.names:
                    out.append(((alias.asname or alias.name).split(".")[0], node))
            if isinstance(node, ast.Delete):
                for t in node.targets:
                    if isinstance(t, ast.Name) and (top or t.id in declared):
                        out.append((t.id, node))
            children = [c for c in ast.iter_child_nodes(node) if isinstance(c, ast.stmt)]
            visit(children, top and not isinstance(node, (ast.Lambda,)))
            for c in ast.iter_child_nodes(node):
                if not isinstance(c, ast.stmt):
                    for sub in ast.walk(c):
                        if isinstance(sub, ast.NamedExpr) and isinstance(sub.target, ast.Name) and (top or sub.target.id in declared):
                            out.append((sub.target.id, sub))

    visit(tree.body, True)
    return out


def _allowed_import(node: ast.AST, name: str) -> bool:
    """``from kzcourse[.x] import name`` or ``import kzcourse[.x]`` binds a kzcourse name honestly."""
    if isinstance(node, ast.ImportFrom):
        if not (node.module or "").startswith("kzcourse") or node.level:
            return False
        return any((a.asname or a.name) == name and a.name == name for a in node.names)
    if isinstance(node, ast.Import):
        return any(a.name.split(".")[0] == "kzcourse" and (a.asname is None or a.asname == a.name.split(".")[-1] == name)
                   for a in node.names)
    return False


def scan_source(source: str, protected: set[str] = frozenset(), cell: str = "cell") -> list[Finding]:
    """Findings for one cell's source (see :func:`scan_notebook`).

    >>> [f.code for f in scan_source("get_ipython().set_custom_exc((Exception,), lambda *a: None)")]
    ['ipython-internals', 'ipython-internals']
    >>> scan_source("total = sum(x for x in range(3))", {"sum"})
    []
    >>> [f.message for f in scan_source("check_equal = lambda *a, **k: None", {"check_equal"})]
    ['rebinds `check_equal`, which the tests call']
    """
    tree = _python(source)
    if tree is None:
        return []
    found: list[tuple[str, str]] = []

    def add(code: str, message: str):
        if (code, message) not in found:
            found.append((code, message))

    modules: set[str] = set()
    # `%matplotlib inline` becomes get_ipython().run_line_magic('matplotlib', 'inline'): not a finding.
    magic_roots = {id(n.func.value.func) for n in ast.walk(tree)
                   if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                   and n.func.attr in ("run_line_magic", "run_cell_magic", "system", "getoutput")
                   and isinstance(n.func.value, ast.Call) and isinstance(n.func.value.func, ast.Name)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                top = a.name.split(".")[0]
                modules.add((a.asname or top))
                if top in _RISKY_MODULES:
                    add(_RISKY_MODULES[top], f"imports `{a.name}`")
        elif isinstance(node, ast.ImportFrom) and not node.level:
            top = (node.module or "").split(".")[0]
            if top in _RISKY_MODULES:
                add(_RISKY_MODULES[top], f"imports from `{node.module}`")
            if top == "sys" and any(a.name in _SYS_ATTRS for a in node.names):
                add("ipython-internals", "imports interpreter hooks from `sys`")
            if top == "os" and any(a.name in _OS_CALLS for a in node.names):
                add("system-access", "imports process or link functions from `os`")
        elif isinstance(node, ast.Name):
            if node.id in ("get_ipython", "__IPYTHON__", "In", "Out", "_ih", "_oh", "_dh") and id(node) not in magic_roots:
                add("ipython-internals", f"uses `{node.id}`")
            elif node.id in ("__builtins__", "__builtin__"):
                add("builtins", f"uses `{node.id}`")
            elif node.id in _DYNAMIC_CALLS:
                add("dynamic-code", f"uses `{node.id}`")
        elif isinstance(node, ast.Attribute):
            chain = _chain(node)
            if node.attr in _IPYTHON_ATTRS:
                add("ipython-internals", f"touches `.{node.attr}`")
            elif node.attr == "register" and len(chain) >= 2 and chain[-2] == "events":
                add("ipython-internals", "registers an IPython event callback")
            if chain[:1] == ["sys"] and len(chain) > 1 and chain[1] in _SYS_ATTRS:
                add("ipython-internals", f"touches `sys.{chain[1]}`")
            if chain[:1] == ["os"] and len(chain) > 1 and chain[1] in _OS_CALLS:
                add("system-access", f"calls `os.{chain[1]}`")
            if node.attr in ("__code__", "__globals__", "__closure__", "__defaults__", "__kwdefaults__", "__dict__",
                             "__builtins__", "__class__", "__bases__", "__mro__", "__subclasses__", "f_globals",
                             "f_locals", "f_back", "tb_frame", "gi_frame"):
                add("dynamic-code", f"touches `.{node.attr}`")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in _DUNDER_TRICKS:
            add("equals-anything", f"defines `{node.name}`, which changes how objects compare or identify themselves")
        elif isinstance(node, ast.ClassDef):
            for kw in node.keywords:
                if kw.arg == "metaclass":
                    add("equals-anything", f"class `{node.name}` sets a metaclass")
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            tlist = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            for t in tlist:
                for sub in ast.walk(t):
                    if isinstance(sub, ast.Attribute):
                        chain = _chain(sub)
                        root = chain[0] if chain else _root_name(sub)
                        if root and (root in modules or root in protected or root in ("builtins", "kzcourse")) \
                                and "options" not in chain:
                            add("patched-module", f"changes `{'.'.join(chain) or root}` (an attribute of a module or of a "
                                                  "name the tests use)")
                        break
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in (
                "run_line_magic", "run_cell_magic", "system", "getoutput"):
            magic = node.args[0].value if node.args and isinstance(node.args[0], ast.Constant) else None
            if node.func.attr in ("system", "getoutput"):
                add("system-access", "runs a shell command (`!...`)")
            elif magic not in _MAGIC_OK:
                add("ipython-internals", f"runs the magic `%{magic}`")
    for name, node in _bound_names(tree):
        if name in protected and not _allowed_import(node, name):
            add("shadowed-name", f"rebinds `{name}`, which the tests call")
    return [Finding(code, cell, message) for code, message in found]


def scan_notebook(nb: Any) -> list[Finding]:
    """Static findings for the student-editable code cells of a notebook.

    Looks at each cell's syntax tree (after IPython's translation of magics), not its text:
    IPython internals (``get_ipython``, transformers, hooks, custom exception handlers),
    ``builtins``, rebinding a name the test cells call (``check_equal``, ``isinstance``...),
    assigning attributes of modules (``kzcourse.checks.check_equal = ...``), dynamic code
    (``exec``, ``eval``, ``setattr``, ``__code__``...), comparison dunders (``__eq__``), and
    system access (sockets, subprocesses, ``!`` shell commands).

    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("class A:\\n    def __eq__(self, o): return True")])
    >>> scan_notebook(nb)[0].code
    'equals-anything'
    """
    if isinstance(nb, (str, Path)):
        nb = nbformat.read(str(nb), as_version=4)
    protected = protected_names(nb)
    out: list[Finding] = []
    for index, cell in student_cells(nb):
        out += scan_source(cell.source, protected, _label(nb, index))
    return out


# ----------------------------------------------------------------------------- canaries

# Defined in the first canary cell, before any student code; later canaries call it.
_CANARY_LIB = r'''
def __kz_canary_NONCE(tag, protected=(), _keep=[]):
    import builtins as _b, sys as _s, json as _j, os as _o, hashlib as _h
    _ip = get_ipython()
    _roots = [_o.path.realpath(p) for p in {_s.prefix, _s.base_prefix, _s.exec_prefix}]
    _kzdir = _o.path.dirname(_o.path.realpath(_s.modules["kzcourse"].__file__)) if "kzcourse" in _s.modules else None
    if _kzdir:
        _roots.append(_kzdir)
    def _code(o):
        o = getattr(o, "func", o)
        o = getattr(o, "__func__", o)
        c = getattr(o, "__code__", None)
        if c is None and not isinstance(o, type) and hasattr(type(o), "__call__"):
            c = getattr(getattr(type(o).__call__, "__func__", type(o).__call__), "__code__", None)
        return c
    def _lib(o):
        c = _code(o)
        if c is None:
            return True
        f = _o.path.realpath(c.co_filename)
        return _o.path.isfile(f) and any(f.startswith(r + _o.sep) for r in _roots)
    def _desc(o):
        return "%s.%s" % (getattr(o, "__module__", "?"), getattr(o, "__qualname__", type(o).__name__))
    def _ident(o):
        # a bound method is made anew on each access: identify it by its function and its object
        f, me = getattr(o, "__func__", None), getattr(o, "__self__", None)
        _keep.append(o)
        return "%d.%d" % (id(f), id(me)) if f is not None else str(id(o))
    def _ids(objs):
        return [[_ident(o), _lib(o), _desc(o)] for o in objs]
    def _digest(cls):
        items = []
        for k in sorted(cls.__dict__):
            items.append("%s:%d" % (k, id(cls.__dict__[k])))
            _keep.append(cls.__dict__[k])
        return _h.sha1("|".join(items).encode()).hexdigest()
    fp = {"builtins": {}, "kz": {}, "lists": {}, "classes": {}, "shadows": {}, "ns": {}, "hooks": {}}
    for n in sorted(dir(_b)):
        # ipykernel installs a new `input` for every execution request
        if (not n.startswith("__") or n in ("__import__", "__build_class__")) and n not in ("input", "raw_input"):
            v = getattr(_b, n)
            _keep.append(v)
            fp["builtins"][n] = id(v)
    for m in sorted(k for k in list(_s.modules) if k == "kzcourse" or k.startswith("kzcourse.") or k == "math"):
        mod = _s.modules[m]
        for n, v in sorted(vars(mod).items()):
            if n.startswith("_") or not callable(v):
                continue
            c = _code(v) if not isinstance(v, type) else None
            _keep.extend([v, c])
            fp["kz"]["%s.%s" % (m, n)] = [id(v), id(c) if c is not None else 0, _lib(v), _desc(v)]
    tm = _ip.input_transformer_manager
    for name, obj in (("input_transformers_cleanup", _ip), ("input_transformers_post", _ip), ("ast_transformers", _ip),
                      ("cleanup_transforms", tm), ("line_transforms", tm), ("token_transformers", tm)):
        lst = getattr(obj, name, None)
        lst = [] if lst is None else lst
        _keep.append(lst)
        fp["lists"][name] = [id(lst)] + _ids(list(lst))
    fp["lists"]["custom_exceptions"] = [0] + _ids(list(_ip.custom_exceptions))
    for ev, cbs in sorted(_ip.events.callbacks.items()):
        fp["lists"]["event:" + ev] = [0] + _ids(list(cbs))
    fp["hooks"]["sys.excepthook"] = _ids([_s.excepthook])[0]
    fp["hooks"]["CustomTB"] = _ids([_ip.CustomTB])[0]
    objs = {"shell": _ip, "kernel": getattr(_ip, "kernel", None), "display_pub": getattr(_ip, "display_pub", None),
            "displayhook": getattr(_ip, "displayhook", None), "compile": getattr(_ip, "compile", None),
            "transformer_manager": tm}
    k = objs["kernel"]
    objs["session"] = getattr(k, "session", None) if k is not None else None
    for key, obj in objs.items():
        if obj is None:
            continue
        for cls in type(obj).__mro__:
            if cls.__module__ != "builtins":
                fp["classes"]["%s.%s" % (cls.__module__, cls.__qualname__)] = _digest(cls)
        inst = getattr(obj, "__dict__", {})
        fp["shadows"][key] = sorted(n for n in inst if callable(inst[n]) and callable(getattr(type(obj), n, None)))
    user = _ip.user_ns
    for n in protected:
        if n in user:
            v = user[n]
            real = getattr(_b, n, None)
            genuine = v is real if real is not None else (
                getattr(v, "__module__", "") or getattr(v, "__name__", "")).startswith("kzcourse") and _lib(v)
            if isinstance(v, type(_s)) and n not in vars(_b):
                genuine = v is _s.modules.get(v.__name__) and v.__name__.startswith("kzcourse")
            fp["ns"][n] = [id(v), bool(genuine), _desc(v)]
    _j_line = "KZCANARY NONCE %s %s" % (tag, _j.dumps(fp, sort_keys=True))
    _s.__stdout__.flush()
    print(_j_line, flush=True)
'''


def _canary_cell(source: str, kind: str, tag: str, expect: str | None) -> Any:
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata[META] = {"kind": kind, "tag": tag, "expect": expect}
    return cell


class AddCanaries(NbGraderPreprocessor):
    """Insert canary cells: one at the top (reference), one before each test cell, several at the end.

    Runs in ``Autograde.autograde_preprocessors`` just before ``Execute``. Idempotent: a
    notebook that already carries canaries is left alone.
    """

    def preprocess(self, nb: Any, resources: dict) -> tuple[Any, dict]:
        if any(c.get("metadata", {}).get(META) for c in nb.cells):
            return nb, resources
        nonce = secrets.token_hex(8)
        resources["kzcourse_integrity"] = {"nonce": nonce}
        fn = f"__kz_canary_{nonce}"
        protected = sorted(protected_names(nb))
        used = names_used_by_tests(nb)
        # A check canary prints the fingerprint, then fails through an `assert` of its own.
        call = lambda tag: f"{fn}({tag!r}, {tuple(protected)!r})\nassert False, {f'kzcanary {nonce} {tag}'!r}"  # noqa: E731
        top = _canary_cell(_CANARY_LIB.replace("NONCE", nonce) + f"\n{fn}('reference', {tuple(protected)!r})\n",
                           "reference", "reference", None)
        cells = [top]
        for cell in nb.cells:
            if _is_code(cell) and _meta(cell).get("grade") and not _meta(cell).get("solution"):
                tag = f"before:{_meta(cell).get('grade_id', '?')}"
                cells.append(_canary_cell(call(tag), "check", tag, "AssertionError"))
            cells.append(cell)
        # The end canary fails through `assert`, as every check canary does.
        cells.append(_canary_cell(call("end"), "check", "end", "AssertionError"))
        probes = {
            "check_type": "check_type(None, int, name='kzcanary {n} check_type')",
            "check_equal": "check_equal(1, 2, name='kzcanary {n} check_equal')",
            "check_close": "check_close(1.0, 2.0, name='kzcanary {n} check_close')",
            "check_members": "check_members(['a'], {{'b'}}, name='kzcanary {n} check_members')",
        }
        for name, probe in probes.items():
            source = probe.format(n=nonce)
            if name not in used:  # the tests do not call it by that name: probe the module's own function
                source = f"__import__('kzcourse.checks', fromlist=['x']).{source}"
            cells.append(_canary_cell(source, "raise", name, "AnswerError"))
        # One cell calls isinstance, len and all, as test cells do; it must still fail through `assert`.
        cells.append(_canary_cell(f"assert not (isinstance(1, str)) and not (len([1]) == 2) and not (all([False])) "
                                  f"and False, 'kzcanary {nonce} builtins'", "raise", "builtins", "AssertionError"))
        nb.cells = cells
        return nb, resources


class Execute(NbgraderExecute):
    """nbgrader's ``Execute``, running canary cells outside IPython's history.

    Every other cell runs exactly as nbgrader runs it (``store_history=True``). A canary cell
    runs with ``store_history=False``, through the same ``run_cell``, the same transformers,
    hooks and exception display as any cell, so a trick that swallows errors still swallows
    the canary's. Outside the history, a canary takes no execution count (the student's
    cells keep the numbers, ``_`` and ``Out`` entries plain nbgrader gives them), and IPython
    does not format its traceback a second time to store it (IPython >= 9), which roughly
    halves what a failing canary costs. It keeps nbgrader's class name, so ``c.Execute.*``
    settings apply unchanged.
    """

    def preprocess_cell(self, cell: Any, resources: Any, index: int) -> tuple[Any, Any]:
        if not cell.get("metadata", {}).get(META):
            return super().preprocess_cell(cell, resources, index)
        self._check_assign_resources(resources)
        cell = self.execute_cell(cell, index, store_history=False)
        return cell, self.resources


def _fingerprint(cell: Any, nonce: str, tag: str) -> dict | None:
    prefix = f"KZCANARY {nonce} {tag} "
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream" and out.get("name") == "stdout":
            for line in out.get("text", "").splitlines():
                if line.startswith(prefix):
                    try:
                        return json.loads(line[len(prefix):])
                    except ValueError:
                        return None
    return None


def _failed_as_expected(cell: Any, nonce: str, tag: str, expect: str) -> bool:
    errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    return any(o.get("ename") == expect and f"kzcanary {nonce} {tag}" in (o.get("evalue") or "") for o in errors)


def compare_fingerprints(ref: dict, now: dict, where: str) -> list[Finding]:
    """Findings for what changed between the reference fingerprint and a later one.

    >>> ref = {"builtins": {"len": 1}, "kz": {}, "lists": {}, "classes": {}, "shadows": {}, "ns": {}, "hooks": {}}
    >>> now = dict(ref, builtins={"len": 2})
    >>> [f.message for f in compare_fingerprints(ref, now, "end")]
    ['builtins.len was replaced']
    """
    out: list[Finding] = []
    for name, ident in now.get("builtins", {}).items():
        if name in ref.get("builtins", {}) and ref["builtins"][name] != ident:
            out.append(Finding("patched-builtins", where, f"builtins.{name} was replaced"))
    for name in set(ref.get("builtins", {})) - set(now.get("builtins", {})):
        out.append(Finding("patched-builtins", where, f"builtins.{name} was deleted"))
    for key, (ident, code, lib, desc) in now.get("kz", {}).items():
        old = ref.get("kz", {}).get(key)
        if old is not None and (old[0] != ident or old[1] != code):
            out.append(Finding("patched-kzcourse", where, f"{key} was replaced or its code changed (now {desc})"))
        elif old is None and not lib:
            out.append(Finding("patched-kzcourse", where, f"{key} is code written in the notebook ({desc})"))
    for name, entries in now.get("lists", {}).items():
        old = ref.get("lists", {}).get(name, [0])
        if old and entries and old[0] and entries[0] != old[0]:
            out.append(Finding("ipython-hooks", where, f"IPython's {name} list was replaced"))
        before = {e[0] for e in old[1:]}
        for ident, lib, desc in entries[1:]:
            if ident not in before and (not lib or not name.startswith("event:")):
                out.append(Finding("ipython-hooks", where, f"{desc} was added to IPython's {name}"
                                   + ("" if lib else " by code written in the notebook")))
    for name, (ident, lib, desc) in now.get("hooks", {}).items():
        if ref.get("hooks", {}).get(name, [ident])[0] != ident:
            out.append(Finding("ipython-hooks", where, f"{name} was replaced by {desc}"))
    for cls, digest in now.get("classes", {}).items():
        if cls in ref.get("classes", {}) and ref["classes"][cls] != digest:
            out.append(Finding("ipython-hooks", where, f"methods of {cls} were changed"))
    for obj, names in now.get("shadows", {}).items():
        new = sorted(set(names) - set(ref.get("shadows", {}).get(obj, [])))
        if new:
            out.append(Finding("ipython-hooks", where, f"methods of the kernel's {obj} were replaced on the instance: "
                                                       + ", ".join(new)))
    for name, (ident, genuine, desc) in now.get("ns", {}).items():
        if not genuine:
            out.append(Finding("shadowed-name", where, f"`{name}`, which the tests call, is {desc}, not the original"))
    return out


class CheckCanaries(NbGraderPreprocessor):
    """Read the canaries' outputs, remove the canary cells, and record findings in ``integrity.json``.

    Runs in ``Autograde.autograde_preprocessors`` right after ``Execute``. The report is
    written through nbconvert's writer (``resources["outputs"]``), so it lands beside the
    autograded notebook: ``autograded/<student>/<lesson>/integrity.json``.
    """

    def preprocess(self, nb: Any, resources: dict) -> tuple[Any, dict]:
        canaries = [(i, c) for i, c in enumerate(nb.cells) if c.get("metadata", {}).get(META)]
        state = resources.setdefault("kzcourse_integrity", {})
        if not canaries:
            if "report" not in state:
                findings = [Finding("canaries-missing", "notebook", "no integrity canaries ran (is AddCanaries "
                                                                    "configured before Execute?)")]
                self._write(nb, resources, findings, 0)
            return nb, resources
        nonce = state.get("nonce") or re.sub(r"^__kz_canary_(\w+)\(.*", r"\1", canaries[0][1].source.strip().splitlines()[-1])
        findings: list[Finding] = []
        ref = None
        seen: set[tuple[str, str]] = set()
        for i, cell in canaries:
            meta = cell.metadata[META]
            kind, tag, expect = meta["kind"], meta["tag"], meta.get("expect")
            where = "canary " + tag
            if kind == "reference":
                ref = _fingerprint(cell, nonce, tag)
                if ref is None:
                    findings.append(Finding("canary-broken", "reference", "the reference canary printed no fingerprint"))
                continue
            if kind == "check":
                now = _fingerprint(cell, nonce, tag)
                if now is None:
                    findings.append(Finding("canary-broken", where, "the canary printed no fingerprint (it was removed, "
                                                                    "replaced, or its output was suppressed)"))
                elif ref is not None:
                    for f in compare_fingerprints(ref, now, where):
                        if (f.code, f.message) not in seen:  # report each change once, where it first shows
                            seen.add((f.code, f.message))
                            findings.append(f)
            if expect and not _failed_as_expected(cell, nonce, tag, expect):
                got = [f"{o.get('ename')}: {o.get('evalue')}" for o in cell.get("outputs", []) if o.get("output_type") == "error"]
                findings.append(Finding("errors-swallowed", where, f"a cell that must fail with {expect} did not "
                                                                   f"(errors seen: {got or 'none'}); failing tests may have "
                                                                   "been counted as passed"))
        removed = resources.get("kzcourse_sandbox", {}).get("removed") or []
        if removed:
            findings.append(Finding("sandbox-links", "notebook", "the student's code left links or special files in its "
                                                                 f"folder (removed): {', '.join(removed)}"))
        nb.cells = [c for c in nb.cells if not c.get("metadata", {}).get(META)]
        _renumber(nb)
        static = scan_notebook(nb)
        self._write(nb, resources, static + findings, len(canaries))
        return nb, resources

    def _write(self, nb: Any, resources: dict, findings: list[Finding], canaries: int) -> None:
        report = {"version": 1, "canaries": canaries, "flags": [f.to_dict() for f in findings]}
        resources["kzcourse_integrity"]["report"] = report
        resources.setdefault("outputs", {})[REPORT] = (json.dumps(report, indent=1) + "\n").encode("utf-8")
        for f in findings:
            self.log.warning("Integrity: %s [%s] %s", f.cell, f.code, f.message)


def _renumber(nb: Any) -> None:
    """Number executed code cells 1, 2, 3... again after the canaries are gone."""
    n = 0
    for cell in nb.cells:
        if _is_code(cell) and cell.get("execution_count") is not None:
            n += 1
            cell.execution_count = n
            for out in cell.get("outputs", []):
                if out.get("output_type") == "execute_result":
                    out["execution_count"] = n


def read_flags(autograded_dir: Path) -> list[Finding]:
    """The findings recorded for one autograded submission (``autograded/<student>/<lesson>/``).

    A folder without ``integrity.json`` gives one ``report-missing`` finding: the canaries did
    not run, so nothing vouches for the score.

    >>> import tempfile
    >>> [f.code for f in read_flags(Path(tempfile.mkdtemp()))]
    ['report-missing']
    """
    path = Path(autograded_dir) / REPORT
    if not path.is_file():
        return [Finding("report-missing", "notebook", f"no {REPORT} in {autograded_dir}: the integrity canaries did not "
                                                      "run for this submission")]
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
        return [Finding(str(f["code"]), str(f["cell"]), str(f["message"])) for f in report["flags"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise IntegrityError(f"{path} is not an integrity report: expected JSON with a 'flags' list, got "
                             f"{type(exc).__name__}: {exc}. Autograde the submission again.") from exc
