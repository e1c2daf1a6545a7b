"""Executed notebooks to HTML fragments for the course site: cells, outputs, maps, charts, widgets.

Everything a page needs is written by this module, so the site controls every byte:

* **maps** (folium's ``<iframe srcdoc=...>``) become files ``maps/<page>-<n>.html``, given
  ``lang="en"``; their large inline scripts and styles (Leaflet) are written once per site
  to ``assets/inline-<hash>.js|css`` and referenced, so a page does not carry Leaflet twice;
* **charts** (``application/vnd.plotly.v1+json``) become a ``<figure>`` drawn by the site's
  one copy of plotly.js, captioned with the figure's text alternative;
* **widgets** become a static snapshot of their saved state (disabled native controls, the
  HTML and Output widgets' content), with a line saying that exploring needs a notebook;
* **answer cells** of the student edition show the question's code or prompt, never a
  traceback; error outputs are dropped everywhere.
"""
from __future__ import annotations

import hashlib
import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The mime type under which the execution prelude stores a map's text alternative.
ALT_MIME = "application/x-kzcourse-alt+html"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
PLOTLY = "application/vnd.plotly.v1+json"
#: Inline scripts and styles larger than this are shared site assets.
SHARED_MIN = 8_000

SNAPSHOT_NOTE = ("Snapshot of an interactive explorer as the lesson opens; its controls are disabled here. "
                 "Exploring needs a running notebook: download the lesson or use a launch button.")

_IFRAME_RE = re.compile(r'<iframe\s+srcdoc="([^"]*)"([^>]*)>\s*</iframe>', re.S)
_TRUST_RE = re.compile(r"<span[^>]*>Make this Notebook Trusted to load map[^<]*</span>")
_BLOCK_RE = re.compile(r"<(script|style)>(.*?)</\1>", re.S)
_TITLE_RE = re.compile(r"<title>(.*?)</title>", re.S)
_ANCHOR_RE = re.compile(r'<a class="anchor-link" href="#[^"]*">[^<]*</a>')
_HEADING_RE = re.compile(r"<h([1-6])([^>]*)>(.*?)</h\1>", re.S)


@dataclass
class Counts:
    """What a page shows: maps, charts and widget snapshots (for tests and the build summary)."""

    maps: int = 0
    charts: int = 0
    widgets: int = 0
    alternatives: int = 0


@dataclass
class SiteFiles:
    """The site folder and its shared assets (written once, however many pages use them)."""

    root: Path
    written: set[str] = field(default_factory=set)

    def asset(self, text: str, suffix: str) -> str:
        """Write ``text`` once as ``assets/inline-<hash><suffix>``; return its name."""
        name = f"inline-{hashlib.sha256(text.encode()).hexdigest()[:12]}{suffix}"
        if name not in self.written:
            (self.root / "assets").mkdir(parents=True, exist_ok=True)
            (self.root / "assets" / name).write_text(text, encoding="utf-8")
            self.written.add(name)
        return name


def esc(value: Any) -> str:
    """HTML-escape ``value`` (quotes included).

    >>> esc('<a href="x">')
    '&lt;a href=&quot;x&quot;&gt;'
    """
    return html.escape(str(value), quote=True)


def markdown(source: str) -> str:
    """Markdown to HTML (nbconvert's renderer) without the pilcrow anchor links.

    >>> markdown("## Two words")
    '<h2 id="Two-words">Two words</h2>'
    """
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    return _ANCHOR_RE.sub("", markdown2html_mistune(source)).strip()


def shift_headings(fragment: str, by: int) -> str:
    """Move every heading of ``fragment`` down ``by`` levels (capped at h6).

    >>> shift_headings('<h1 id="a">A</h1><h2>B</h2>', 1)
    '<h2 id="a">A</h2><h3>B</h3>'
    """
    def repl(m: re.Match) -> str:
        level = min(6, int(m.group(1)) + by)
        return f"<h{level}{m.group(2)}>{m.group(3)}</h{level}>"

    return _HEADING_RE.sub(repl, fragment)


