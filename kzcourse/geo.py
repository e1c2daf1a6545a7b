"""Geography of the crisis: distances between places and the length of borders.

Every distance is *geodesic*: the shortest path on the WGS84 ellipsoid, computed
with Charles Karney's algorithm (``geographiclib``), accurate to a few nanometres.
A border's length is the sum of the geodesic lengths of its straight segments,
so it depends on how detailed the line is — the 1:10 million Natural Earth line
has more bends than the 1:110 million one, and so it is longer (the "coastline
paradox" the border lesson discusses).

The geometry is shipped in ``kzcourse/data/geo/`` (see its ``SOURCE.md``; rebuilt
by ``scripts/build_borders.py``).

>>> from kzcourse.geo import border_length_km, geodesic_km
>>> round(border_length_km("110m"))
4730
>>> round(geodesic_km((43.238, 76.945), (55.756, 37.617)))  # Almaty to Moscow
3115
"""
from __future__ import annotations

import functools
import json
import math
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from kzcourse._validate import check_choice, describe
from kzcourse.errors import ChoiceError, InputTypeError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

#: Natural Earth scales the border is shipped at, most detailed first.
SCALES: tuple[str, ...] = ("10m", "50m", "110m")

#: ISO 3166-1 alpha-3 codes of the country polygons shipped (Kazakhstan first).
COUNTRY_CODES: tuple[str, ...] = ("KAZ", "RUS", "CHN", "KGZ", "UZB", "TKM", "MNG", "TJK", "AFG", "BLR", "ARM")

#: A place given either as a place_id of places.csv or as a (lat, lon) pair.
PlaceLike = Union[str, "tuple[float, float]"]


def geo_dir() -> Path:
    """Return the folder holding the packaged GeoJSON files.

    >>> (geo_dir() / "SOURCE.md").is_file()
    True
    """
    return Path(str(resources.files("kzcourse") / "data" / "geo"))


@functools.lru_cache(maxsize=None)
def _text(name: str) -> str:
    return (geo_dir() / name).read_text(encoding="utf-8")


def _read(name: str) -> dict[str, Any]:
    """A fresh parse of a packaged GeoJSON file (callers may change it)."""
    return json.loads(_text(name))


def countries() -> dict[str, Any]:
    """Return the country polygons (Natural Earth 1:110m) as a GeoJSON FeatureCollection.

    Each feature's ``properties`` hold ``iso_a3``, ``iso_n3`` and ``name``. The
    result is a fresh copy: changing it does not change the packaged file.

    Examples
    --------
    >>> [f["properties"]["iso_a3"] for f in countries()["features"]][:3]
    ['KAZ', 'RUS', 'CHN']
    """
    return _read("countries_110m.geojson")


def boundary_points(geometry: dict[str, Any]) -> set[tuple[float, float]]:
    """Return every ``(lon, lat)`` point of a GeoJSON ``Polygon`` or ``MultiPolygon`` as a set.

    A ``Polygon``'s coordinates are a list of rings (lists of ``[lon, lat]`` points); a
    ``MultiPolygon``'s are a list of polygons.

    >>> square = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}
    >>> sorted(boundary_points(square))
    [(0, 0), (1, 0), (1, 1)]
    >>> boundary_points({"type": "Point", "coordinates": [0, 0]})
    Traceback (most recent call last):
    ...
    kzcourse.errors.ChoiceError: Unknown geometry type 'Point' (str). Valid choices: 'MultiPolygon', 'Polygon'. A country outline is a Polygon or a MultiPolygon.
    """
    kind = check_choice(geometry.get("type") if isinstance(geometry, dict) else geometry,
                        ("Polygon", "MultiPolygon"), what="geometry type",
                        hint="A country outline is a Polygon or a MultiPolygon.")
    polygons = geometry["coordinates"] if kind == "MultiPolygon" else [geometry["coordinates"]]
    return {tuple(point) for polygon in polygons for ring in polygon for point in ring}


