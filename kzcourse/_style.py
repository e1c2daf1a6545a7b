"""Colour-blind-safe palette shared by maps and charts.

The Okabe–Ito palette (Okabe & Ito, *Color Universal Design*, 2008) stays
distinguishable under the common forms of colour-vision deficiency.
Builders also vary marker shape or line dash, so colour is never the only cue.

>>> len(OKABE_ITO)
8
>>> OKABE_ITO["blue"]
'#0072B2'
"""
from __future__ import annotations

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

#: One colour per ACLED event type used in the dataset.
EVENT_TYPE_COLOURS: dict[str, str] = {
    "Protests": OKABE_ITO["blue"],
    "Riots": OKABE_ITO["vermillion"],
    "Violence against civilians": OKABE_ITO["reddish_purple"],
    "Battles": OKABE_ITO["orange"],
    "Strategic developments": OKABE_ITO["bluish_green"],
}
