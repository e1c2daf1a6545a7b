"""What every kzcourse map is made of: styles, markers, legends, the basemap, the text alternative.

The builders (:mod:`kzcourse.maps.almaty`, :mod:`.border`, :mod:`.spread`) only combine these.
"""
from __future__ import annotations

import datetime as _dt
import functools
import html
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kzcourse import data, geo
from kzcourse._style import EVENT_TYPE_COLOURS, OKABE_ITO
from kzcourse.errors import InputTypeError

if TYPE_CHECKING:  # pragma: no cover
    import folium
    import pandas as pd


#: Layers of :func:`almaty_map`, in drawing order (bottom to top).
LAYERS: tuple[str, ...] = ("countries", "city", "sites", "events")
#: Names :func:`describe` accepts for building a map by name.
MAP_NAMES: tuple[str, ...] = ("almaty", "border", "spread")
#: Places marked on :func:`border_map`: each entry lists the place_ids tried, first found wins.
BORDER_PLACES: tuple[tuple[str, ...], ...] = (
    ("almaty",),
    ("nur_sultan", "astana", "nursultan"),
    ("zhanaozen",),
    ("aktau",),
    ("moscow",),
)

_ASSETS = "assets"
_OSM_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
_NE_ATTRIBUTION = "Borders: Natural Earth (public domain)"


# --------------------------------------------------------------------------- styles
@dataclass(frozen=True)
class MarkerStyle:
    """How one category of marker looks: a colour, a shape and a legend label."""

    colour: str
    shape: str
    label: str
    size: int = 18


#: Place kinds: colour and shape both differ (the legend shows them).
PLACE_STYLES: dict[str, MarkerStyle] = {
    "city": MarkerStyle(OKABE_ITO["black"], "star", "City", 24),
    "capital": MarkerStyle(OKABE_ITO["blue"], "star", "Capital", 24),
    "site": MarkerStyle(OKABE_ITO["bluish_green"], "pin", "Site in the city", 22),
    "region": MarkerStyle(OKABE_ITO["reddish_purple"], "hexagon", "Region", 20),
}
#: Event types: the course's colour per ACLED type plus a shape per type.
EVENT_SHAPES: dict[str, str] = {
    "Protests": "circle",
    "Riots": "triangle",
    "Violence against civilians": "diamond",
    "Battles": "cross",
    "Strategic developments": "square",
}


def _event_style(event_type: str) -> MarkerStyle:
    return MarkerStyle(EVENT_TYPE_COLOURS.get(event_type, OKABE_ITO["black"]), EVENT_SHAPES.get(event_type, "circle"), event_type, 14)


_SHAPES: dict[str, str] = {
    # Paths in a 24 x 24 box; stroke and fill are set by _svg.
    "circle": '<circle cx="12" cy="12" r="9"/>',
    "square": '<rect x="4" y="4" width="16" height="16"/>',
    "triangle": '<polygon points="12,3 22,20 2,20"/>',
    "diamond": '<polygon points="12,2 22,12 12,22 2,12"/>',
    "cross": '<polygon points="9,2 15,2 15,9 22,9 22,15 15,15 15,22 9,22 9,15 2,15 2,9 9,9"/>',
    "star": '<polygon points="12,1.5 14.9,8.6 22.5,9.2 16.7,14.1 18.5,21.6 12,17.5 5.5,21.6 7.3,14.1 1.5,9.2 9.1,8.6"/>',
    "hexagon": '<polygon points="12,2 21,7 21,17 12,22 3,17 3,7"/>',
    "pin": '<path d="M12 23 C12 23 4 14 4 9 A8 8 0 0 1 20 9 C20 14 12 23 12 23 Z"/><circle cx="12" cy="9" r="3" fill="#fff"/>',
    "arrowhead": '<polygon points="22,12 4,3 9,12 4,21"/>',
}


def _svg(shape: str, colour: str, size: int, *, rotate: float = 0.0, title: str = "") -> str:
    """An inline SVG marker: ``shape`` filled with ``colour``, a white outline for contrast."""
    turn = f' style="transform:rotate({rotate:.1f}deg)"' if rotate else ""
    label = f"<title>{html.escape(title)}</title>" if title else ""
    # Without a title (legend swatches, named by the text beside them) the symbol is decorative.
    name = f'role="img" aria-label="{html.escape(title)}"' if title else 'aria-hidden="true"'
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="{size}" height="{size}"{turn} '
        f'{name}>{label}'
        f'<g fill="{colour}" stroke="#ffffff" stroke-width="1.5" stroke-linejoin="round">{_SHAPES[shape]}</g></svg>'
    )


