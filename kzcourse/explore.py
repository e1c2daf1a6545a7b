"""Explorer widgets: a pure view function for each explorer, plus thin ipywidgets wiring.

Each explorer has two parts. The *view* is a pure function from parameters to an
object (a folium map, a figure) and is where the logic and the tests live. The
*explorer* builds ipywidgets controls and redraws the view when one changes;
it holds no logic of its own.

>>> from kzcourse import explore
>>> m = explore.almaty_view(day=6, layers=["city", "sites"])
>>> type(m).__name__
'Map'
"""
from __future__ import annotations

import html
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import folium
    import ipywidgets


# =========================================================================== Almaty map explorer
# (kzcourse.maps; issue 3 "Maps")

def almaty_view(
    day: Any = 19,
    layers: Iterable[str] | str | None = None,
    event_types: Iterable[str] | str | None = None,
    *,
    offline: bool | None = None,
    folder: str | Path | None = None,
) -> "folium.Map":
    """The Almaty map for one day, set of layers and set of event types (a pure function).

    Parameters
    ----------
    day : int, str or datetime.date, default 19
        Show the state up to this day of January 2022 (1-19).
    layers : str or list of str, optional
        Any of :data:`kzcourse.maps.LAYERS`; ``None`` means all.
    event_types : str or list of str, optional
        ACLED event types; ``None`` means all.
    offline : bool or None, default None
        Inline Leaflet and draw no tiles (see :mod:`kzcourse.maps`).
    folder : str or Path, optional
        A folder with a copy of the data files.

    Returns
    -------
    folium.Map
        The same map as ``kzcourse.maps.almaty_map(day, offline, layers, event_types)``.

    Examples
    --------
    >>> almaty_view(day=20)
    Traceback (most recent call last):
    ...
    kzcourse.errors.ChoiceError: Day 20 (int) is outside the period the course covers: expected a day from 2022-01-01 to 2022-01-19 (an integer 1-19, an ISO date string such as '2022-01-05', or a datetime.date).
    """
    from kzcourse import maps

    return maps.almaty_map(day=day, offline=offline, layers=layers, event_types=event_types, folder=folder)


def _map_html(m: "folium.Map") -> str:
    """The map as a self-contained iframe, as a notebook would show it."""
    return m._repr_html_()


# The front end of MapBridge (anywidget): the map page goes into an iframe once; every later change of
# day, layers or event types is a message of a few dozen bytes that the page's own controller applies
# (kzcourse.maps: almaty_map(day=None)), so Leaflet keeps the student's pan and zoom.
_BRIDGE_ESM = """
function render({ model, el }) {
  const frame = document.createElement("iframe");
  frame.title = model.get("map_title");
  frame.style.width = "100%";
  frame.style.height = model.get("map_height") + "px";
  frame.style.border = "1px solid #ccc";
  const send = () => {
    if (!frame.contentWindow) return;
    frame.contentWindow.postMessage({ kzcourse: { day: model.get("day"), layers: model.get("layers"),
      event_types: model.get("event_types"), external: true } }, "*");
  };
  const listen = (event) => {
    if (event.source !== frame.contentWindow || !event.data || !event.data.kzcourseView) return;
    model.set("map_view", event.data.kzcourseView);
    model.save_changes();
  };
  window.addEventListener("message", listen);
  frame.addEventListener("load", send);
  el.appendChild(frame);
  frame.srcdoc = model.get("html");
  model.on("change:day", send);
  model.on("change:layers", send);
  model.on("change:event_types", send);
  model.on("change:html", () => { frame.srcdoc = model.get("html"); });
  return () => window.removeEventListener("message", listen);
}
export default { render };
"""

_BRIDGE_CLASS: list[type] = []


