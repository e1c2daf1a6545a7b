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
(``kzcourse/assets``) and uses the Natural Earth country polygons as the only
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

import datetime as _dt
import functools
import html
import math
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kzcourse import data, geo, queries
from kzcourse.queries import ALMATY
from kzcourse._style import EVENT_TYPE_COLOURS, OKABE_ITO
from kzcourse._validate import FIRST_DAY, LAST_DAY, check_choice, check_choices, check_day
from kzcourse.errors import InputTypeError

if TYPE_CHECKING:  # pragma: no cover
    import folium
    import pandas as pd

__all__ = [
    "ALMATY",
    "LAYERS",
    "MAP_NAMES",
    "MapDescription",
    "almaty_map",
    "border_map",
    "describe",
    "spread_map",
]

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


# --------------------------------------------------------------------------- Almaty
def _event_popup(e: Any, cite: Callable[[str], str]) -> str:
    approx = {2: " (date known to within a week)", 3: " (date known to within a month)"}.get(int(e.time_precision), "")
    deaths = "" if str(e.fatalities) in ("<NA>", "nan", "None") else f"<br>Deaths reported: {int(e.fatalities)}"
    return (
        f'<div class="kz-popup"><h4>{_esc(_day_label(e.event_date))}{_esc(approx)}</h4>'
        f"<b>{_esc(e.event_type)}</b> — {_esc(e.sub_event_type)}<br>{_esc(e.notes)}{deaths}"
        f'<div class="kz-cite">Source: {_esc(cite(e.cite))}</div></div>'
    )


def _place_popup(place: Any, events: list, cite: Callable[[str], str]) -> str:
    """What happened at a site and on which days; each event's own popup holds its notes and sources."""
    items = "".join(
        f"<li><b>{_esc(_short_day(e.event_date))}</b>: {_esc(e.event_type)} ({_esc(e.sub_event_type.lower())})</li>"
        for e in events
    )
    when = (
        f"<p>Events here (click an event marker for details and sources):</p><ul>{items}</ul>"
        if events
        else "<p>No dated event here in the dataset.</p>"
    )
    return (
        f'<div class="kz-popup"><h4>{_esc(place.name)}</h4><p>{_esc(place.what_happened)}</p>{when}'
        f'<div class="kz-cite">Source: {_esc(cite(place.cite))}. Location: {_esc(place.precision)} '
        f"({_esc(cite(place.coord_cite))}).</div></div>"
    )


_SLIDER_JS = """{% macro script(this, kwargs) %}
(function () {
    var map = {{ this._parent.get_name() }};
    var items = [{% for marker, day, group in this.items %}
        [{{ marker.get_name() }}, {{ day }}, {{ group.get_name() }}],{% endfor %}
    ];
    var names = {{ this.labels|tojson }};
    var control = L.control({position: "bottomleft"});
    control.onAdd = function () {
        var div = L.DomUtil.create("div", "kz-slider");
        div.innerHTML = '<label>Day <input type="range" min="{{ this.first }}" max="{{ this.last }}" step="1" ' +
            'value="{{ this.last }}" aria-label="Day of January 2022 shown on the map"></label> <output></output>';
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.disableScrollPropagation(div);
        var input = div.querySelector("input"), output = div.querySelector("output");
        function show(day) {
            items.forEach(function (item) {
                var on = item[1] <= day, group = item[2];
                if (on && !group.hasLayer(item[0])) { group.addLayer(item[0]); }
                if (!on && group.hasLayer(item[0])) { group.removeLayer(item[0]); }
            });
            output.textContent = "up to " + names[day - {{ this.first }}];
        }
        input.addEventListener("input", function () { show(parseInt(input.value, 10)); });
        show({{ this.last }});
        return div;
    };
    control.addTo(map);
})();
{% endmacro %}"""


