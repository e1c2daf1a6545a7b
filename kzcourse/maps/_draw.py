"""What every kzcourse map is made of: styles, markers, legends, the basemap, the text alternative.

The builders (:mod:`kzcourse.maps.almaty`, :mod:`.border`, :mod:`.spread`) only combine these.
"""
from __future__ import annotations

import datetime as _dt
import functools
import html
import math
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kzcourse import data, geo
from kzcourse._alt import Description
from kzcourse._style import EVENT_STYLES, OKABE_ITO, event_style
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
#: Event types: the shape of each ACLED type's map marker (from :data:`kzcourse._style.EVENT_STYLES`).
EVENT_SHAPES: dict[str, str] = {t: st.map_shape for t, st in EVENT_STYLES.items()}


def _event_style(event_type: str) -> MarkerStyle:
    style = event_style(event_type)
    return MarkerStyle(style.colour, style.map_shape, event_type, 14)


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
#: A map's text alternative is the one type every kzcourse figure uses (:class:`kzcourse._alt.Description`).
MapDescription = Description


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
    from kzcourse._assets import assets_dir

    return (assets_dir() / name).read_text(encoding="utf-8")


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


_MAP_CLASS: list[type] = []


def _map_class() -> type:
    """A ``folium.Map`` whose notebook iframe carries a title (the map's caption) for screen readers."""
    if not _MAP_CLASS:
        import folium

        class Map(folium.Map):
            """folium's Map; in a notebook its iframe is titled with the map's caption (WCAG: frames have titles)."""

            def _repr_html_(self, **kwargs: Any) -> str:
                out = super()._repr_html_(**kwargs)
                alt = getattr(self, "kz_alt", None)
                title = alt.caption if alt is not None else self.get_root().title or "Map"
                return out.replace("></iframe>", f' title="{html.escape(title, quote=True)}"></iframe>', 1)

        Map.__module__ = "kzcourse.maps"
        _MAP_CLASS.append(Map)
    return _MAP_CLASS[0]