def _bridge_class() -> type:
    """:class:`MapBridge`, made on first use (anywidget and traitlets load only when an explorer is built)."""
    if not _BRIDGE_CLASS:
        import anywidget
        import traitlets

        class MapBridge(anywidget.AnyWidget):
            """A kzcourse map shown once, then driven by small messages: ``day``, ``layers``, ``event_types``.

            ``map_view`` is what the map reports back after every move: ``{"center": [lat, lon], "zoom": z}``.
            """

            _esm = _BRIDGE_ESM
            html = traitlets.Unicode("").tag(sync=True)
            map_title = traitlets.Unicode("Map").tag(sync=True)
            map_height = traitlets.Int(520).tag(sync=True)
            day = traitlets.Int(19).tag(sync=True)
            layers = traitlets.List(traitlets.Unicode()).tag(sync=True)
            event_types = traitlets.List(traitlets.Unicode()).tag(sync=True)
            map_view = traitlets.Dict().tag(sync=True)

        MapBridge.__module__ = __name__
        _BRIDGE_CLASS.append(MapBridge)
    return _BRIDGE_CLASS[0]


def __getattr__(name: str) -> Any:
    if name == "MapBridge":
        return _bridge_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def checkbox_group(options: Iterable[str], value: Iterable[str], description: str) -> "ipywidgets.VBox":
    """A multiple choice a student makes by ticking boxes (no Ctrl-click): a box with one Checkbox per option.

    The box's ``.value`` is the tuple of ticked options, in the order of ``options``;
    setting it ticks exactly those boxes, and ``observe(handler, names="value")`` works
    as on any widget.

    >>> g = checkbox_group(["a", "b", "c"], ["a"], "Letters")
    >>> g.value
    ('a',)
    >>> g.checkboxes[2].value = True
    >>> g.value
    ('a', 'c')
    >>> g.value = ("b",)
    >>> [c.value for c in g.checkboxes]
    [False, True, False]
    """
    import ipywidgets as widgets
    import traitlets

    options = list(options)

    class CheckboxGroup(widgets.VBox):
        value = traitlets.Tuple()

    boxes = [widgets.Checkbox(value=o in set(value), description=o, indent=False,
                              layout=widgets.Layout(width="auto")) for o in options]
    title = widgets.HTML(f"<b>{html.escape(description)}</b>")
    group = CheckboxGroup([title, *boxes], value=tuple(o for o in options if o in set(value)))
    group.options = tuple(options)
    group.checkboxes = boxes
    syncing = []

    def from_boxes(_change: Any = None) -> None:
        if not syncing:
            group.value = tuple(o for o, b in zip(options, boxes) if b.value)

    def to_boxes(change: Any) -> None:
        syncing.append(True)
        try:
            for o, b in zip(options, boxes):
                b.value = o in set(change["new"])
        finally:
            syncing.pop()

    for b in boxes:
        b.observe(from_boxes, names="value")
    group.observe(to_boxes, names="value")
    return group


def _caption_html(m: Any) -> str:
    """The text alternative of the map now shown, as the explorer writes it above the map."""
    from kzcourse import maps

    return f"<p role='status'><em>{html.escape(maps.describe(m).caption)}</em></p>"