def neighbours(iso_a3: str) -> set[str]:
    """Return the ISO codes of the shipped countries that share a boundary point with ``iso_a3``.

    All outlines of :func:`countries` come from one topology, so two countries with a
    common border share the exact same boundary points; a country that only comes close
    (Mongolia to Kazakhstan) shares none. The country itself is not its own neighbour.

    >>> sorted(neighbours("KAZ"))
    ['CHN', 'KGZ', 'RUS', 'TKM', 'UZB']
    >>> neighbours("MON")
    Traceback (most recent call last):
    ...
    kzcourse.errors.ChoiceError: Unknown country code 'MON' (str). Did you mean 'MNG'? Valid choices: 'AFG', 'ARM', 'BLR', 'CHN', 'KAZ', 'KGZ', 'MNG', 'RUS', 'TJK', 'TKM', 'UZB'. Use a three-letter ISO code such as 'KAZ'.
    """
    check_choice(iso_a3, COUNTRY_CODES, what="country code", hint="Use a three-letter ISO code such as 'KAZ'.")
    points = {f["properties"]["iso_a3"]: boundary_points(f["geometry"]) for f in countries()["features"]}
    return {code for code, shared in points.items() if code != iso_a3 and shared & points[iso_a3]}


def check_scale(scale: Any) -> str:
    """Return ``scale`` if it is one of :data:`SCALES`, else raise :class:`~kzcourse.errors.ChoiceError`.

    >>> check_scale("50m")
    '50m'
    """
    return check_choice(scale, SCALES, what="Natural Earth scale", hint="Write the scale as text, e.g. '110m'.")


def border_feature(scale: str = "110m") -> dict[str, Any]:
    """Return the Kazakhstan–Russia border at one scale as a GeoJSON Feature.

    Parameters
    ----------
    scale : {'10m', '50m', '110m'}
        Natural Earth scale: 1:10, 1:50 or 1:110 million.

    Examples
    --------
    >>> f = border_feature("110m")
    >>> f["geometry"]["type"], f["properties"]["countries"]
    ('LineString', ['KAZ', 'RUS'])
    """
    check_scale(scale)
    for feature in _read("kaz_rus_border.geojson")["features"]:
        if feature["properties"]["scale"] == scale:
            return feature
    raise ChoiceError(f"kaz_rus_border.geojson has no feature for scale {scale!r}; rebuild it with scripts/build_borders.py.")


def _lines(geometry: dict[str, Any]) -> list[list[list[float]]]:
    if geometry["type"] == "LineString":
        return [geometry["coordinates"]]
    return list(geometry["coordinates"])


def line_length_km(coordinates: list[list[float]]) -> float:
    """Geodesic length in km of a line given as GeoJSON ``[lon, lat]`` pairs.

    >>> round(line_length_km([[0, 0], [1, 0]]), 3)  # one degree along the equator
    111.319
    """
    from geographiclib.geodesic import Geodesic

    wgs84 = Geodesic.WGS84
    total = 0.0
    for (lon1, lat1), (lon2, lat2) in zip(coordinates, coordinates[1:]):
        total += wgs84.Inverse(lat1, lon1, lat2, lon2, Geodesic.DISTANCE)["s12"]
    return total / 1000.0


@functools.lru_cache(maxsize=None)
def border_length_km(scale: str = "110m") -> float:
    """Geodesic length of the Kazakhstan–Russia border, in kilometres, on WGS84.

    Parameters
    ----------
    scale : {'10m', '50m', '110m'}
        Which Natural Earth line to measure. More detail gives a longer line.

    Returns
    -------
    float
        Sum of the geodesic lengths of the line's segments.

    Raises
    ------
    kzcourse.errors.ChoiceError
        If ``scale`` is not one of :data:`SCALES`.

    Examples
    --------
    >>> [round(border_length_km(s)) for s in SCALES]
    [6661, 5459, 4730]
    >>> border_length_km(10)
    Traceback (most recent call last):
    ...
    kzcourse.errors.ChoiceError: Unknown Natural Earth scale 10 (int). Did you mean '10m'? Valid choices: '10m', '110m', '50m'. Write the scale as text, e.g. '110m'.
    """
    feature = border_feature(scale)
    return sum(line_length_km(line) for line in _lines(feature["geometry"]))