def almaty_map(
    day: Any = None,
    offline: bool | None = None,
    layers: Iterable[str] | str | None = None,
    event_types: Iterable[str] | str | None = None,
    *,
    folder: str | Path | None = None,
) -> "folium.Map":
    """Map of Almaty's sites in the crisis: what happened where, and on which days.

    Parameters
    ----------
    day : int, str or datetime.date, optional
        Show the state up to this day of January 2022 (1-19). ``None`` (default)
        shows all 19 days with a day slider on the map: drag it to replay them.
    offline : bool or None, default None
        None: online unless ``KZCOURSE_OFFLINE`` is set (see :func:`resolve_offline`).
        Inline a vendored Leaflet and use no tiles (see the module docstring).
    layers : str or list of str, optional
        Any of :data:`LAYERS`: ``'countries'`` (Natural Earth polygons),
        ``'city'`` (the city marker), ``'sites'`` (squares, markets, buildings),
        ``'events'`` (one marker per event). ``None`` means all of them offline,
        and all but ``'countries'`` online (where the tiles are the basemap).
    event_types : str or list of str, optional
        ACLED event types to show (``'Protests'``, ``'Riots'``, ...). ``None`` means all.
    folder : str or Path, optional
        A folder with a copy of the data files (as for :func:`kzcourse.data.load`).

    Returns
    -------
    folium.Map
        Not displayed. ``describe(m)`` gives its caption and table.

    Raises
    ------
    kzcourse.errors.ChoiceError
        For a day outside 1-19 January 2022, an unknown layer or event type.

    Examples
    --------
    >>> m = almaty_map(day=5, offline=True)
    >>> describe(m).caption[:34]
    'Almaty, up to 5 January 2022: the '
    >>> almaty_map(layers=["site"])
    Traceback (most recent call last):
    ...
    kzcourse.errors.ChoiceError: Unknown layer 'site' (str). Did you mean 'sites'? Valid choices: 'city', 'countries', 'events', 'sites'.
    """
    import folium
    import pandas as pd

    offline = resolve_offline(offline)
    day_ = None if day is None else check_day(day)
    if layers is None:  # online, the tiles are the basemap; offline, the country polygons are
        layers = LAYERS if offline else [name for name in LAYERS if name != "countries"]
    chosen_layers = check_choices(layers, LAYERS, what="layer")
    all_types = queries.all_event_types(folder)
    types = check_choices(event_types, all_types, what="event type")
    unfiltered = set(types) == set(all_types)  # choosing every type is the same as no filter
    in_city, window, chosen = queries.almaty_state(day_, types, folder)
    visible = queries.visible_rows(in_city, window, chosen, unfiltered)
    places = {p.place_id: p for p in in_city.itertuples(index=False)}
    events = {e.event_id: e for e in chosen.itertuples(index=False)}
    by_place: dict[str, list] = {}
    for e in events.values():
        by_place.setdefault(e.place_id, []).append(e)
    cite = data.citer(folder)

    when = "1-19 January 2022 (use the day slider)" if day_ is None else f"up to {_day_label(day_)}"
    title = f"Almaty, {when}"
    shown_types = "all event types" if unfiltered else ", ".join(types) or "no event types"
    caption = (
        f"{title}: the city and its sites named in the course's dataset, with what happened at each "
        f"and the events ({shown_types}) marked by type. Layers: {', '.join(chosen_layers) or 'none'}."
    )

    centre = (places[ALMATY].lat, places[ALMATY].lon) if ALMATY in places else _kaz_point()
    m = _new_map(offline=offline, title=title, location=centre, zoom_start=12)
    if "countries" in chosen_layers:
        _countries_layer(show=True).add_to(m)

    groups = {
        "city": folium.FeatureGroup(name="City", show=True),
        "sites": folium.FeatureGroup(name="Sites", show=True),
        "events": folium.FeatureGroup(name="Events", show=True),
    }
    slider_items = []
    table_rows = []
    for layer, key, name, first_day, lat, lon in visible:
        if layer not in chosen_layers:
            continue
        if layer == "events":
            e = events[key]
            tip = f"{_short_day(e.event_date)}: {e.event_type} at {places[e.place_id].name}"
            marker = _marker((lat, lon), _event_style(e.event_type), tooltip=tip, popup=_event_popup(e, cite), css="kz-event")
            what, source = e.notes, cite(e.cite)
        else:
            place = places[key]
            popup = _place_popup(place, by_place.get(key, []), cite)
            marker = _marker((lat, lon), PLACE_STYLES[place.kind], tooltip=place.name, popup=popup, css=f"kz-{place.kind}")
            what, source = place.what_happened, cite(place.cite)
        marker.add_to(groups[layer])
        if day_ is None and not pd.isna(first_day):
            slider_items.append((marker, int(first_day.day), groups[layer]))
        day_text = "" if pd.isna(first_day) else first_day.date().isoformat()
        table_rows.append((layer, key, name, day_text, what, source))
    for name in ("city", "sites", "events"):
        if name in chosen_layers:
            groups[name].add_to(m)

    entries = [(_svg(s.shape, s.colour, 16), s.label) for k, s in PLACE_STYLES.items() if k in ("city", "site")]
    if "events" in chosen_layers:
        entries += [(_svg(_event_style(t).shape, _event_style(t).colour, 14), t) for t in types]
    m.add_child(_legend("Almaty, January 2022", entries, _NE_ATTRIBUTION, caption))
    if day_ is None and slider_items:
        first = FIRST_DAY.day
        labels = [_day_label(_dt.date(2022, 1, d)) for d in range(first, LAST_DAY.day + 1)]
        m.add_child(_macro(_SLIDER_JS, name="KzDaySlider", items=slider_items, first=first, last=LAST_DAY.day, labels=labels))
    folium.LayerControl(collapsed=True).add_to(m)
    _fit(m, [(r[4], r[5]) for r in visible if r[0] in ("city", "sites")], pad=0.005)

    table = pd.DataFrame(table_rows, columns=["layer", "id", "name", "first_day", "what_happened", "source"])
    notes = [] if len(table) else ["The dataset has no Almaty places or events to show yet."]
    m.kz_layers = chosen_layers
    return _finish(m, MapDescription(caption, table, notes))