def _new_map(*, offline: bool, title: str, location=(48.0, 67.0), zoom_start: int = 4, **kwargs: Any) -> "folium.Map":
    """A folium Map with kzcourse's basemap choice; offline assets are set on this instance only."""
    import folium
    from branca.element import Element

    m = _map_class()(
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
    if not offline:
        _offline_notice(m)
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
.kz-legend div[hidden]{display:none;}
.kz-slider input{width:180px;vertical-align:middle;}
.kz-sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;}
.leaflet-tooltip.kz-tip,.kz-map .leaflet-tooltip{white-space:normal;max-width:260px;width:max-content;}
.leaflet-tooltip.kz-place-label{background:none;border:none;box-shadow:none;padding:0 2px;font:bold 12px/1.1 sans-serif;
  color:#000;text-shadow:0 0 3px #fff,0 0 3px #fff,0 0 3px #fff;white-space:nowrap;max-width:none;}
.leaflet-tooltip.kz-country-label{background:none;border:none;box-shadow:none;padding:0;font:italic 13px/1.1 sans-serif;
  color:#444;text-shadow:0 0 3px #fff,0 0 3px #fff;white-space:nowrap;max-width:none;letter-spacing:.03em;}
.leaflet-tooltip.kz-hub-label{background:#fff;border:1px solid #666;border-radius:3px;padding:1px 4px;
  font:11px/1.2 sans-serif;color:#000;white-space:nowrap;max-width:none;}
.leaflet-tooltip.kz-place-label:before,.leaflet-tooltip.kz-country-label:before,.leaflet-tooltip.kz-hub-label:before{display:none;}
.kz-offline-notice{position:absolute;z-index:1000;left:10%;right:10%;top:30%;background:#fff;border:2px solid #D55E00;
  padding:12px 16px;font:14px/1.4 sans-serif;color:#000;border-radius:4px;box-shadow:0 1px 6px rgba(0,0,0,.4);}
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


def _legend(title: str, entries: list[tuple[str, ...]], credit: str, caption: str):
    """A Leaflet control listing ``(svg, label)`` entries, plus a hidden caption for screen readers.

    An entry ``(svg, label, event_type)`` marks its row with ``data-kz-type``, so that a map's
    own controller (the Almaty map's day view) can hide the rows of event types it does not draw.
    """
    rows = "".join(
        f"<div{_type_attr(entry)}>{entry[0]}<span>{html.escape(entry[1])}</span></div>" for entry in entries
    )
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


def _type_attr(entry: tuple[str, ...]) -> str:
    return f' data-kz-type="{html.escape(entry[2], quote=True)}"' if len(entry) > 2 else ""


def _marker(location, style: MarkerStyle, *, tooltip: str, popup: str | None = None, css: str = "", rotate: float = 0.0,
            offset: tuple[int, int] = (0, 0)):
    """A marker drawn as an inline SVG; ``offset`` moves the drawing (pixels, y down), not the location."""
    import folium

    anchor_y = style.size - 1 if style.shape == "pin" else style.size // 2
    icon = folium.DivIcon(
        html=_svg(style.shape, style.colour, style.size, rotate=rotate, title=tooltip),
        icon_size=(style.size, style.size),
        icon_anchor=(style.size // 2 - offset[0], anchor_y - offset[1]),
        class_name=f"kz-marker {css}".strip(),
    )
    marker = folium.Marker(location=[float(location[0]), float(location[1])], icon=icon)
    marker.add_child(_bind(tooltip, popup))
    return marker


_BIND_JS = """{% macro script(this, kwargs) %}
    {%- if this.tooltip %}
    {{ this._parent.get_name() }}.bindTooltip({{ this.tooltip|tojson }}, {sticky: true, className: "kz-tip"});
    {%- endif %}
    {%- if this.content %}
    {{ this._parent.get_name() }}.bindPopup({{ this.content|tojson }}, {maxWidth: {{ this.max_width }}, autoPanPaddingTopLeft: [60, 90]});
    {%- endif %}
{% endmacro %}"""


def _bind(tooltip: str | None, popup: str | None, max_width: int = 300):
    """Tooltip and popup bound with plain Leaflet (folium's Popup needs jQuery, which offline maps do not ship)."""
    return _macro(_BIND_JS, name="KzBind", tooltip=tooltip, content=popup, max_width=int(max_width))


_LABELS_JS = """{% macro script(this, kwargs) %}
(function () {
    var map = {{ this._parent.get_name() }};
    var group = L.layerGroup().addTo(map);
    var placed = [];
    {{ this.labels|tojson }}.forEach(function (l) {
        var tip = L.tooltip({permanent: true, interactive: false, direction: l[3], offset: l[4], className: l[2], opacity: 1})
            .setLatLng([l[0], l[1]]).setContent(l[5]);
        group.addLayer(tip);
        if (l[6]) { placed.push([tip, l[6]]); }
    });
    // Labels placed for several zooms take the placement of the nearest one at every zoom change.
    function place() {
        var z = map.getZoom();
        placed.forEach(function (p) {
            var zooms = Object.keys(p[1]).map(Number), best = zooms[0];
            zooms.forEach(function (k) { if (Math.abs(k - z) < Math.abs(best - z)) { best = k; } });
            var choice = p[1][best];
            if (p[0].options.direction === choice[0] && p[0].options.offset[0] === choice[1][0] &&
                p[0].options.offset[1] === choice[1][1] && p[0].options.opacity === 1) { return; }
            p[0].setOpacity(choice[0] === "hidden" ? 0 : 1);
            if (choice[0] === "hidden") { return; }
            p[0].options.direction = choice[0];
            p[0].options.offset = choice[1];
            if (p[0]._map) { p[0].update(); }
        });
    }
    if (placed.length) { map.on("zoomend", place); place(); }
    window[{{ this.get_name()|tojson }}] = group;
})();
{% endmacro %}"""


def _labels(labels: list[tuple], name: str = "KzLabels"):
    """Permanent text labels on the map: ``(lat, lon, text, css class, direction, (dx, dy) offset)`` each.

    A seventh item, ``{zoom: (direction, offset)}`` (from :func:`_label_sides_by_zoom`), makes
    the label move to the placement of the nearest listed zoom whenever the map's zoom changes.
    They are Leaflet tooltips (text in the page, read by screen readers), not markers.
    """
    rows = [[float(lat), float(lon), css, direction, list(offset), html.escape(text),
             {str(z): [d, list(o)] for z, (d, o) in rest[0].items()} if rest else None]
            for lat, lon, text, css, direction, offset, *rest in labels]
    return _macro(_LABELS_JS, name=name, labels=rows)


def _ring_offsets(count: int, first_radius: int = 24, spacing: int = 22) -> list[tuple[int, int]]:
    """Pixel offsets for ``count`` markers sharing one point: rings around it, innermost first, clockwise from the top.

    >>> _ring_offsets(3)
    [(0, -24), (21, 12), (-21, 12)]
    >>> [round(math.hypot(x, y)) for x, y in _ring_offsets(7)]
    [24, 24, 24, 24, 24, 24, 46]
    >>> len(set(_ring_offsets(20))) == 20
    True
    """
    out: list[tuple[int, int]] = []
    radius = first_radius
    while len(out) < count:
        slots = max(6, int(2 * math.pi * radius / spacing))
        take = min(slots, count - len(out))
        for i in range(take):
            a = -math.pi / 2 + 2 * math.pi * i / take
            out.append((round(radius * math.cos(a)), round(radius * math.sin(a))))
        radius += spacing
    return out


_OFFLINE_NOTICE = """<script>
(function () {
    if (window.L) { return; }
    var box = document.createElement("div");
    box.className = "kz-offline-notice";
    box.setAttribute("role", "alert");
    box.innerHTML = {{ this.text|tojson }};
    document.body.appendChild(box);
})();
</script>"""

#: What an online map says, in the map, when it cannot reach the internet.
OFFLINE_NOTICE = (
    "<b>This map could not load.</b> Online maps take Leaflet and the map tiles from the internet, which "
    "this computer cannot reach. Ask for offline maps, which need no network: set <code>KZCOURSE_OFFLINE=1</code> "
    "where JupyterLab is started (e.g. <code>KZCOURSE_OFFLINE=1 make lab</code>, or in the hub's spawner "
    "environment) and run the cell again, or build this map with <code>offline=True</code>."
)

_TILE_WATCH_JS = """{% macro script(this, kwargs) %}
(function () {
    var map = {{ this._parent.get_name() }}, failed = 0, shown = false;
    map.eachLayer(function (layer) {
        if (!(layer instanceof L.TileLayer)) { return; }
        layer.on("tileerror", function () {
            failed += 1;
            if (shown || failed < 4) { return; }
            shown = true;
            var box = L.DomUtil.create("div", "kz-offline-notice", map.getContainer());
            box.setAttribute("role", "alert");
            box.innerHTML = {{ this.text|tojson }};
        });
    });
})();
{% endmacro %}"""


def _offline_notice(m: "folium.Map") -> None:
    """An online map that cannot reach the internet says so in the map, naming KZCOURSE_OFFLINE=1."""
    from branca.element import Element
    from jinja2 import Template

    notice = Template(_OFFLINE_NOTICE).render(this={"text": OFFLINE_NOTICE})
    m.get_root().html.add_child(Element(notice), name="kz_offline_notice")
    m.add_child(_macro(_TILE_WATCH_JS, name="KzTileWatch", text=OFFLINE_NOTICE))


def _unwrap_antimeridian(collection: dict[str, Any]) -> dict[str, Any]:
    """Polygon rings that cross 180° (Russia's Chukotka) continued past it, so Leaflet draws no band.

    Natural Earth keeps longitudes in [-180, 180]: a ring that crosses the antimeridian jumps
    from 180 to -180, and Leaflet joins those points with a line across the whole map (grey
    bands over the Arctic at low zoom). In a ring spanning more than 180° of longitude, each
    negative longitude gets 360 added; ``collection`` is changed in place and returned.

    >>> ring = [[170.0, 65.0], [180.0, 66.0], [-175.0, 66.0], [-170.0, 65.0], [170.0, 65.0]]
    >>> fc = {"features": [{"geometry": {"type": "Polygon", "coordinates": [ring]}}]}
    >>> [x for x, _ in _unwrap_antimeridian(fc)["features"][0]["geometry"]["coordinates"][0]]
    [170.0, 180.0, 185.0, 190.0, 170.0]
    """
    for feature in collection["features"]:
        geom = feature["geometry"]
        polys = [geom["coordinates"]] if geom["type"] == "Polygon" else geom["coordinates"]
        for poly in polys:
            for ring in poly:
                lons = [point[0] for point in ring]
                if max(lons) - min(lons) > 180:
                    for point in ring:
                        if point[0] < 0:
                            point[0] += 360.0
    return collection


def _countries() -> dict[str, Any]:
    """The country polygons every map draws and measures: Natural Earth's, with rings that cross 180°
    continued past it (:func:`_unwrap_antimeridian`), so outlines, boxes, centroids and label points
    all see Russia as one piece. A fresh copy each call, like :func:`kzcourse.geo.countries`."""
    return _unwrap_antimeridian(geo.countries())


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
        _countries(),
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
    for feature in _countries()["features"]:
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
    for feature in _countries()["features"]:
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
    return {f["properties"]["iso_a3"]: _centroid(f["geometry"]) for f in _countries()["features"]}


def _inside(lon: float, lat: float, rings: list[list[list[float]]]) -> bool:
    """Ray casting: is (lon, lat) inside the polygon given as rings of [lon, lat] (holes count as outside)?"""
    hit = False
    for ring in rings:
        for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1]):
            if (y0 > lat) != (y1 > lat) and lon < x0 + (lat - y0) * (x1 - x0) / (y1 - y0):
                hit = not hit
    return hit


@functools.lru_cache(maxsize=64)
def country_label_point(code: str, view: tuple[float, float, float, float] = (30.0, 20.0, 58.0, 100.0)) -> tuple[float, float] | None:
    """Where a country's name goes on a map of Central Asia: (lat, lon) inside its Natural Earth polygon.

    Grid points (every 1.5 degrees) inside the country and inside ``view`` (south, west, north,
    east) are collected; the label goes at the one nearest to their mean, so it falls inside
    the visible part of the country (Russia's name sits north of Kazakhstan, not in Siberia).
    None if the country has no grid point in view.

    >>> lat, lon = country_label_point("KAZ")
    >>> 40 < lat < 55 and 50 < lon < 85
    True
    """
    feature = next((f for f in _countries()["features"] if f["properties"]["iso_a3"] == code), None)
    if feature is None:
        return None
    geometry = feature["geometry"]
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    south, west, north, east = view
    inside = []
    for polygon in polygons:
        lons = [pt[0] for pt in polygon[0]]
        lats = [pt[1] for pt in polygon[0]]
        lat = max(south, math.floor(min(lats))) + 0.75
        while lat <= min(north, max(lats)):
            lon = max(west, math.floor(min(lons))) + 0.75
            while lon <= min(east, max(lons)):
                if _inside(lon, lat, polygon):
                    inside.append((lat, lon))
                lon += 1.5
            lat += 1.5
    if not inside:
        return None
    mlat = sum(p[0] for p in inside) / len(inside)
    mlon = sum(p[1] for p in inside) / len(inside)
    return min(inside, key=lambda p: (p[0] - mlat) ** 2 + (p[1] - mlon) ** 2)


def _mercator_px(lat: float, lon: float, zoom: float) -> tuple[float, float]:
    """Web Mercator pixel position (x right, y down) of a point at ``zoom``."""
    size = 256 * 2 ** zoom
    y = math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))
    return (lon + 180) / 360 * size, (1 - y / math.pi) / 2 * size


def _fit_zoom(points: list[tuple[float, float]], width: int = 980, height: int = 620) -> int:
    """The zoom at which Leaflet's fitBounds shows ``points`` in a map of about ``width`` x ``height`` pixels."""
    if len(points) < 2:
        return 12
    for zoom in range(18, 0, -1):
        xs, ys = zip(*(_mercator_px(lat, lon, zoom) for lat, lon in points))
        if max(xs) - min(xs) <= width and max(ys) - min(ys) <= height:
            return zoom
    return 1


def _label_sides(points: list[tuple[float, float]], texts: list[str] | None = None, *, zoom: float | None = None,
                 char_px: float = 7.0, line_px: float = 16.0, gap: float = 4.0,
                 hide_crowded: bool = False) -> list[tuple[str, tuple[int, int]]]:
    """Direction and pixel offset of each point's label so that labels do not overlap each other or the markers.

    At the zoom given (by default the one the map opens with, from :func:`_fit_zoom`), each
    label tries right, left, above and below its marker, then right and left half a line and
    a whole line higher or lower (every place touches the marker's corner), and takes the first place that keeps
    ``gap`` pixels free of the labels placed before it and clear of every marker. If none is
    free, it takes the place that overlaps the labels already placed least, or, with
    ``hide_crowded``, the direction ``'hidden'``: no label at that zoom (the marker's own
    tooltip still names the place). Points placed first keep their natural place.

    >>> _label_sides([(43.65, 51.2), (43.34, 52.86)], ["Aktau, 2 Jan", "Zhanaozen, 2 Jan"], zoom=4)
    [('left', (-12, 0)), ('right', (12, 0))]
    """
    texts = texts or [""] * len(points)
    zoom = _fit_zoom(points) if zoom is None else zoom
    px = [_mercator_px(lat, lon, zoom) for lat, lon in points]
    markers = [(x - 10, y - 10, x + 10, y + 10) for x, y in px]
    boxes: list[tuple[float, float, float, float]] = []
    out = []
    for (x, y), text in zip(px, texts):
        w, h = max(len(text), 4) * char_px, line_px
        shift = round(h / 2 + gap)
        # Every place touches the marker: a label further away would sit beside another city's marker.
        candidates = [("right", (12, 0)), ("left", (-12, 0)), ("top", (0, -12)), ("bottom", (0, 12))]
        for dy in (shift, round(h + gap)):  # half a line, then a whole line, higher or lower
            candidates += [("right", (12, -dy)), ("right", (12, dy)), ("left", (-12, -dy)), ("left", (-12, dy))]

        def box(side: str, offset: tuple[int, int]) -> tuple[float, float, float, float]:
            cx, cy = x + offset[0], y + offset[1]
            if side == "right":
                return (cx, cy - h / 2, cx + w, cy + h / 2)
            if side == "left":
                return (cx - w, cy - h / 2, cx, cy + h / 2)
            if side == "top":
                return (cx - w / 2, cy - h, cx + w / 2, cy)
            return (cx - w / 2, cy, cx + w / 2, cy + h)

        def free(b: tuple[float, float, float, float]) -> bool:
            return not any(b[0] < o[2] + gap and o[0] < b[2] + gap and b[1] < o[3] + gap and o[1] < b[3] + gap
                           for o in boxes) and not any(
                b[0] < m[2] and m[0] < b[2] and b[1] < m[3] and m[1] < b[3]
                for m in markers if not (m[0] < x < m[2] and m[1] < y < m[3]))

        def crowding(b: tuple[float, float, float, float]) -> float:
            return sum(max(0.0, min(b[2], o[2]) - max(b[0], o[0]) + gap) * max(0.0, min(b[3], o[3]) - max(b[1], o[1]) + gap)
                       for o in boxes)

        # The first free place; where none is, the one that overlaps the labels already placed least (or none).
        choice = next((c for c in candidates if free(box(*c))), None)
        if choice is None and hide_crowded:
            out.append(("hidden", (0, 0)))
            continue
        side, offset = choice or min(candidates, key=lambda c: crowding(box(*c)))
        boxes.append(box(side, offset))
        out.append((side, offset))
    return out


#: Zooms for which :func:`_label_sides_by_zoom` places labels: a narrow notebook opens the
#: country maps at 3, a wide one at 4; 5 and 6 are a student's first steps in.
LABEL_ZOOMS: tuple[int, ...] = (3, 4, 5, 6)


def _label_sides_by_zoom(points: list[tuple[float, float]], texts: list[str],
                         zooms: Iterable[int] = LABEL_ZOOMS) -> list[dict[int, tuple[str, tuple[int, int]]]]:
    """:func:`_label_sides` at each of ``zooms``: per point, zoom -> (direction, offset).

    The map's labels switch to the placement of the nearest of these zooms whenever the
    zoom changes (see :func:`_labels`), so labels stay apart whatever size the map opens at.
    A label with no free place at a zoom is ``'hidden'`` there (points listed first win).

    >>> by = _label_sides_by_zoom([(43.65, 51.2), (43.34, 52.86)], ["Aktau, 2 Jan", "Zhanaozen, 2 Jan"])
    >>> sorted(by[0]), by[0][4]
    ([3, 4, 5, 6], ('left', (-12, 0)))
    """
    per_zoom = {z: _label_sides(points, texts, zoom=z, hide_crowded=True) for z in zooms}
    return [{z: per_zoom[z][i] for z in per_zoom} for i in range(len(points))]


def _country_labels(codes: Iterable[str] | None = None) -> list[tuple[float, float, str, str, str, tuple[int, int]]]:
    """Labels with the Natural Earth name of each country in view (all shipped countries by default)."""
    out = []
    for f in _countries()["features"]:
        code = f["properties"]["iso_a3"]
        if codes is not None and code not in set(codes):
            continue
        point = country_label_point(code)
        if point is not None:
            out.append((point[0], point[1], f["properties"]["name"], "kz-country-label", "center", (0, 0)))
    return out


def _mercator_angle(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Screen angle (degrees clockwise from east) of the segment a→b on a Web Mercator map."""
    def y(lat: float) -> float:
        return math.degrees(math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)))

    return -math.degrees(math.atan2(y(b[0]) - y(a[0]), b[1] - a[1]))


