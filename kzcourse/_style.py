"""One styles table for maps and charts: the colour-blind-safe palette and the look of each event type.

The Okabe–Ito palette (Okabe & Ito, *Color Universal Design*, 2008) stays
distinguishable under the common forms of colour-vision deficiency.
Builders also vary marker shape or line dash, so colour is never the only cue.
:data:`EVENT_STYLES` is the single place where an ACLED event type gets its colour,
its map marker (a shape of :mod:`kzcourse.maps`) and its chart symbol (a plotly
marker symbol of the same shape), so a riot looks the same on the map and on the timeline.

>>> len(OKABE_ITO)
8
>>> OKABE_ITO["blue"]
'#0072B2'
>>> EVENT_STYLES["Riots"]
EventStyle(colour='#D55E00', map_shape='triangle', chart_symbol='triangle-up')
"""
from __future__ import annotations

from dataclasses import dataclass

OKABE_ITO: dict[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}


@dataclass(frozen=True)
class EventStyle:
    """How one ACLED event type is drawn: a colour, a map marker shape and the plotly symbol of that shape."""

    colour: str
    map_shape: str
    chart_symbol: str


#: Colour, map marker and chart symbol of each ACLED event type used in the dataset.
EVENT_STYLES: dict[str, EventStyle] = {
    "Protests": EventStyle(OKABE_ITO["blue"], "circle", "circle"),
    "Riots": EventStyle(OKABE_ITO["vermillion"], "triangle", "triangle-up"),
    "Violence against civilians": EventStyle(OKABE_ITO["reddish_purple"], "diamond", "diamond"),
    "Battles": EventStyle(OKABE_ITO["orange"], "cross", "cross"),
    "Strategic developments": EventStyle(OKABE_ITO["bluish_green"], "square", "square"),
}
#: The style of an event type missing from :data:`EVENT_STYLES`.
OTHER_EVENT_STYLE = EventStyle(OKABE_ITO["black"], "circle", "circle")

#: One colour per ACLED event type (read from :data:`EVENT_STYLES`).
EVENT_TYPE_COLOURS: dict[str, str] = {t: s.colour for t, s in EVENT_STYLES.items()}


def event_style(event_type: str) -> EventStyle:
    """The style of ``event_type``; types outside the table are black circles.

    >>> event_style("Protests").chart_symbol, event_style("Something new").colour
    ('circle', '#000000')
    """
    return EVENT_STYLES.get(event_type, OTHER_EVENT_STYLE)