# --------------------------------------------------------------------------- text alternative
@dataclass
class MapDescription:
    """A map's text alternative: a caption and a table of what it shows.

    ``str(description)`` gives the caption followed by the table as text; in a
    notebook the description renders as a caption above an HTML table.
    """

    caption: str
    table: "pd.DataFrame"
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        body = self.table.to_string(index=False) if len(self.table) else "(the table is empty)"
        notes = "".join(f"\nNote: {n}" for n in self.notes)
        return f"{self.caption}\n\n{body}{notes}"

    def _repr_html_(self) -> str:
        notes = "".join(f"<p><em>Note:</em> {html.escape(n)}</p>" for n in self.notes)
        return f"<figure><figcaption>{html.escape(self.caption)}</figcaption>{self.table.to_html(index=False)}{notes}</figure>"


# --------------------------------------------------------------------------- data helpers
def _load(name: str, folder: str | Path | None) -> "pd.DataFrame":
    """A table, shared between calls: maps only read it (never change the frame returned)."""
    return data._shared_frame(name, folder)


def _day_label(day: _dt.date | "pd.Timestamp") -> str:
    return f"{day.day} {day:%B %Y}"


def _short_day(day: Any) -> str:
    return f"{day.day} {day:%b}"


def _esc(value: Any) -> str:
    return html.escape("" if value is None else str(value))


# --------------------------------------------------------------------------- folium plumbing
@functools.lru_cache(maxsize=None)
def _asset(name: str) -> str:
    return (Path(str(resources.files("kzcourse"))) / _ASSETS / name).read_text(encoding="utf-8")


OFFLINE_ENV = "KZCOURSE_OFFLINE"


def resolve_offline(offline: bool | None = None) -> bool:
    """Decide whether a map is built offline.

    ``True``/``False`` win; ``None`` reads the ``KZCOURSE_OFFLINE`` environment
    variable (``1``, ``true``, ``yes`` mean offline; unset or ``0``, ``false``, ``no`` online).

    >>> resolve_offline(True), resolve_offline(False)
    (True, False)
    >>> resolve_offline("yes")
    Traceback (most recent call last):
    ...
    kzcourse.errors.InputTypeError: offline should be True, False or None, got 'yes' (str).
    """
    import os

    from kzcourse._validate import describe
    from kzcourse.errors import DataError, InputTypeError

    if offline is None:
        raw = os.environ.get(OFFLINE_ENV, "").strip().lower()
        if raw in ("", "0", "false", "no"):
            return False
        if raw in ("1", "true", "yes"):
            return True
        raise DataError(
            f"The environment variable {OFFLINE_ENV} is {raw!r}; expected 1/true/yes (offline maps) "
            "or 0/false/no (online maps). Fix it where the server is started."
        )
    if isinstance(offline, bool):
        return offline
    raise InputTypeError(f"offline should be True, False or None, got {describe(offline)}.")


def _new_map(*, offline: bool, title: str, location=(48.0, 67.0), zoom_start: int = 4, **kwargs: Any) -> "folium.Map":
    """A folium Map with kzcourse's basemap choice; offline assets are set on this instance only."""
    import folium
    from branca.element import Element

    m = folium.Map(
        location=list(location),
        zoom_start=zoom_start,
        tiles=None if offline else "OpenStreetMap",
        attr=None if offline else _OSM_ATTRIBUTION,
        control_scale=True,
        prefer_canvas=False,
        **kwargs,
    )
    root = m.get_root()
    root.title = title
    if offline:
        # Instance attributes shadow the class lists: folium's module defaults stay untouched.
        m.default_js = []
        m.default_css = []
        root.header.add_child(Element(f"<style>{_asset('leaflet.css')}</style>"), name="kz_leaflet_css")
        root.header.add_child(Element(f"<script>{_asset('leaflet.js')}</script>"), name="kz_leaflet_js")
        root.header.add_child(Element("<style>.leaflet-container{background:#e8f1f8;}</style>"), name="kz_sea")
    root.header.add_child(Element(_KZ_CSS), name="kz_css")
    m.kz_offline = offline
    return m


