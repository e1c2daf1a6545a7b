"""The course website: every lesson readable in a browser, offline, searchable, with launch buttons.

``kzcourse site OUT`` (or ``make site``) builds it from the student editions; the
instructor edition (``--instructor``) is a separate, explicit build. See
:mod:`kzcourse.site.build` for the layout, :mod:`kzcourse.site.render` for how notebooks
become pages and :mod:`kzcourse.site.article` for the annotated article.
"""
from __future__ import annotations

from typing import Any

__all__ = ["build_site", "Launch", "SiteError", "student_editions"]


def __getattr__(name: str) -> Any:
    if name in ("build_site", "Launch", "Site"):
        from kzcourse.site import build

        return getattr(build, name)
    if name in ("SiteError", "student_editions"):
        from kzcourse.site import editions

        return getattr(editions, name)
    raise AttributeError(name)