def almaty_explorer(*, offline: bool | None = None, folder: str | Path | None = None) -> "ipywidgets.VBox":
    """An ipywidgets explorer of the Almaty map: a day slider, layers and event types as check boxes.

    The map is sent to the browser once (the map of :func:`kzcourse.maps.almaty_map` with
    ``day=None``, every layer and type in it). Moving the slider or ticking a box sends
    only the new choice, and the map's own controller shows what :func:`almaty_view`
    would show for it, so the student's pan and zoom stay as they were. The slider is the
    only day control: the map's own day slider is hidden while the explorer drives it.

    The controls are reachable as attributes of the returned box: ``.day`` (IntSlider
    1-19), ``.layers`` and ``.event_types`` (check-box groups, see :func:`checkbox_group`;
    ``.value`` is the tuple of ticked options), ``.view`` (the :class:`MapBridge` showing
    the map; ``.view.map_view`` is the centre and zoom the map reports) and ``.caption``
    (HTML with the text alternative of the map now shown).

    Parameters
    ----------
    offline : bool or None, default None
        Build offline maps (no tiles, inlined Leaflet); None follows ``KZCOURSE_OFFLINE``
        (see :func:`kzcourse.maps.resolve_offline`). Online, the tiles are the basemap and
        the ``'countries'`` layer is not offered.
    folder : str or Path, optional
        A folder with a copy of the data files.

    Returns
    -------
    ipywidgets.VBox
        Not displayed; show it in a notebook by making it a cell's last line.

    Examples
    --------
    >>> w = almaty_explorer(offline=True)
    >>> w.day.min, w.day.max, w.day.value
    (1, 19, 19)
    >>> w.day.value = 5  # the map is told the new day; it is not sent again
    >>> w.view.day
    5
    """
    import ipywidgets as widgets

    from kzcourse import maps, queries

    offline = maps.resolve_offline(offline)
    offered = [name for name in maps.LAYERS if offline or name != "countries"]  # as almaty_map's default
    types = queries.all_event_types()
    full = maps.almaty_map(day=None, offline=offline, layers=offered, folder=folder)
    bridge = _bridge_class()(html=full.get_root().render(), map_title=maps.describe(full).caption[:120],
                             day=19, layers=offered, event_types=types)
    day = widgets.IntSlider(value=19, min=1, max=19, step=1, description="Day (Jan)", continuous_update=False)
    layers = checkbox_group(offered, offered, "Layers")
    event_types = checkbox_group(types, types, "Event types")
    caption = widgets.HTML()

    def redraw(_change: Any = None) -> None:
        bridge.day, bridge.layers, bridge.event_types = day.value, list(layers.value), list(event_types.value)
        m = almaty_view(day.value, list(layers.value), list(event_types.value), offline=offline, folder=folder)
        caption.value = _caption_html(m)

    for control in (day, layers, event_types):
        control.observe(redraw, names="value")
    redraw()
    box = widgets.VBox([widgets.HBox([day, layers, event_types]), caption, bridge])
    box.day, box.layers, box.event_types, box.view, box.caption = day, layers, event_types, bridge, caption
    return box


# =========================================================================== network explorer
# (reserved for issue "Networks": add the network explorer below this line)
# (kzcourse.network, kzcourse.charts; issue 4 "Actor relationship charts and the crisis timeline")

def ego_view(
    actor_id: str, phase: str = "crisis", radius: int = 1, size_by: str = "degree",
    *, folder: str | Path | None = None,
) -> "plotly.graph_objects.Figure":
    """One actor's ego network in one phase (a pure function).

    Parameters
    ----------
    actor_id : str
        An ``actor_id`` of ``kzcourse.data.load('actors')``.
    phase : str, default 'crisis'
        ``'before'``, ``'crisis'`` or ``'after'`` (see :data:`kzcourse.network.PHASES`).
    radius : int, default 1
        How many ties away from the actor to go (1, 2 or 3).
    size_by : str, default 'degree'
        Centrality that sets node size (:data:`kzcourse.network.CENTRALITIES`).
    folder : str or Path, optional
        A folder with a copy of the data files.

    Returns
    -------
    plotly.graph_objects.Figure
        The same figure as ``kzcourse.charts.ego_figure(actor_id, phase, radius, size_by)``.

    Examples
    --------
    >>> ego_view("no_such_actor")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    kzcourse.errors.ChoiceError: Unknown actor id 'no_such_actor' (str)...
    """
    from kzcourse import charts

    return charts.ego_figure(actor_id, phase, radius, size_by, folder=folder)


def _figure_output(fig: "plotly.graph_objects.Figure") -> tuple[dict[str, Any], ...]:
    """The outputs of an Output widget showing ``fig`` through plotly's JupyterLab renderer (works offline)."""
    from kzcourse.charts import plotly_mime_bundle

    bundle = plotly_mime_bundle(fig)
    bundle["text/plain"] = fig.layout.meta.get("alt", "") if isinstance(fig.layout.meta, dict) else ""
    return ({"output_type": "display_data", "data": bundle, "metadata": {}},)


