"""Answer checks for the lessons' autograded tests, with messages written for students.

Each check first insists on the exact type of the answer (so an object that
pretends to equal everything, or a subclass with a rigged ``__eq__``, fails),
then compares the value. A failed check raises :class:`AnswerError`, whose
message says what was expected and what arrived — never the answer itself
unless ``reveal=True``.

>>> check_equal(3, 3, name="n_events")
>>> check_equal(3.0, 3, name="n_events")
Traceback (most recent call last):
...
kzcourse.checks.AnswerError: `n_events` should be a int, but it is a float (3.0). Convert it, e.g. with int(...).
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from kzcourse.errors import KzCourseError


class AnswerError(KzCourseError, AssertionError):
    """An answer in a lesson notebook is not right yet."""


_CONVERT = {int: "int(...)", float: "float(...)", str: "str(...)", list: "list(...)", set: "set(...)", bool: "bool(...)", tuple: "tuple(...)", dict: "dict(...)"}


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_type(value: Any, expected: type | tuple[type, ...], *, name: str = "answer") -> None:
    """Raise :class:`AnswerError` unless ``type(value)`` is exactly ``expected`` (or one of them).

    >>> check_type("P24", str, name="paragraph")
    >>> check_type(None, str, name="paragraph")
    Traceback (most recent call last):
    ...
    kzcourse.checks.AnswerError: `paragraph` should be a str, but it is a NoneType (None). Did you run the cell that sets it, and replace `raise NotImplementedError()`?
    """
    types = expected if isinstance(expected, tuple) else (expected,)
    if type(value) in types:
        return
    wanted = " or ".join(t.__name__ for t in types)
    if value is None:
        hint = "Did you run the cell that sets it, and replace `raise NotImplementedError()`?"
    elif len(types) == 1 and types[0] in _CONVERT and type(value).__module__ in ("builtins", "numpy"):
        hint = f"Convert it, e.g. with {_CONVERT[types[0]]}."
    else:
        hint = f"Build a plain {wanted}."
    raise AnswerError(f"`{name}` should be a {wanted}, but it is a {type(value).__name__} ({_short(value)}). {hint}")


def check_equal(value: Any, expected: Any, *, name: str = "answer", hint: str = "", reveal: bool = False) -> None:
    """Check the exact type, then equality (floats within 1e-9 relative).

    >>> check_equal({"a", "b"}, {"b", "a"}, name="ids")
    >>> check_equal(5, 6, name="count", hint="Count each day once.")
    Traceback (most recent call last):
    ...
    kzcourse.checks.AnswerError: `count` is not right yet. Count each day once.
    """
    check_type(value, type(expected), name=name)
    if isinstance(expected, float):
        same = math.isclose(value, expected, rel_tol=1e-9, abs_tol=1e-12)
    elif isinstance(expected, (list, tuple)):
        same = len(value) == len(expected) and all(type(a) is type(b) and a == b for a, b in zip(value, expected))
    elif isinstance(expected, (set, frozenset)):
        allowed = {type(item) for item in expected}
        same = all(type(item) in allowed for item in value) and expected == value
    else:
        same = expected == value
    if same is not True:
        raise AnswerError(_wrong(name, value, expected, hint, reveal))


def check_close(value: Any, expected: float, *, rel: float = 0.01, name: str = "answer", hint: str = "", reveal: bool = False) -> None:
    """Check that ``value`` is an int or float within ``rel`` (relative) of ``expected``.

    >>> check_close(7644.3, 7644, rel=0.001, name="km")
    >>> check_close("7644", 7644, name="km")
    Traceback (most recent call last):
    ...
    kzcourse.checks.AnswerError: `km` should be a float or int, but it is a str ('7644'). Build a plain float or int.
    """
    check_type(value, (float, int), name=name)
    if not (math.isfinite(value) and math.isclose(value, expected, rel_tol=rel)):
        raise AnswerError(_wrong(name, value, expected, hint, reveal))


def check_members(value: Iterable[Any], expected: Iterable[Any], *, name: str = "answer", hint: str = "", reveal: bool = False) -> None:
    """Check a list, tuple or set has exactly the expected members (order ignored, no duplicates).

    A hidden test's message reaches the student's feedback, so without a ``hint`` (or ``reveal``) it says only
    that the members are not right, not how many there should be.

    >>> check_members(["P2", "P3"], {"P3", "P2"}, name="paragraphs")
    >>> check_members(["P2"], {"P3", "P2"}, name="paragraphs")
    Traceback (most recent call last):
    ...
    kzcourse.checks.AnswerError: `paragraphs` is not right yet. Some items are missing or do not belong; check each one against the question.
    """
    check_type(value, (list, tuple, set), name=name)
    items = list(value)
    wanted = set(expected)
    for item in items:
        if type(item) not in (str, int):
            raise AnswerError(f"`{name}` should hold plain strings or integers, but one item is a {type(item).__name__} ({_short(item)}).")
    if len(set(items)) != len(items):
        raise AnswerError(f"`{name}` lists an item more than once; list each one once.")
    if set(items) != wanted:
        extra = hint or "Some items are missing or do not belong; check each one against the question."
        raise AnswerError(_wrong(name, items, sorted(wanted, key=str), extra, reveal))


def _wrong(name: str, value: Any, expected: Any, hint: str, reveal: bool) -> str:
    message = f"`{name}` is not right yet."
    if hint:
        message += f" {hint}"
    if reveal:
        message += f" Expected {_short(expected)}, got {_short(value)}."
    return message