# --------------------------------------------------------------------------- border
def _find_place(places: "pd.DataFrame", candidates: tuple[str, ...]):
    for pid in candidates:
        hit = places.loc[places["place_id"] == pid]
        if len(hit):
            return hit.iloc[0]
    return None


def border_map(offline: bool | None = None, scale: str = "50m", *, folder: str | Path | None = None) -> "folium.Map":
    """Kazakhstan, its neighbours and the Kazakhstan–Russia border.

    The border is drawn as its own line (from Natural Earth at ``scale``); its
    tooltip gives its geodesic length at all three scales. Markers show Almaty,
    Nur-Sultan (Astana), Zhanaozen, Aktau and Moscow as found in ``places.csv``.

    Parameters
    ----------
    offline : bool or None, default None
        None: online unless ``KZCOURSE_OFFLINE`` is set (see :func:`resolve_offline`).
        Inline a vendored Leaflet and use no tiles.
    scale : {'10m', '50m', '110m'}, default '50m'
        Detail of the border line (the country polygons are always 1:110m).
    folder : str or Path, optional
        A folder with a copy of the data files.

    Returns
    -------
    folium.Map

    Examples
    --------
    >>> m = border_map(offline=True, scale="110m")
    >>> describe(m).table.loc[0, "feature"]
    'Kazakhstan–Russia border'
    >>> border_map(scale="1:50m")
    Traceback (most recent call last):
    ...
    kzcourse.errors.ChoiceError: Unknown Natural Earth scale '1:50m' (str). Did you mean '50m'? Valid choices: '10m', '110m', '50m'. Write the scale as text, e.g. '110m'.
    """
    import folium

    offline = resolve_offline(offline)
    geo.check_scale(scale)
    places = _load("places", folder)
    cite = data.citer(folder)
    lengths = {s: geo.border_length_km(s) for s in geo.SCALES}
    title = "Kazakhstan, its neighbours and the border with Russia"
    m = _new_map(offline=offline, title=title, location=(48.0, 68.0), zoom_start=4)
    _countries_layer().add_to(m)

    feature = geo.border_feature(scale)
    feature["properties"].update(
        {
            "length_km": round(lengths[scale]),
            "length_text": f"{lengths[scale]:,.0f} km",
            "all_scales": "; ".join(f"1:{s[:-1]} million: {lengths[s]:,.0f} km" for s in geo.SCALES),
        }
    )
    folium.GeoJson(
        {"type": "FeatureCollection", "features": [feature]},
        name="Kazakhstan–Russia border",
        style_function=lambda _: {"color": OKABE_ITO["vermillion"], "weight": 5, "opacity": 0.9, "dashArray": "10 6"},
        tooltip=folium.GeoJsonTooltip(
            fields=["name", "length_text", "scale", "all_scales"],
            aliases=["Border", "Geodesic length", "Natural Earth scale", "Length at each scale"],
        ),
    ).add_to(m)

    rows = [
        {
            "feature": "Kazakhstan–Russia border",
            "kind": f"line (Natural Earth 1:{scale[:-1]} million)",
            "value": f"{lengths[scale]:,.0f} km",
            "source": "Natural Earth via world-atlas 2.0.2; geodesic length on WGS84",
        }
    ]
    almaty = _find_place(places, BORDER_PLACES[0])
    group = folium.FeatureGroup(name="Places", show=True)
    missing = []
    points = []
    for candidates in BORDER_PLACES:
        place = _find_place(places, candidates)
        if place is None:
            missing.append(candidates[0])
            continue
        style = PLACE_STYLES.get(place["kind"], PLACE_STYLES["city"])
        away = ""
        if almaty is not None and place["place_id"] != almaty["place_id"]:
            km = geo.geodesic_km((almaty["lat"], almaty["lon"]), (place["lat"], place["lon"]))
            away = f"{km:,.0f} km from Almaty (geodesic)"
        popup = (
            f'<div class="kz-popup"><h4>{_esc(place["name"])}</h4><p>{_esc(place["what_happened"])}</p>'
            f"<p>{_esc(away)}</p>"
            f'<div class="kz-cite">Source: {_esc(cite(place["cite"]))}</div></div>'
        )
        _marker((place["lat"], place["lon"]), style, tooltip=place["name"], popup=popup, css=f"kz-{place['kind']}").add_to(group)
        points.append((place["lat"], place["lon"]))
        rows.append({"feature": place["name"], "kind": place["kind"], "value": away or "—", "source": cite(place["cite"])})
    group.add_to(m)
    if missing:
        warnings.warn(
            f"places.csv has no row for {', '.join(missing)}; border_map leaves those markers out.",
            stacklevel=2,
        )
    kinds = sorted({r["kind"] for r in rows[1:]}, key=list(PLACE_STYLES).index)
    entries = [
        (
            f'<svg width="28" height="10" aria-hidden="true"><line x1="0" y1="5" x2="28" y2="5" '
            f'stroke="{OKABE_ITO["vermillion"]}" stroke-width="4" stroke-dasharray="7 4"/></svg>',
            "Kazakhstan–Russia border",
        )
    ]
    entries += [(_svg(PLACE_STYLES[k].shape, PLACE_STYLES[k].colour, 16), PLACE_STYLES[k].label) for k in kinds]
    caption = (
        f"{title}: country polygons (Natural Earth 1:110m), the Kazakhstan–Russia border drawn from the Caspian Sea "
        f"to the Altai at 1:{scale[:-1]} million ({lengths[scale]:,.0f} km geodesic), and markers for "
        f"{', '.join(r['feature'] for r in rows[1:]) or 'no places (none found in places.csv)'}."
    )
    m.add_child(_legend("Kazakhstan's border with Russia", entries, _NE_ATTRIBUTION, caption))
    folium.LayerControl(collapsed=True).add_to(m)
    _fit(m, _bbox_corners("KAZ") + points)
    import pandas as pd

    return _finish(m, MapDescription(caption, pd.DataFrame(rows)))