def headings_in_order(fragment: str) -> str:
    """Lower any heading that skips a level (h2 then h4 becomes h2 then h3), keeping relative depth.

    >>> headings_in_order('<h1>A</h1><h3 id="b">B</h3><h4>C</h4><h2>D</h2>')
    '<h1>A</h1><h2 id="b">B</h2><h3>C</h3><h2>D</h2>'
    """
    stack: list[tuple[int, int]] = []  # (level in the source, level given)

    def repl(m: re.Match) -> str:
        level = int(m.group(1))
        while stack and stack[-1][0] >= level:
            stack.pop()
        given = min(level, (stack[-1][1] + 1) if stack else 1, 6)
        stack.append((level, given))
        return f"<h{given}{m.group(2)}>{m.group(3)}</h{given}>"

    return _HEADING_RE.sub(repl, fragment)


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


class NotebookRenderer:
    """Render one executed notebook's cells for the page ``stem`` of the site ``files``.

    ``edition`` is ``"student"`` (answer cells shown as questions, tests folded) or
    ``"instructor"`` (solutions and their outputs shown).
    """

    def __init__(self, files: SiteFiles, stem: str, edition: str = "student"):
        self.files, self.stem, self.edition = files, stem, edition
        self.counts = Counts()
        self._widgets: dict[str, Any] = {}
        self._n = 0
        self._tables = 0

    # ------------------------------------------------------------------ maps
    def map_document(self, doc: str) -> str:
        """A folium map's HTML document made site-ready: ``lang``, shared assets."""
        def share(m: re.Match) -> str:
            tag, body = m.group(1), m.group(2)
            if len(body) < SHARED_MIN:
                return m.group(0)
            if tag == "script":
                return f'<script src="../assets/{self.files.asset(body, ".js")}"></script>'
            return f'<link rel="stylesheet" href="../assets/{self.files.asset(body, ".css")}">'

        doc = _BLOCK_RE.sub(share, doc)
        if not re.search(r"<html[^>]*\blang=", doc):
            doc = re.sub(r"<html\b", '<html lang="en"', doc, count=1)
        return doc

    def rewrite_maps(self, fragment: str) -> str:
        """Replace every folium ``srcdoc`` iframe of ``fragment`` by an iframe on a map file."""
        def repl(m: re.Match) -> str:
            doc = self.map_document(html.unescape(m.group(1)))
            self._n += 1
            self.counts.maps += 1
            name = f"{self.stem}-{self._n}.html"
            (self.files.root / "maps").mkdir(parents=True, exist_ok=True)
            (self.files.root / "maps" / name).write_text(doc, encoding="utf-8")
            title = _TITLE_RE.search(doc)
            label = html.unescape(title.group(1).strip()) if title else "Interactive map"
            return (f'<iframe class="kz-map" src="maps/{name}" title="Map: {esc(label)}" loading="lazy">'
                    f'</iframe>')

        return _TRUST_RE.sub("", _IFRAME_RE.sub(repl, fragment))

    # ------------------------------------------------------------------ outputs
    def chart(self, spec: dict[str, Any]) -> str:
        """A plotly figure drawn by the site's plotly.js, captioned with its text alternative."""
        self._n += 1
        self.counts.charts += 1
        meta = spec.get("layout", {}).get("meta")
        alt = meta.get("alt", "") if isinstance(meta, dict) else ""
        title = spec.get("layout", {}).get("title")
        title = title.get("text", "") if isinstance(title, dict) else (title or "")
        caption = alt or html.unescape(re.sub(r"<[^>]+>", " ", str(title))).strip() or "Chart"
        data = json.dumps({"data": spec.get("data", []), "layout": spec.get("layout", {})}).replace("</", "<\\/")
        cid = f"chart-{self._n}"
        if alt:
            self.counts.alternatives += 1
        return (f'<figure class="kz-chart"><div class="kz-plotly" id="{cid}" data-spec="{cid}-spec"></div>'
                f'<script type="application/json" id="{cid}-spec">{data}</script>'
                f'<figcaption>{esc(caption)}</figcaption></figure>')

    def output(self, out: dict[str, Any]) -> str:
        """One output of a code cell (errors give '')."""
        kind = out.get("output_type")
        if kind == "stream":
            return f'<pre class="kz-out">{esc(_text(out.get("text", "")))}</pre>'
        if kind not in ("display_data", "execute_result"):
            return ""
        data = out.get("data", {})
        if WIDGET_VIEW in data:
            return self.widget_snapshot(data[WIDGET_VIEW].get("model_id", ""), data.get("text/plain", ""))
        if PLOTLY in data:
            return self.chart(data[PLOTLY])
        if "text/html" in data:
            body = self.rewrite_maps(_text(data["text/html"]))
            if ALT_MIME in data:
                self.counts.alternatives += 1
                body += (f'<details class="kz-alt"><summary>Text alternative of this map</summary>'
                         f'{_text(data[ALT_MIME])}</details>')
            if "<table" in body:  # a wide table scrolls: keyboard users reach it, screen readers hear its name
                self._tables += 1
                return (f'<div class="kz-out kz-html" tabindex="0" role="region" aria-label="Table output '
                        f'{self._tables}">{body}</div>')
            return f'<div class="kz-out kz-html">{body}</div>'
        alt = esc(_text(data.get("text/plain", "")).strip()[:300] or "Figure")
        if "image/png" in data:
            return f'<img class="kz-out" src="data:image/png;base64,{_text(data["image/png"]).strip()}" alt="{alt}">'
        if "image/svg+xml" in data:
            return f'<div class="kz-out" role="img" aria-label="{alt}">{_text(data["image/svg+xml"])}</div>'
        if "text/markdown" in data:
            return f'<div class="kz-out">{markdown(_text(data["text/markdown"]))}</div>'
        if "text/plain" in data:
            return f'<pre class="kz-out">{esc(_text(data["text/plain"]))}</pre>'
        return ""

    # ------------------------------------------------------------------ widgets
    def use_widget_state(self, nb: dict[str, Any]) -> None:
        """Read the widget state saved in the notebook's metadata (nbclient ``store_widget_state``)."""
        state = nb.get("metadata", {}).get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
        self._widgets = dict(state)

    def widget_snapshot(self, model_id: str, fallback: Any = "") -> str:
        """A whole widget (and its children) as a static, disabled snapshot with the explanatory note."""
        if model_id not in self._widgets:
            return f'<pre class="kz-out">{esc(_text(fallback))}</pre>'
        self.counts.widgets += 1
        return (f'<div class="kz-widget" role="group" aria-label="Explorer snapshot">'
                f'<p class="kz-note">{esc(SNAPSHOT_NOTE)}</p>{self._widget(model_id, 0)}</div>')

    def _widget(self, ref: str, depth: int) -> str:
        model_id = ref.removeprefix("IPY_MODEL_")
        model = self._widgets.get(model_id)
        if model is None or depth > 20:
            return ""
        name, s = model.get("model_name", ""), model.get("state", {})
        desc = esc(s.get("description", ""))
        self._n += 1
        wid = f"{self.stem}-w{self._n}"
        labels = [str(x) for x in s.get("_options_labels", [])]
        if name in ("VBoxModel", "HBoxModel", "BoxModel", "GridBoxModel", "AccordionModel", "TabModel"):
            cls = "kz-hbox" if name == "HBoxModel" else "kz-vbox"
            return f'<div class="{cls}">{"".join(self._widget(c, depth + 1) for c in s.get("children", []))}</div>'
        if name in ("HTMLModel", "HTMLMathModel"):
            label = f'<span class="kz-wlabel">{desc}</span> ' if desc else ""
            return f'<div class="kz-whtml">{label}{self.rewrite_maps(str(s.get("value", "")))}</div>'
        if name == "AnyModel" and isinstance(s.get("html"), str):  # kzcourse.explore.MapBridge: the map it shows
            return self.rewrite_maps(f'<iframe srcdoc="{html.escape(s["html"], quote=True)}"></iframe>')
        if name == "LabelModel":
            return f'<p>{esc(s.get("value", ""))}</p>'
        if name == "OutputModel":
            return f'<div class="kz-woutput">{"".join(self.output(o) for o in s.get("outputs", []))}</div>'
        if name in ("IntSliderModel", "FloatSliderModel"):
            return (f'<div class="kz-wctl"><label for="{wid}">{desc or "Value"}</label> '
                    f'<input type="range" id="{wid}" min="{esc(s.get("min", 0))}" max="{esc(s.get("max", 100))}" '
                    f'step="{esc(s.get("step", 1))}" value="{esc(s.get("value", 0))}" disabled> '
                    f'<output for="{wid}">{esc(s.get("value", ""))}</output></div>')
        if name in ("DropdownModel", "SelectModel", "SelectMultipleModel", "SelectionSliderModel"):
            chosen = s.get("index")
            chosen = set(chosen) if isinstance(chosen, list) else {chosen}
            multiple = " multiple" if name == "SelectMultipleModel" else ""
            size = f' size="{min(len(labels), int(s.get("rows") or 5))}"' if multiple else ""
            options = "".join(f'<option{" selected" if i in chosen else ""}>{esc(l)}</option>'
                              for i, l in enumerate(labels))
            return (f'<div class="kz-wctl"><label for="{wid}">{desc or "Choice"}</label> '
                    f'<select id="{wid}"{multiple}{size} disabled>{options}</select></div>')
        if name in ("ToggleButtonsModel", "RadioButtonsModel"):
            chosen = s.get("index")
            buttons = "".join(f'<button type="button" aria-pressed="{"true" if i == chosen else "false"}" disabled>'
                              f'{esc(l)}</button>' for i, l in enumerate(labels))
            return (f'<div class="kz-wctl" role="group" aria-labelledby="{wid}"><span id="{wid}" '
                    f'class="kz-wlabel">{desc or "Options"}</span> {buttons}</div>')
        if name in ("TextModel", "TextareaModel"):
            ph = esc(s.get("placeholder", ""))
            return (f'<div class="kz-wctl"><label for="{wid}">{desc or "Text"}</label> '
                    f'<input type="text" id="{wid}" value="{esc(s.get("value", ""))}" placeholder="{ph}" disabled></div>')
        if name == "CheckboxModel":
            checked = " checked" if s.get("value") else ""
            return (f'<div class="kz-wctl"><input type="checkbox" id="{wid}"{checked} disabled> '
                    f'<label for="{wid}">{desc or "Option"}</label></div>')
        if name == "ButtonModel":
            return f'<div class="kz-wctl"><button type="button" disabled>{esc(s.get("description", "Button"))}</button></div>'
        page = s.get("html")
        if isinstance(page, str) and re.match(r"\s*(<!DOCTYPE html>|<html)", page, re.I):
            # a widget that shows a whole map page in an iframe (kzcourse.explore's MapBridge, an anywidget)
            label = esc(s.get("title") or "Interactive map")
            return self.rewrite_maps(f'<iframe srcdoc="{esc(page)}" title="{label}"></iframe>')
        if name.endswith("Model") and ("Layout" in name or "Style" in name):
            return ""
        return f'<p class="kz-note">({esc(name.removesuffix("Model"))} control: open the notebook to use it.)</p>'

    # ------------------------------------------------------------------ cells
    def cell(self, cell: dict[str, Any]) -> str:
        """One cell as HTML: markdown, or code with its outputs (answers and tests handled by edition)."""
        meta = cell.get("metadata", {}).get("nbgrader", {})
        source = _text(cell.get("source", ""))
        student = self.edition == "student"
        if cell.get("cell_type") == "markdown":
            if meta.get("solution") and student:
                return ('<div class="kz-answer"><p class="kz-answer-label">Your written answer goes here '
                        '(in the notebook).</p></div>')
            body = markdown(source)
            if meta.get("solution"):
                return f'<div class="kz-answer kz-solution"><p class="kz-answer-label">Model answer</p>{body}</div>'
            return f'<div class="kz-md">{body}</div>'
        if cell.get("cell_type") != "code":
            return ""
        outputs = cell.get("outputs", [])
        failed = any(o.get("output_type") == "error" for o in outputs)
        code = f'<pre class="kz-code"><code>{esc(source)}</code></pre>'
        if meta.get("grade") and not meta.get("solution"):  # a test cell
            shown = "".join(self.output(o) for o in outputs) if not student else ""
            return (f'<details class="kz-tests"><summary>Tests for this question ({esc(meta.get("points", 0))} '
                    f'point{"s" if meta.get("points", 0) != 1 else ""})</summary>{code}{shown}</details>')
        if meta.get("solution"):
            if student:
                return (f'<div class="kz-answer"><p class="kz-answer-label">Your answer (write it in the '
                        f'notebook)</p>{code}</div>')
            shown = "".join(self.output(o) for o in outputs)
            return f'<div class="kz-answer kz-solution"><p class="kz-answer-label">Solution</p>{code}{shown}</div>'
        shown = "".join(self.output(o) for o in outputs)
        if failed:
            shown += ('<p class="kz-note">This cell needs the answers above: its output appears when you run '
                      'the notebook.</p>')
        return f'<div class="kz-cell">{code}{shown}</div>'
