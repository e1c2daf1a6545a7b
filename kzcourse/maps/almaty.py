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
    _labels,
    _ring_offsets,
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


_VIEW_JS = """{% macro script(this, kwargs) %}
(function () {
    // One controller for the day, the layers and the event types: the map's own day slider and the
    // explorer (kzcourse.explore.almaty_explorer, by postMessage) both call kzcourseView.set.
    var map = {{ this._parent.get_name() }};
    var groups = { {% for name, group in this.groups %}{{ name|tojson }}: {{ group.get_name() }}, {% endfor %} };
    var items = [{% for marker, layer, events, context in this.items %}
        [{{ marker.get_name() }}, {{ layer|tojson }}, {{ events|tojson }}, {{ context|tojson }}],{% endfor %}
    ];
    var hubs = [{% for h, members, where in this.hubs %}
        [window[{{ this.hub_group.get_name()|tojson }}].getLayers()[{{ h }}], {{ members|tojson }}, {{ where|tojson }}],{% endfor %}
    ];
    var allTypes = {{ this.types|tojson }}, names = {{ this.labels|tojson }}, first = {{ this.first }};
    var state = {day: {{ this.last }}, layers: {{ this.layers|tojson }}, types: allTypes.slice()};
    var output = null, control = null, status = null;
    function visible(item) {
        if (state.layers.indexOf(item[1]) < 0) { return false; }
        if (item[1] === "city") { return true; }
        if (item[3]) { return state.types.length === allTypes.length; }  // a site with no dated event: context
        return item[2].some(function (e) { return e[0] <= state.day && state.types.indexOf(e[1]) >= 0; });
    }
    function apply() {
        var shown = 0;
        items.forEach(function (item, i) {
            var group = groups[item[1]], on = visible(item);
            item.on = on;
            if (on) { shown += 1; }
            if (on && !group.hasLayer(item[0])) { group.addLayer(item[0]); }
            if (!on && group.hasLayer(item[0])) { group.removeLayer(item[0]); }
        });
        Object.keys(groups).forEach(function (name) {
            var on = state.layers.indexOf(name) >= 0;
            if (on && !map.hasLayer(groups[name])) { map.addLayer(groups[name]); }
            if (!on && map.hasLayer(groups[name])) { map.removeLayer(groups[name]); }
        });
        // The legend lists only the event types drawn now: ticked, and with a marker up to the day shown.
        var drawnTypes = {};
        items.forEach(function (item) { if (item.on && item[1] === "events") { drawnTypes[item[2][0][1]] = true; } });
        map.getContainer().querySelectorAll(".kz-legend [data-kz-type]").forEach(function (row) {
            row.hidden = !drawnTypes[row.getAttribute("data-kz-type")];
        });
        hubs.forEach(function (hub) {
            var n = hub[1].filter(function (i) { return items[i].on; }).length;
            hub[0].setContent(n + " site" + (n === 1 ? "" : "s") + " placed at " + hub[2]);
            hub[0].setOpacity(n ? 1 : 0);
        });
        var text = "up to " + names[state.day - first];
        if (output) { output.textContent = text; }
        if (status) { status.textContent = "Map shows " + shown + " markers " + text + "."; }
    }
    window.kzcourseView = {
        state: state,
        set: function (change) {
            if (change.day !== undefined && change.day !== null) { state.day = change.day; }
            if (change.layers) { state.layers = change.layers.slice(); }
            if (change.event_types) { state.types = change.event_types.slice(); }
            if (control && input) { input.value = state.day; }
            apply();
        },
        visibleCount: function () { return items.filter(function (item) { return item.on; }).length; }
    };
    var input = null;
    control = L.control({position: "bottomleft"});
    control.onAdd = function () {
        var div = L.DomUtil.create("div", "kz-slider");
        div.innerHTML = '<label>Day <input type="range" min="{{ this.first }}" max="{{ this.last }}" step="1" ' +
            'value="{{ this.last }}" aria-label="Day of January 2022 shown on the map"></label> <output></output>';
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.disableScrollPropagation(div);
        input = div.querySelector("input");
        output = div.querySelector("output");
        input.addEventListener("input", function () { window.kzcourseView.set({day: parseInt(input.value, 10)}); });
        return div;
    };
    control.addTo(map);
    status = L.DomUtil.create("div", "kz-sr-only", map.getContainer());
    status.setAttribute("role", "status");
    window.addEventListener("message", function (event) {
        var change = event.data && event.data.kzcourse;
        if (!change) { return; }
        if (change.external && control) { map.removeControl(control); control = null; output = null; }
        window.kzcourseView.set(change);
    });
    map.on("moveend", function () {
        if (window.parent === window) { return; }
        var c = map.getCenter();
        window.parent.postMessage({kzcourseView: {center: [c.lat, c.lng], zoom: map.getZoom()}}, "*");
    });
    apply();
})();
{% endmacro %}"""


