"""Shared checks that produce kzcourse's "expected / got / choices" messages.

>>> check_choice("almaty", ["almaty", "aktau"], what="place id")
'almaty'
>>> check_choice("almati", ["almaty", "aktau"], what="place id")
Traceback (most recent call last):
...
kzcourse.errors.ChoiceError: Unknown place id 'almati' (str). Did you mean 'almaty'? Valid choices: 'aktau', 'almaty'.
"""
from __future__ import annotations

import datetime as _dt
import difflib
from collections.abc import Iterable
from typing import Any

from kzcourse.errors import ChoiceError, InputTypeError

#: The first and last day the course's day-by-day views cover.
FIRST_DAY = _dt.date(2022, 1, 1)
LAST_DAY = _dt.date(2022, 1, 19)


def describe(value: Any) -> str:
    """Return ``repr(value)`` with its type, for error messages.

    >>> describe(3)
    '3 (int)'
    """
    return f"{value!r} ({type(value).__name__})"


def check_choice(value: Any, choices: Iterable[Any], *, what: str, hint: str = "") -> Any:
    """Return ``value`` if it is one of ``choices``; otherwise raise :class:`ChoiceError`.

    The message names the bad value, suggests the closest valid one and lists them all.
    """
    options = list(choices)
    if value in options:
        return value
    shown = ", ".join(repr(c) for c in sorted(options, key=str))
    near = difflib.get_close_matches(str(value), [str(c) for c in options], n=1)
    suggestion = f" Did you mean {near[0]!r}?" if near else ""
    extra = f" {hint}" if hint else ""
    raise ChoiceError(f"Unknown {what} {describe(value)}.{suggestion} Valid choices: {shown}.{extra}")


def check_choices(values: Iterable[Any] | None, choices: Iterable[Any], *, what: str) -> list[Any]:
    """Check every item of ``values`` with :func:`check_choice`; ``None`` means all choices.

    >>> check_choices(None, ["a", "b"], what="layer")
    ['a', 'b']
    >>> check_choices("a", ["a", "b"], what="layer")
    ['a']
    """
    options = list(choices)
    if values is None:
        return options
    if isinstance(values, str):
        values = [values]
    return [check_choice(v, options, what=what) for v in values]


def check_day(day: Any, *, first: _dt.date = FIRST_DAY, last: _dt.date = LAST_DAY) -> _dt.date:
    """Turn ``day`` into a :class:`datetime.date` within ``first``..``last``.

    Accepts a ``date``, a ``datetime``/``pandas.Timestamp``, an ISO string
    ``'2022-01-05'`` or an integer day of January 2022.

    >>> check_day(5)
    datetime.date(2022, 1, 5)
    >>> check_day("2022-01-19")
    datetime.date(2022, 1, 19)
    >>> check_day(25)
    Traceback (most recent call last):
    ...
    kzcourse.errors.ChoiceError: Day 25 (int) is outside the period the course covers: expected a day from 2022-01-01 to 2022-01-19 (an integer 1-19, an ISO date string such as '2022-01-05', or a datetime.date).
    """
    expected = (
        f"expected a day from {first.isoformat()} to {last.isoformat()} "
        f"(an integer {first.day}-{last.day}, an ISO date string such as '2022-01-05', or a datetime.date)"
    )
    if isinstance(day, bool):
        raise InputTypeError(f"Day {describe(day)} is not a day: {expected}.")
    if isinstance(day, int):
        if not first.day <= day <= last.day:
            raise ChoiceError(f"Day {describe(day)} is outside the period the course covers: {expected}.")
        return _dt.date(first.year, first.month, day)
    if isinstance(day, str):
        try:
            parsed = _dt.date.fromisoformat(day.strip())
        except ValueError:
            raise InputTypeError(f"Day {describe(day)} is not an ISO date: {expected}.") from None
    elif isinstance(day, _dt.datetime):
        parsed = day.date()
    elif isinstance(day, _dt.date):
        parsed = day
    elif hasattr(day, "to_pydatetime"):
        parsed = day.to_pydatetime().date()
    else:
        raise InputTypeError(f"Day {describe(day)} is not a day: {expected}.")
    if not first <= parsed <= last:
        raise ChoiceError(f"Day {describe(day)} is outside the period the course covers: {expected}.")
    return parsed
