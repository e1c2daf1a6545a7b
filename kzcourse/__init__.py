"""kzcourse: Kazakhstan, January 2022 — a cited dataset, maps, actor networks and lessons.

Importing the package is cheap: pandas, folium, plotly and networkx load only when
a submodule that needs them is first used (``kzcourse.data``, ``kzcourse.maps``, ...).

>>> import kzcourse
>>> kzcourse.__version__
'0.1.0'
"""
from __future__ import annotations

import importlib
from typing import Any

from kzcourse.errors import KzCourseError

__version__ = "0.1.0"
__all__ = ["KzCourseError", "__version__", "data", "geo", "network", "maps", "charts", "explore"]

_SUBMODULES = {"data", "geo", "network", "maps", "charts", "explore"}


def __getattr__(name: str) -> Any:
    """Load a submodule the first time ``kzcourse.<name>`` is used."""
    if name in _SUBMODULES:
        return importlib.import_module(f"kzcourse.{name}")
    raise AttributeError(f"module 'kzcourse' has no attribute {name!r}")
