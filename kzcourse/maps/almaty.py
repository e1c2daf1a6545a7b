"""The Almaty map: the city, its sites and the events of 1-19 January, with one day controller."""
from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kzcourse import data, queries
from kzcourse._validate import FIRST_DAY, LAST_DAY, check_choices, check_day
from kzcourse.queries import ALMATY
from kzcourse.maps._draw import (
    LAYERS,
    MapDescription,
    PLACE_STYLES,
    _NE_ATTRIBUTION,
    _countries_layer,
    _day_label,
    _esc,
    _event_style,
    _finish,
    _fit,
    _kaz_point,
    _legend,
    _macro,
    _marker,
    _new_map,
    _short_day,
    _svg,
    resolve_offline,
)

if TYPE_CHECKING:  # pragma: no cover
    import folium
    import pandas as pd


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
    >>> from kzcourse.maps import describe
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


