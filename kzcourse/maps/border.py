"""The border map: Kazakhstan, its neighbours and the Kazakhstan–Russia border."""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from kzcourse import data, geo
from kzcourse.maps._draw import (
    _country_labels,
    _label_sides,
    _labels,
    BORDER_PLACES,
    MapDescription,
    OKABE_ITO,
    PLACE_STYLES,
    _NE_ATTRIBUTION,
    _bbox_corners,
    _countries_layer,
    _esc,
    _finish,
    _fit,
    _legend,
    _load,
    _marker,
    _new_map,
    _svg,
    resolve_offline,
)

if TYPE_CHECKING:  # pragma: no cover
    import folium
    import pandas as pd


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
    >>> from kzcourse.maps import describe
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
    title = "Kazakhstan, its neighbours and the border with Russia"
    m = _new_map(offline=offline, title=title, location=(48.0, 68.0), zoom_start=4)
    _countries_layer().add_to(m)

    feature = geo.border_feature(scale)
    # The tooltip names the line and how to measure it, never its length: lesson 02 asks for the lengths.
    feature["properties"].update(
        {
            "scale_text": f"1:{scale[:-1]} million ({feature['properties']['points']:,} points)",
            "measure": f"geo.border_length_km({scale!r})",
        }
    )
    folium.GeoJson(
        {"type": "FeatureCollection", "features": [feature]},
        name="Kazakhstan–Russia border",
        style_function=lambda _: {"color": OKABE_ITO["vermillion"], "weight": 5, "opacity": 0.9, "dashArray": "10 6"},
        tooltip=folium.GeoJsonTooltip(
            fields=["name", "scale_text", "measure"],
            aliases=["Border", "Natural Earth line", "Measure it with"],
            class_name="kz-tip",
        ),
    ).add_to(m)

    rows = [
        {
            "feature": "Kazakhstan–Russia border",
            "kind": f"line (Natural Earth 1:{scale[:-1]} million)",
            "value": f"{feature['properties']['points']:,} points; measure with geo.border_length_km({scale!r})",
            "source": "Natural Earth via world-atlas 2.0.2; geodesic length on WGS84",
        }
    ]
    group = folium.FeatureGroup(name="Places", show=True)
    missing = []
    points = []
    city_labels: list[tuple[float, float, str, str, str, tuple[int, int]]] = []
    for candidates in BORDER_PLACES:
        place = _find_place(places, candidates)
        if place is None:
            missing.append(candidates[0])
            continue
        style = PLACE_STYLES.get(place["kind"], PLACE_STYLES["city"])
        # No distance from Almaty here: lesson 02 asks students to compute it with geo.distance_km.
        away = ""
        popup = (
            f'<div class="kz-popup"><h4>{_esc(place["name"])}</h4><p>{_esc(place["what_happened"])}</p>'
            f'<div class="kz-cite">Source: {_esc(cite(place["cite"]))}</div></div>'
        )
        _marker((place["lat"], place["lon"]), style, tooltip=place["name"], popup=popup, css=f"kz-{place['kind']}").add_to(group)
        points.append((place["lat"], place["lon"]))
        city_labels.append((place["lat"], place["lon"], place["name"], "kz-place-label", "right", (12, 0)))
        rows.append({"feature": place["name"], "kind": place["kind"], "value": away or "—", "source": cite(place["cite"])})
    group.add_to(m)
    sides = _label_sides([(lat, lon) for lat, lon, *_ in city_labels], [t for _, _, t, *_ in city_labels])
    city_labels = [(lat, lon, text, css, side, off) for (lat, lon, text, css, _, _), (side, off) in zip(city_labels, sides)]
    m.add_child(_labels(_country_labels() + city_labels, name="KzBorderLabels"))
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
        f"to the Altai at 1:{scale[:-1]} million, each country named on the map, and labelled markers for "
        f"{', '.join(r['feature'] for r in rows[1:]) or 'no places (none found in places.csv)'}."
    )
    m.add_child(_legend("Kazakhstan's border with Russia", entries, _NE_ATTRIBUTION, caption))
    folium.LayerControl(collapsed=True).add_to(m)
    _fit(m, _bbox_corners("KAZ") + points)
    import pandas as pd

    return _finish(m, MapDescription(caption, pd.DataFrame(rows)))