def ego_explorer(
    actor_id: str | None = None, phase: str = "crisis", radius: int = 1, *, folder: str | Path | None = None
) -> "ipywidgets.VBox":
    """An ipywidgets explorer of ego networks: pick an actor, a phase and a radius.

    Changing a control redraws the figure (via :func:`ego_view`). The controls are
    reachable as attributes of the returned box: ``.actor`` (Dropdown of actors,
    labelled by name), ``.phase`` (ToggleButtons), ``.radius`` (ToggleButtons 1-3),
    ``.size_by`` (Dropdown of centralities), ``.view`` (Output showing the figure),
    ``.caption`` (HTML with the figure's text alternative) and ``.figure`` (the
    figure shown now).

    Parameters
    ----------
    actor_id : str, optional
        Actor to start with; by default the actor with most ties in ``phase``.
    phase : str, default 'crisis'
        Phase to start with.
    radius : int, default 1
        Radius to start with (1, 2 or 3).
    folder : str or Path, optional
        A folder with a copy of the data files.

    Returns
    -------
    ipywidgets.VBox
        Not displayed; show it in a notebook by making it a cell's last line.

    Examples
    --------
    >>> w = ego_explorer()
    >>> w.phase.options
    ('before', 'crisis', 'after')
    >>> w.phase.value = "after"  # the figure below redraws
    >>> w.figure.layout.meta["phase"]
    'after'
    """
    import ipywidgets as widgets

    from kzcourse import data, network
    from kzcourse._validate import check_choice

    network.check_phase(phase)
    check_choice(radius, (1, 2, 3), what="radius")
    actors = data.load("actors", folder)
    options = sorted(zip(actors["name"], actors["actor_id"]), key=lambda pair: pair[0].lower())
    if actor_id is None and options:
        table = network.centrality_table(phase, folder=folder)
        actor_id = str(table.index[0])
    elif actor_id is not None:
        network.check_actor(actor_id, folder=folder)
    actor = widgets.Dropdown(options=options, value=actor_id, description="Actor")
    phase_w = widgets.ToggleButtons(options=list(network.PHASES), value=phase, description="Phase",
                                    tooltips=[network.PHASE_LABELS[p] for p in network.PHASES])
    radius_w = widgets.ToggleButtons(options=[1, 2, 3], value=radius, description="Ties away",
                                     style={"button_width": "3em"})
    size_by = widgets.Dropdown(options=list(network.CENTRALITIES), value="degree", description="Size by")
    view = widgets.Output()
    caption = widgets.HTML()
    box = widgets.VBox([widgets.HBox([actor, size_by]), widgets.HBox([phase_w, radius_w]), caption, view])

    def redraw(_change: Any = None) -> None:
        if actor.value is None:
            box.figure = None
            caption.value = "<p>The dataset has no actors yet.</p>"
            view.outputs = ()
            return
        fig = ego_view(actor.value, phase_w.value, radius_w.value, size_by.value, folder=folder)
        box.figure = fig
        caption.value = f"<p><em>{html.escape(fig.layout.meta['alt'])}</em></p>"
        view.outputs = _figure_output(fig)

    for control in (actor, phase_w, radius_w, size_by):
        control.observe(redraw, names="value")
    box.actor, box.phase, box.radius, box.size_by, box.view, box.caption = actor, phase_w, radius_w, size_by, view, caption
    redraw()
    return box


# =========================================================================== Article reader
# (kzcourse.data; lesson 01 "The article as a source")