_KZ_CSS = """<style>
.kz-marker{background:none;border:none;}
.kz-marker svg{display:block;overflow:visible;filter:drop-shadow(0 0 1px #333);}
.kz-label{background:none;border:none;font:bold 12px/1.1 sans-serif;color:#000;
  text-shadow:0 0 3px #fff,0 0 3px #fff,0 0 3px #fff;white-space:nowrap;}
.kz-legend,.kz-slider{background:#fff;padding:6px 8px;border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.4);
  font:12px/1.4 sans-serif;color:#000;}
.kz-legend h4{margin:0 0 4px;font-size:13px;}
.kz-legend div{display:flex;align-items:center;gap:6px;}
.kz-slider input{width:180px;vertical-align:middle;}
.kz-sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;}
.kz-popup h4{margin:0 0 4px;} .kz-popup ul{margin:4px 0;padding-left:16px;} .kz-popup .kz-cite{color:#444;font-size:11px;}
</style>"""


@functools.lru_cache(maxsize=None)
def _macro_class(name: str, template: str) -> type:
    """A branca MacroElement subclass rendering ``template``, compiled once per process."""
    from branca.element import MacroElement
    from jinja2 import Template

    return type(name, (MacroElement,), {"_template": Template(template)})


def _macro(template: str, **attrs: Any):
    """An element rendering ``template`` (a Jinja ``script``/``html`` macro block) with ``attrs``."""
    name = attrs.pop("name", "KzElement")
    element = _macro_class(name, template)()
    element._name = name
    for key, value in attrs.items():
        setattr(element, key, value)
    return element


def _legend(title: str, entries: list[tuple[str, str]], credit: str, caption: str):
    """A Leaflet control listing ``(svg, label)`` entries, plus a hidden caption for screen readers."""
    rows = "".join(f"<div>{svg}<span>{html.escape(label)}</span></div>" for svg, label in entries)
    body = f'<h4>{html.escape(title)}</h4>{rows}<p class="kz-sr-only">{html.escape(caption)}</p>'
    return _macro(
        """{% macro script(this, kwargs) %}
        (function () {
            var legend = L.control({position: "bottomright"});
            legend.onAdd = function () {
                var div = L.DomUtil.create("div", "kz-legend");
                div.setAttribute("role", "region");
                div.setAttribute("aria-label", "Legend");
                div.innerHTML = {{ this.body|tojson }};
                return div;
            };
            legend.addTo({{ this._parent.get_name() }});
            {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.credit|tojson }});
        })();
        {% endmacro %}""",
        name="KzLegend",
        body=body,
        credit=credit,
    )


