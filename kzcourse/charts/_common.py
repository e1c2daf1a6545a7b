"""What the chart builders share: the palette shortcuts, text wrapping, trace ids, labels, the base layout."""

from __future__ import annotations

import functools
import re
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kzcourse import network
from kzcourse._style import OKABE_ITO
from kzcourse._validate import check_choice


_O = OKABE_ITO


_HEIGHT = 720


_FONT = dict(family="Arial, Helvetica, sans-serif", size=12, color="#222222")


_HIGHLIGHT = _O["yellow"]


_CUT = "#8C8C8C"


def _wrap(text: str, width: int = 70) -> list[str]:
    """Lines of hover text; words (and hyphenated words) are never split, so joining with spaces restores the text."""
    return list(_wrapped(text, width))


@functools.lru_cache(maxsize=4096)
def _wrapped(text: str, width: int) -> tuple[str, ...]:
    # The same notes and citations recur in every phase and figure; textwrap is slow enough to matter.
    return tuple(textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False))


def _uid(*parts: str) -> str:
    """A stable trace uid (plotly would otherwise make random ones in the browser), usable in CSS classes."""
    return re.sub(r"[^a-z0-9]+", "-", "-".join(parts).lower()).strip("-")


def _check_size_by(size_by: Any) -> str:
    return check_choice(size_by, network.CENTRALITIES, what="centrality",
                        hint="Node sizes can follow one of the columns of kzcourse.network.centrality_table.")


def short_label(name: str) -> str:
    """Return the short label a chart writes next to an actor (the hover shows the full name).

    An acronym in brackets stands for the name; other bracketed words are dropped;
    names longer than 30 characters become the initials of their capitalised words.

    >>> short_label("National Security Committee (KNB)")
    'KNB'
    >>> short_label("National Defense University (US)")
    'National Defense University'
    >>> short_label("Collective Security Treaty Organization")
    'CSTO'
    >>> short_label("Protesters")
    'Protesters'
    """
    base = name
    if "(" in name and name.rstrip().endswith(")"):
        inside = name[name.rindex("(") + 1:name.rstrip().rindex(")")]
        if len(inside) >= 3 and inside.isalpha() and inside.isupper():
            return inside
        base = name[:name.rindex("(")].strip()
    if len(base) <= 30:
        return base
    capitals = [w for w in base.split() if w[:1].isupper()]
    return "".join(w[0] for w in capitals) if len(capitals) >= 3 else base


def _person_label(name: str, kind: str) -> str:
    return name.split()[-1] if kind == "person" else short_label(name)


def _scatter(**props: Any) -> dict[str, Any]:
    """A scatter trace as a plain dict, without the properties left unset (``None``).

    Plotly validates a trace each time a figure takes it, also when it was a
    ``go.Scatter`` already; handing the figure dicts validates every trace once.
    """
    return {"type": "scatter", **{k: v for k, v in props.items() if v is not None}}


def _merge(into: dict[str, Any], updates: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``updates`` into the plain dict ``into`` the way ``fig.update_layout`` merges (nested dicts key by key)."""
    for key, value in updates.items():
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = dict(value) if isinstance(value, Mapping) else value
    return into


def _base_layout(title: str, meta: dict[str, Any], *, folder: str | Path | None = None, template: Any = None,
                 **extra: Any) -> dict[str, Any]:
    """The layout every builder shares; a data ``folder`` other than the packaged one is noted in ``meta``.

    ``template=None`` lets plotly apply its default template when the figure is made (the
    timeline's grid comes from it); the network charts pass ``{}``, no template: they set
    every colour, font and margin they use and hide their axes, and plotly's default
    template would cost a JSON load in each kernel and 7 KB in each figure's output.
    """
    if folder is not None:
        meta["folder"] = str(folder)
    return dict(
        title=dict(text=title, x=0.01, xanchor="left"), meta=meta, height=_HEIGHT, font=dict(_FONT),
        template=template, paper_bgcolor="white", plot_bgcolor="white", hovermode="closest",
        hoverlabel=dict(bgcolor="white", font=dict(size=12), align="left"),
        legend=dict(groupclick="toggleitem", itemsizing="constant", tracegroupgap=3),
        margin=dict(l=10, r=10, t=60, b=10), **extra,
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")