def article_view(query: str = "", *, whole_word: bool = False) -> "pd.DataFrame":
    """Return the paragraphs of the seed article that contain ``query`` (case-insensitive).

    Parameters
    ----------
    query : str
        Words to look for; an empty query returns every paragraph.
    whole_word : bool
        Match ``query`` only as a whole word ("said" but not "unsaid").

    Returns
    -------
    pandas.DataFrame
        ``paragraph_id``, ``text`` and ``hits`` (how often the words occur), in article order.

    Examples
    --------
    >>> list(article_view("Anceschi")["paragraph_id"])
    ['P13', 'P36', 'P37']
    >>> article_view(3)
    Traceback (most recent call last):
    ...
    kzcourse.errors.InputTypeError: The search words should be a str, got 3 (int). Put them in quotes, e.g. article_view("Masimov").
    """
    from kzcourse import data
    from kzcourse._validate import describe
    from kzcourse.errors import InputTypeError

    if not isinstance(query, str):
        raise InputTypeError(f"The search words should be a str, got {describe(query)}. Put them in quotes, e.g. article_view(\"Masimov\").")
    paras = data.paragraphs()
    pattern = _search_pattern(query, whole_word)
    hits = paras["text"].str.count(pattern) if pattern else paras["text"].str.len().clip(upper=0) + 1
    out = paras.assign(hits=hits.astype(int))
    return out.loc[out["hits"] > 0, ["paragraph_id", "text", "hits"]].reset_index(drop=True)


def _search_pattern(query: str, whole_word: bool) -> "re.Pattern[str] | None":
    """The compiled, case-insensitive pattern of a search; ``None`` for an empty query."""
    import re

    words = query.strip()
    if not words:
        return None
    pattern = re.escape(words)
    return re.compile(rf"\b{pattern}\b" if whole_word else pattern, re.IGNORECASE)


def highlight(text: str, query: str, *, whole_word: bool = False) -> str:
    """Escape ``text`` for HTML and wrap each match of ``query`` in ``<mark>``, exactly as :func:`article_view` counts them.

    Matches are found in the plain text and the pieces escaped afterwards, so a whole-word
    search marks "Russia" but not the start of "Russian", and HTML entities are never matched.

    >>> highlight("Russia and Russian troops", "Russia", whole_word=True)
    '<mark>Russia</mark> and Russian troops'
    >>> highlight("Russia and Russian troops", "russia")
    '<mark>Russia</mark> and <mark>Russia</mark>n troops'
    """
    pattern = _search_pattern(query, whole_word)
    if pattern is None:
        return html.escape(text)
    out, end = [], 0
    for match in pattern.finditer(text):
        out += [html.escape(text[end:match.start()]), f"<mark>{html.escape(match.group(0))}</mark>"]
        end = match.end()
    return "".join(out) + html.escape(text[end:])


def _article_html(query: str, whole_word: bool) -> str:
    table = article_view(query, whole_word=whole_word)
    caption = f"{len(table)} paragraph(s) contain {query!r}." if query.strip() else "All paragraphs."
    rows = []
    for _, row in table.iterrows():
        text = highlight(row["text"], query, whole_word=whole_word)
        rows.append(f"<tr><th scope='row' style='vertical-align:top;padding-right:8px'>{row['paragraph_id']}</th><td>{text}</td></tr>")
    return f"<p role='status'>{html.escape(caption)}</p><table><caption class='sr-only'>{html.escape(caption)}</caption>{''.join(rows)}</table>"


def article_reader(query: str = "") -> "ipywidgets.VBox":
    """A search box over the seed article: type words, see the paragraphs (with ids) that hold them.

    The view is :func:`article_view`; this function only wires widgets to it.

    >>> w = article_reader("Putin")
    >>> w.children[0].value
    'Putin'
    """
    import ipywidgets as widgets

    box = widgets.Text(value=query, description="Search", placeholder="e.g. Masimov, said, Russia", continuous_update=False)
    whole = widgets.Checkbox(value=False, description="whole word only")
    shown = widgets.HTML(value=_article_html(query, False))

    def redraw(_change: Any = None) -> None:
        shown.value = _article_html(box.value, whole.value)

    box.observe(redraw, names="value")
    whole.observe(redraw, names="value")
    return widgets.VBox([box, whole, shown])