# --------------------------------------------------------------------------- spread and CSTO
def _figure_text(t: Any) -> str:
    """'2,030 troops: official, given by ... on 13 January 2022' for a row of queries.contingents()."""
    return f"{int(t.troops):,} troops: {t.kind}, given by {t.given_by} on {_day_label(t.as_of)}"


#: Colours for the day protests reached a city: first day, the day after, later (with different shapes too).
_SPREAD_STYLES = (
    MarkerStyle(OKABE_ITO["vermillion"], "star", "Where protests began", 26),
    MarkerStyle(OKABE_ITO["orange"], "diamond", "Reached the next day", 20),
    MarkerStyle(OKABE_ITO["blue"], "circle", "Reached later", 16),
)


def spread_map(offline: bool | None = None, *, folder: str | Path | None = None) -> "folium.Map":
    """Where the protests began and spread, and the CSTO contingents sent to Kazakhstan.

    Cities are marked with the day of their first protest or riot in
    ``events.csv`` (:func:`kzcourse.queries.protest_spread`). Countries that sent troops
    (``relations.csv``, :func:`kzcourse.queries.contingents`) are shaded and joined to
    Kazakhstan by an arrow whose tooltip gives the number the ``figures`` table stands by, and its source.

    Parameters
    ----------
    offline : bool or None, default None
        None: online unless ``KZCOURSE_OFFLINE`` is set (see :func:`resolve_offline`).
        Inline a vendored Leaflet and use no tiles.
    folder : str or Path, optional
        A folder with a copy of the data files.

    Returns
    -------
    folium.Map

    Examples
    --------
    >>> m = spread_map(offline=True)
    >>> describe(m).caption.startswith("How the protests spread")
    True
    """
    import folium
    import pandas as pd

    offline = resolve_offline(offline)
    places = _load("places", folder)
    spread = queries.protest_spread(folder=folder)
    troops = queries.contingents(folder=folder)
    cite = data.citer(folder)
    title = "How the protests spread, and the CSTO contingents"
    m = _new_map(offline=offline, title=title, location=(47.0, 60.0), zoom_start=3)
    shade = {code: OKABE_ITO["orange"] for code in troops["country"]}
    _countries_layer(highlight=shade).add_to(m)

    rows = []
    cities = folium.FeatureGroup(name="Protests by city", show=True)
    start = spread["first_day"].min() if len(spread) else None
    for r in spread.itertuples():
        lag = (r.first_day - start).days
        style = _SPREAD_STYLES[min(lag, 2)]
        tip = f"{r.name}: first {r.event_type.lower()} on {_short_day(r.first_day)}"
        popup = (
            f'<div class="kz-popup"><h4>{_esc(r.name)} — {_esc(_day_label(r.first_day))}</h4>'
            f'<p>{_esc(r.notes)}</p><div class="kz-cite">Source: {_esc(cite(r.cite))}</div></div>'
        )
        _marker((r.lat, r.lon), style, tooltip=tip, popup=popup, css="kz-spread").add_to(cities)
        folium.Marker(
            [r.lat, r.lon],
            icon=folium.DivIcon(html=_esc(_short_day(r.first_day)), icon_size=(48, 14), icon_anchor=(-10, 7), class_name="kz-label"),
        ).add_to(cities)
        rows.append(
            {
                "what": "protests reached" if lag else "protests began",
                "where": r.name,
                "day": r.first_day.date().isoformat(),
                "number": pd.NA,
                "detail": f"{r.event_type}: {r.notes}",
                "source": cite(r.cite),
            }
        )
    cities.add_to(m)

    arrows = folium.FeatureGroup(name="CSTO contingents", show=True)
    target = _kaz_point()
    capitals = places.loc[places["kind"] == "capital"]
    centroids = _country_points(troops["country"])
    notes = []
    origins = []
    for t in troops.itertuples():
        cap = capitals.loc[(capitals["country"] == t.country)]
        origin = (float(cap.iloc[0]["lat"]), float(cap.iloc[0]["lon"])) if len(cap) else centroids.get(t.country)
        if origin is None:
            notes.append(f"No location for {t.name} ({t.country}): no capital in places.csv and no polygon shipped.")
            continue
        origins.append(origin)
        if pd.isna(t.troops):
            tip = f"{t.name}: sent troops; the dataset gives no number (source: {cite(t.cite)})"
        else:
            tip = f"{t.name}: {int(t.troops):,} troops (source: {cite(t.figure_cite)})"
        popup = (
            f'<div class="kz-popup"><h4>{_esc(t.name)} → Kazakhstan</h4><p>{_esc(t.notes)}</p>'
            f'<div class="kz-cite">Source: {_esc(cite(t.cite))}</div>'
            + (
                ""
                if pd.isna(t.troops)
                else f'<p>Size: {_esc(_figure_text(t))}</p><div class="kz-cite">Source: {_esc(cite(t.figure_cite))}</div>'
            )
            + "</div>"
        )
        line = folium.PolyLine(
            [list(origin), list(target)], color=OKABE_ITO["black"], weight=2.5, opacity=0.85, dash_array="6 4"
        )
        line.add_child(_bind(tip, popup))
        line.add_to(arrows)
        head = MarkerStyle(OKABE_ITO["black"], "arrowhead", "arrow", 18)
        _marker(target, head, tooltip=tip, popup=popup, rotate=_mercator_angle(origin, target), css="kz-arrowhead").add_to(arrows)
        rows.append(
            {
                "what": "troops sent",
                "where": t.name,
                "day": "" if pd.isna(t.valid_from) else pd.Timestamp(t.valid_from).date().isoformat(),
                "number": t.troops,
                "detail": t.notes if pd.isna(t.troops) else _figure_text(t),
                "source": cite(t.figure_cite or t.cite),
            }
        )
        if pd.isna(t.troops):
            notes.append(f"The dataset gives no troop number for {t.name}.")
    arrows.add_to(m)
    _fit(m, _bbox_corners("KAZ") + [(r.lat, r.lon) for r in spread.itertuples()] + origins)

    entries = [(_svg(s.shape, s.colour, 16), s.label) for s in _SPREAD_STYLES]
    entries.append(
        (
            f'<svg width="28" height="12" aria-hidden="true"><line x1="0" y1="6" x2="20" y2="6" stroke="#000" '
            f'stroke-width="2.5" stroke-dasharray="6 4"/><polygon points="28,6 18,1 20,6 18,11"/></svg>',
            "Troops sent to Kazakhstan (CSTO)",
        )
    )
    entries.append(
        (
            f'<svg width="18" height="12" aria-hidden="true"><rect width="18" height="12" fill="{OKABE_ITO["orange"]}" '
            f'fill-opacity=".35" stroke="#333" stroke-dasharray="4 3"/></svg>',
            "Country that sent troops",
        )
    )
    began = ", ".join(spread.loc[spread["origin"], "name"]) if len(spread) else ""
    caption = (
        f"{title}: "
        + (
            f"protests began in {began} on {_day_label(start)} and reached {len(spread) - int(spread['origin'].sum())} "
            f"more cities by {_day_label(spread['first_day'].max())}; "
            if len(spread)
            else "the dataset has no protest or riot events yet; "
        )
        + (
            f"{len(troops)} countries sent troops ({', '.join(troops['name'])}), arrows point to Kazakhstan."
            if len(troops)
            else "the dataset records no troops sent (relations.csv has no 'sent-troops-to' tie from a state)."
        )
    )
    for a in queries.alliance_force(folder=folder).itertuples():
        known = not pd.isna(a.troops)
        rows.append({"what": "whole force", "where": a.name, "day": "", "number": a.troops,
                     "detail": _figure_text(a) if known else a.notes, "source": cite(a.figure_cite or a.cite)})
        if known:
            caption += f" The dataset puts the {a.name}'s whole force at {int(a.troops):,} troops ({_figure_text(a)})."
    if not len(troops):
        notes.append("No CSTO contingents in relations.csv: the arrows are missing until the dataset records them.")
    m.add_child(_legend("Spread of the protests; CSTO", entries, _NE_ATTRIBUTION, caption))
    folium.LayerControl(collapsed=True).add_to(m)
    table = pd.DataFrame(rows, columns=["what", "where", "day", "number", "detail", "source"])
    table["number"] = pd.array(table["number"].tolist(), dtype="Int64")
    return _finish(m, MapDescription(caption, table, notes))
