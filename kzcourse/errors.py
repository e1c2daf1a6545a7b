"""The one error family of kzcourse.

Every error a student or instructor can trigger through kzcourse is a
:class:`KzCourseError` (or a subclass), and its message says what was expected,
what arrived and how to fix it.

>>> from kzcourse.errors import KzCourseError
>>> issubclass(DataError, KzCourseError)
True
"""
from __future__ import annotations


class KzCourseError(Exception):
    """Base class of every error raised by kzcourse on bad input."""


class DataError(KzCourseError, ValueError):
    """A dataset file does not match its schema or refers to something missing."""


class ChoiceError(KzCourseError, ValueError):
    """A value is not one of the allowed choices (unknown id, table, layer, ...)."""


class InputTypeError(KzCourseError, TypeError):
    """A value has the wrong type."""