def geodesic_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Geodesic distance in km between two ``(lat, lon)`` points on WGS84.

    >>> round(geodesic_km((0, 0), (0, 1)), 3)
    111.319
    """
    from geographiclib.geodesic import Geodesic

    return Geodesic.WGS84.Inverse(a[0], a[1], b[0], b[1], Geodesic.DISTANCE)["s12"] / 1000.0


def _places(folder: str | Path | None = None) -> "pd.DataFrame":
    from kzcourse import data

    return data.load("places", folder=folder)


def place_location(place: PlaceLike, *, folder: str | Path | None = None) -> tuple[float, float]:
    """Return ``(lat, lon)`` of a place_id, or check and return a ``(lat, lon)`` pair.

    Raises
    ------
    kzcourse.errors.ChoiceError
        For a place_id that is not in places.csv (the message lists the valid ids).
    kzcourse.errors.InputTypeError
        For anything that is neither a string nor a pair of numbers.

    Examples
    --------
    >>> place_location((43.238, 76.945))
    (43.238, 76.945)
    """
    if isinstance(place, str):
        places = _places(folder)
        check_choice(place, list(places["place_id"]), what="place id", hint="See kzcourse.data.load('places').")
        row = places.loc[places["place_id"] == place].iloc[0]
        return float(row["lat"]), float(row["lon"])
    if isinstance(place, (tuple, list)) and len(place) == 2:
        try:
            lat, lon = float(place[0]), float(place[1])
        except (TypeError, ValueError):
            lat = lon = math.nan
        if -90 <= lat <= 90 and -180 <= lon <= 180:
            return lat, lon
    raise InputTypeError(
        f"Expected a place id such as 'almaty' or a (lat, lon) pair of numbers in degrees, got {describe(place)}."
    )


def distance_km(place_a: PlaceLike, place_b: PlaceLike, *, folder: str | Path | None = None) -> float:
    """Geodesic distance in km between two places.

    Parameters
    ----------
    place_a, place_b : str or (float, float)
        A ``place_id`` from ``places.csv`` (e.g. ``'almaty'``, ``'moscow'``) or
        a ``(lat, lon)`` pair in decimal degrees.
    folder : str or Path, optional
        A folder with a copy of the data files (as for :func:`kzcourse.data.load`).

    Returns
    -------
    float
        Kilometres along the WGS84 ellipsoid.

    Raises
    ------
    kzcourse.errors.ChoiceError
        If a place id is unknown; the message lists the valid ids.

    Examples
    --------
    >>> beijing = (39.9042, 116.4074)
    >>> round(distance_km((43.238, 76.945), beijing))
    3281
    >>> distance_km("almati", beijing)
    Traceback (most recent call last):
    ...
    kzcourse.errors.ChoiceError: Unknown place id 'almati' (str)...
    """
    return geodesic_km(place_location(place_a, folder=folder), place_location(place_b, folder=folder))


def within_radius(
    place_id: str, km: float, *, include_self: bool = False, folder: str | Path | None = None
) -> "pd.DataFrame":
    """Places of ``places.csv`` within ``km`` kilometres of a place, nearest first.

    Parameters
    ----------
    place_id : str
        The centre, a ``place_id`` of ``places.csv`` (e.g. ``'almaty_republic_square'``).
    km : float
        Radius in kilometres (a positive number).
    include_self : bool, default False
        Whether to list the centre itself (at 0 km).
    folder : str or Path, optional
        A folder with a copy of the data files.

    Returns
    -------
    pandas.DataFrame
        The rows of ``places.csv`` that lie within the radius, with a
        ``distance_km`` column, sorted by distance (then by ``place_id``).

    Raises
    ------
    kzcourse.errors.ChoiceError
        If ``place_id`` is unknown.
    kzcourse.errors.InputTypeError
        If ``km`` is not a positive number.

    Examples
    --------
    >>> within_radius("nowhere", 5)
    Traceback (most recent call last):
    ...
    kzcourse.errors.ChoiceError: Unknown place id 'nowhere' (str)...
    >>> within_radius("nowhere", -5)
    Traceback (most recent call last):
    ...
    kzcourse.errors.InputTypeError: Radius -5 (int) is not a positive number of kilometres...
    """
    if isinstance(km, bool) or not isinstance(km, (int, float)) or not km > 0 or math.isinf(km):
        raise InputTypeError(f"Radius {describe(km)} is not a positive number of kilometres: pass e.g. 2 or 2.5.")
    centre = place_location(place_id, folder=folder)
    places = _places(folder)
    places["distance_km"] = [geodesic_km(centre, (lat, lon)) for lat, lon in zip(places["lat"], places["lon"])]
    keep = places["distance_km"] <= km
    if not include_self:
        keep &= places["place_id"] != place_id
    out = places.loc[keep].sort_values(["distance_km", "place_id"], kind="stable")
    return out.reset_index(drop=True)