def _marker(location, style: MarkerStyle, *, tooltip: str, popup: str | None = None, css: str = "", rotate: float = 0.0):
    import folium

    icon = folium.DivIcon(
        html=_svg(style.shape, style.colour, style.size, rotate=rotate, title=tooltip),
        icon_size=(style.size, style.size),
        icon_anchor=(style.size // 2, style.size - 1 if style.shape == "pin" else style.size // 2),
        class_name=f"kz-marker {css}".strip(),
    )
    marker = folium.Marker(location=[float(location[0]), float(location[1])], icon=icon)
    marker.add_child(_bind(tooltip, popup))
    return marker


_BIND_JS = """{% macro script(this, kwargs) %}
    {%- if this.tooltip %}
    {{ this._parent.get_name() }}.bindTooltip({{ this.tooltip|tojson }}, {sticky: true});
    {%- endif %}
    {%- if this.content %}
    {{ this._parent.get_name() }}.bindPopup({{ this.content|tojson }}, {maxWidth: {{ this.max_width }}});
    {%- endif %}
{% endmacro %}"""


def _bind(tooltip: str | None, popup: str | None, max_width: int = 360):
    """Tooltip and popup bound with plain Leaflet (folium's Popup needs jQuery, which offline maps do not ship)."""
    return _macro(_BIND_JS, name="KzBind", tooltip=tooltip, content=popup, max_width=int(max_width))


def _countries_layer(*, highlight: dict[str, str] | None = None, name: str = "Countries (Natural Earth)", show: bool = True):
    """The Natural Earth polygons as one GeoJson layer; Kazakhstan is outlined strongly."""
    import folium

    highlight = highlight or {}

    def style(feature: dict[str, Any]) -> dict[str, Any]:
        code = feature["properties"]["iso_a3"]
        if code in highlight:
            return {"fillColor": highlight[code], "fillOpacity": 0.35, "color": "#333333", "weight": 1.2, "dashArray": "4 3"}
        if code == "KAZ":
            return {"fillColor": OKABE_ITO["yellow"], "fillOpacity": 0.25, "color": "#000000", "weight": 2}
        return {"fillColor": "#f7f7f7", "fillOpacity": 0.8, "color": "#777777", "weight": 0.8}

    return folium.GeoJson(
        geo.countries(),
        name=name,
        style_function=style,
        tooltip=folium.GeoJsonTooltip(fields=["name"], aliases=["Country"]),
        show=show,
    )


def _finish(m: "folium.Map", description: MapDescription) -> "folium.Map":
    """Attach the text alternative and give every element a stable id (deterministic HTML)."""
    m.kz_alt = description
    counter = 0

    def walk(element: Any) -> None:
        nonlocal counter
        for child in list(element._children.values()):
            counter += 1
            child._id = f"{counter:04d}"
            walk(child)

    root = m.get_root()
    root._id = "0000"
    walk(root)
    return m


def _fit(m: "folium.Map", points: list[tuple[float, float]], *, zoom_if_single: int = 12, pad: float = 0.0) -> None:
    if not points:
        return
    lats = [p[0] for p in points]
    lons = [p[1] for p in points]
    if len(set(points)) == 1:
        m.location = [lats[0], lons[0]]
        m.options["zoom"] = zoom_if_single
        return
    m.location = [(min(lats) + max(lats)) / 2, (min(lons) + max(lons)) / 2]
    m.fit_bounds([[min(lats) - pad, min(lons) - pad], [max(lats) + pad, max(lons) + pad]])


@functools.lru_cache(maxsize=None)
def _bbox_corners_cached(code: str) -> tuple[tuple[float, float], ...]:
    return tuple(_bbox_corners_uncached(code))


def _bbox_corners(code: str) -> list[tuple[float, float]]:
    return list(_bbox_corners_cached(code))


def _bbox_corners_uncached(code: str) -> list[tuple[float, float]]:
    """South-west and north-east corners (lat, lon) of a shipped country polygon."""
    for feature in geo.countries()["features"]:
        if feature["properties"]["iso_a3"] == code:
            geom = feature["geometry"]
            polys = [geom["coordinates"]] if geom["type"] == "Polygon" else geom["coordinates"]
            xs = [x for poly in polys for x, _ in poly[0]]
            ys = [y for poly in polys for _, y in poly[0]]
            return [(min(ys), min(xs)), (max(ys), max(xs))]
    return []


@functools.lru_cache(maxsize=None)
def _kaz_point() -> tuple[float, float]:
    """A point inside Kazakhstan: the area-weighted centroid of its largest polygon ring (lat, lon)."""
    for feature in geo.countries()["features"]:
        if feature["properties"]["iso_a3"] == "KAZ":
            return _centroid(feature["geometry"])
    raise AssertionError("countries_110m.geojson has no KAZ feature")  # pragma: no cover


def _centroid(geometry: dict[str, Any]) -> tuple[float, float]:
    polys = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    best = (0.0, 0.0, 0.0)
    for poly in polys:
        ring = poly[0]
        a = cx = cy = 0.0
        for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1]):
            cross = x1 * y2 - x2 * y1
            a += cross
            cx += (x1 + x2) * cross
            cy += (y1 + y2) * cross
        if abs(a) > abs(best[0]):
            best = (a, cx / (3 * a), cy / (3 * a))
    return best[2], best[1]


def _country_points(codes: Iterable[str]) -> dict[str, tuple[float, float]]:
    points = _all_country_points()
    return {code: points[code] for code in codes if code in points}


@functools.lru_cache(maxsize=None)
def _all_country_points() -> dict[str, tuple[float, float]]:
    return {f["properties"]["iso_a3"]: _centroid(f["geometry"]) for f in geo.countries()["features"]}


def _mercator_angle(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Screen angle (degrees clockwise from east) of the segment a→b on a Web Mercator map."""
    def y(lat: float) -> float:
        return math.degrees(math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)))

    return -math.degrees(math.atan2(y(b[0]) - y(a[0]), b[1] - a[1]))


