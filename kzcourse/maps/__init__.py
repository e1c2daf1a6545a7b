"""Maps of the January 2022 crisis, built with folium.

Every builder returns a :class:`folium.Map` and never displays it; the notebook
decides what to show. Each map carries a text alternative — a caption and a
table of what it shows — that :func:`describe` returns.

=====================  ==========================================================
builder                what it shows
=====================  ==========================================================
:func:`almaty_map`     Almaty's sites, what happened there and when (1-19 January)
:func:`border_map`     Kazakhstan, its neighbours and the border with Russia
:func:`spread_map`     where the protests began and spread; the CSTO contingents
=====================  ==========================================================

All builders take ``offline``: ``False`` draws OpenStreetMap tiles and
links Leaflet from folium's usual CDN; ``True`` inlines a vendored Leaflet
(the repository's ``assets/``, shipped as ``kzcourse/assets``) and uses the Natural Earth country polygons as the only
basemap, so a saved HTML file opens with no network at all. ``None`` (the
default) means online, unless the environment variable ``KZCOURSE_OFFLINE`` is
``1``/``true``/``yes`` — how a classroom behind a firewall (or a JupyterHub
without internet) switches every map in every lesson to offline at once.

Markers are inline SVG shapes: colour *and* shape tell kinds apart (Okabe–Ito
palette), so the maps stay readable without colour vision.

>>> from kzcourse import maps
>>> m = maps.border_map(offline=True)
>>> type(m).__name__
'Map'
>>> maps.describe(m).caption.startswith("Kazakhstan, its neighbours")
True
"""
from __future__ import annotations

from typing import Any

from kzcourse._validate import check_choice
from kzcourse.errors import InputTypeError
from kzcourse.maps._draw import (
    BORDER_PLACES,
    EVENT_SHAPES,
    LABEL_ZOOMS,
    LAYERS,
    MAP_NAMES,
    OFFLINE_ENV,
    PLACE_STYLES,
    MapDescription,
    MarkerStyle,
    resolve_offline,
)
from kzcourse.maps.almaty import almaty_map
from kzcourse.maps.border import border_map
from kzcourse.maps.spread import spread_map
from kzcourse.queries import ALMATY

__all__ = [
    "ALMATY",
    "OFFLINE_ENV",
    "LAYERS",
    "MAP_NAMES",
    "MapDescription",
    "almaty_map",
    "border_map",
    "describe",
    "resolve_offline",
    "spread_map",
]


def describe(m_or_name: Any) -> MapDescription:
    """Return the text alternative of a map built by :mod:`kzcourse.maps`.

    Parameters
    ----------
    m_or_name : folium.Map or str
        A map returned by a builder, or one of :data:`MAP_NAMES` to build that
        map (with its default arguments) and describe it.

    Returns
    -------
    MapDescription
        ``.caption`` (str) and ``.table`` (pandas.DataFrame).

    Examples
    --------
    >>> d = describe("border")
    >>> list(d.table.columns)[:3]
    ['feature', 'kind', 'value']
    >>> describe("almati")
    Traceback (most recent call last):
    ...
    kzcourse.errors.ChoiceError: Unknown map name 'almati' (str). Did you mean 'almaty'? Valid choices: 'almaty', 'border', 'spread'.
    """
    if isinstance(m_or_name, str):
        name = check_choice(m_or_name, MAP_NAMES, what="map name")
        return {"almaty": almaty_map, "border": border_map, "spread": spread_map}[name]().kz_alt
    alt = getattr(m_or_name, "kz_alt", None)
    if isinstance(alt, MapDescription):
        return alt
    raise InputTypeError(
        f"Expected a map built by kzcourse.maps (almaty_map, border_map, spread_map) or one of the names "
        f"{', '.join(repr(n) for n in MAP_NAMES)}, got {m_or_name!r} ({type(m_or_name).__name__})."
    )