def _where(group: list[Any]) -> str:
    """How a hub label names the point its sites share (the precision lesson of 04: where they were *placed*)."""
    if any(p.precision == "city" for p in group):
        return "the city centre (the dataset gives only the city's coordinates)"
    exact = [p for p in group if p.precision == "exact"]
    return f"{exact[0].name} (approximate places)" if exact else f"one approximate point near {group[0].name}"


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
    countries = _countries_layer(show=True).add_to(m) if "countries" in chosen_layers else None

    groups = {
        "city": folium.FeatureGroup(name="City", show=True),
        "sites": folium.FeatureGroup(name="Sites", show=True),
        "events": folium.FeatureGroup(name="Events", show=True),
    }
    drawn = [row for row in visible if row[0] in chosen_layers]
    # Markers that share a point are drawn on rings around it (the city stays on the point), so every
    # site and event can be seen and clicked; a label says how many sites were placed there and why.
    at_point: dict[tuple[float, float], list[int]] = {}
    for i, (layer, key, *_rest) in enumerate(drawn):
        at_point.setdefault((round(float(_rest[-2]), 5), round(float(_rest[-1]), 5)), []).append(i)
    offsets: dict[int, tuple[int, int]] = {}
    for members in at_point.values():
        ringed = [i for i in members if drawn[i][0] != "city"]
        if len(members) > 1:
            offsets.update(zip(ringed, _ring_offsets(len(ringed), first_radius=18, spacing=17)))
    dated_events: dict[str, list] = {}
    for e in window.itertuples(index=False):
        dated_events.setdefault(e.place_id, []).append([int(e.event_date.day), e.event_type])
    controller_items = []
    marker_of: dict[int, Any] = {}
    table_rows = []
    for i, (layer, key, name, first_day, lat, lon) in enumerate(drawn):
        if layer == "events":
            e = events[key]
            tip = f"{_short_day(e.event_date)}: {e.event_type} at {places[e.place_id].name}"
            marker = _marker((lat, lon), _event_style(e.event_type), tooltip=tip, popup=_event_popup(e, cite),
                             css="kz-event", offset=offsets.get(i, (0, 0)))
            what, source = e.notes, cite(e.cite)
            controller_items.append((marker, layer, [[int(e.event_date.day), e.event_type]], False))
        else:
            place = places[key]
            popup = _place_popup(place, by_place.get(key, []), cite)
            marker = _marker((lat, lon), PLACE_STYLES[place.kind], tooltip=place.name, popup=popup, css=f"kz-{place.kind}",
                             offset=offsets.get(i, (0, 0)))
            what, source = place.what_happened, cite(place.cite)
            controller_items.append((marker, layer, dated_events.get(key, []), layer == "sites" and key not in dated_events))
        marker.add_to(groups[layer])
        marker_of[i] = marker
        day_text = "" if pd.isna(first_day) else first_day.date().isoformat()
        table_rows.append((layer, key, name, day_text, what, source))
    hubs = []
    hub_labels = []
    for (lat, lon), members in at_point.items():
        sites = [places[drawn[i][1]] for i in members if drawn[i][0] == "sites"]
        if len(sites) > 1:
            where = _where([places[drawn[i][1]] for i in members if drawn[i][0] in ("sites", "city")])
            reach = max((abs(offsets.get(i, (0, 0))[0]) for i in members), default=0) + 14
            hub_labels.append((lat, lon, f"{len(sites)} sites placed at {where}", "kz-hub-label", "right", (reach, 0)))
            hubs.append(([i for i in members if drawn[i][0] == "sites"], where))
    for name in ("city", "sites", "events"):
        if name in chosen_layers:
            groups[name].add_to(m)
    labels = _labels(hub_labels, name="KzHubLabels") if hub_labels else None
    if labels is not None:
        m.add_child(labels)

    # The legend lists what is drawn: the kinds of place and the event types of the markers on the map.
    kinds = {places[row[1]].kind for row in drawn if row[0] != "events"}
    entries = [(_svg(s.shape, s.colour, 16), s.label) for k, s in PLACE_STYLES.items() if k in kinds]
    drawn_types = {events[row[1]].event_type for row in drawn if row[0] == "events"}
    entries += [(_svg(_event_style(t).shape, _event_style(t).colour, 14), t, t) for t in types if t in drawn_types]
    m.add_child(_legend("Almaty, January 2022", entries, _NE_ATTRIBUTION, caption))
    if day_ is None and controller_items:
        first = FIRST_DAY.day
        day_names = [_day_label(_dt.date(2022, 1, d)) for d in range(first, LAST_DAY.day + 1)]
        items = [(marker, layer, evs, ctx) for marker, layer, evs, ctx in controller_items]
        index = {id(item[0]): n for n, item in enumerate(items)}
        hub_items = [(h, [index[id(marker_of[i])] for i in members], where)
                     for h, (members, where) in enumerate(hubs)] if labels is not None else []
        group_list = [(name, groups[name]) for name in ("city", "sites", "events") if name in chosen_layers]
        if countries is not None:
            group_list.insert(0, ("countries", countries))
        m.add_child(_macro(_VIEW_JS, name="KzDayView", items=items, groups=group_list, hubs=hub_items, hub_group=labels,
                           types=list(all_types), labels=day_names, first=first, last=LAST_DAY.day,
                           layers=list(chosen_layers)))
    folium.LayerControl(collapsed=True).add_to(m)
    _fit(m, [(r[4], r[5]) for r in visible if r[0] in ("city", "sites")], pad=0.005)

    table = pd.DataFrame(table_rows, columns=["layer", "id", "name", "first_day", "what_happened", "source"])
    notes = [] if len(table) else ["The dataset has no Almaty places or events to show yet."]
    m.kz_layers = chosen_layers
    return _finish(m, MapDescription(caption, table, notes))


