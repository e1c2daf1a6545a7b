"""The annotated article: the seed article with paragraph ids and every claim of ``claims`` marked in place.

Each claim's quote is wrapped in a ``<mark>`` at its paragraph, followed by a link whose
text names the claim and its status in words and a symbol (never colour alone); the link
leads to the claim's note right below the paragraph (a ``<details>`` that the link opens):
status, finding and sources (with links), and a link back. Claims of the topic ``translation`` are labelled as translation
artefacts and listed at the top.
"""
from __future__ import annotations

import re
from typing import Any

from kzcourse.site.render import esc

#: Status -> (symbol, what it means). The symbol repeats the status in text, never alone.
STATUSES = {
    "corroborated": ("✓", "other sources confirm it"),
    "contradicted": ("✗", "other sources show it is wrong"),
    "disputed": ("⇄", "sources disagree"),
    "unverifiable": ("?", "no source we found can check it"),
    "garbled": ("≈", "the wording is mangled, usually by the machine translation"),
    "withheld": ("…", "a lesson asks you to weigh it yourself; the course's verdict is not published"),
}


def _spans(text: str, quotes: list[tuple[str, str]]) -> list[tuple[int, int, list[str]]]:
    """Non-overlapping ``(start, end, claim_ids)`` spans; a claim whose quote overlaps an earlier one joins it."""
    found = []
    for claim_id, quote in quotes:
        start = text.find(quote)
        if start < 0:
            start = text.lower().find(quote.lower())
        found.append((start, start + len(quote), claim_id))
    spans: list[tuple[int, int, list[str]]] = []
    for start, end, claim_id in sorted(f for f in found if f[0] >= 0):
        if spans and start < spans[-1][1]:
            spans[-1] = (spans[-1][0], max(end, spans[-1][1]), spans[-1][2] + [claim_id])
        else:
            spans.append((start, end, [claim_id]))
    missing = [c for s, _, c in found if s < 0]
    if missing:  # validate() guarantees quotes are found; keep the claim visible anyway
        spans.append((len(text), len(text), missing))
    return spans


def _source_items(cite: str, sources: Any) -> str:
    from kzcourse.data import split_cite

    items = []
    for key in split_cite(cite):
        if re.fullmatch(r"P\d+", key):
            items.append(f'<li><a href="#{key}">the article, paragraph {key}</a></li>')
        elif key in sources.index:
            row = sources.loc[key]
            date = "" if str(row["date"]) in ("NaT", "None", "") else f", {str(row['date'])[:10]}"
            label = f"{row['publisher']}: “{row['title']}”{date}"
            url = str(row.get("url") or "")
            link = f'<a href="{esc(url)}">{esc(label)}</a>' if url.startswith("http") else esc(label)
            items.append(f"<li>{link}</li>")
        else:
            items.append(f"<li>{esc(key)}</li>")
    return "".join(items)


def claim_tag(claim: Any) -> str:
    """The in-text link of one claim: id, symbol and status in words."""
    symbol, _ = STATUSES.get(claim["status"], ("•", ""))
    extra = " · translation artefact" if claim["topic"] == "translation" else ""
    return (f'<a class="kz-claim-tag st-{esc(claim["status"])}" href="#{esc(claim["claim_id"])}-note" '
            f'id="{esc(claim["claim_id"])}"><span aria-hidden="true">{symbol}</span> '
            f'{esc(claim["claim_id"])}: {esc(claim["status"])}{extra}</a>')


def article_html() -> str:
    """The page body (``<main>`` content) of the annotated article."""
    from kzcourse import data

    paragraphs = data.paragraphs()
    claims = data.load("claims")
    sources = data.load("sources").set_index("source_id")
    by_paragraph: dict[str, list[Any]] = {}
    for _, claim in claims.iterrows():
        by_paragraph.setdefault(claim["paragraph"], []).append(claim)
    counts = claims["status"].value_counts()
    legend = "".join(
        f'<li><span class="kz-claim-tag st-{s}"><span aria-hidden="true">{sym}</span> {s}</span> — {esc(why)} '
        f'({int(counts.get(s, 0))} claim{"s" if int(counts.get(s, 0)) != 1 else ""})</li>'
        for s, (sym, why) in STATUSES.items())
    artefacts = claims.loc[claims["topic"] == "translation"]
    artefact_items = "".join(
        f'<li><a href="#{esc(c["claim_id"])}-note">{esc(c["claim_id"])} in {esc(c["paragraph"])}</a>: '
        f'“{esc(c["quote"])}” — {esc(c["finding"])}</li>' for _, c in artefacts.iterrows())
    parts = [
        '<h1>The annotated article</h1>',
        '<p>The course\'s primary source, kept as given: a machine-translated copy of a news report of '
        '8 January 2022. Every paragraph has its id (P1, P2, …), the citation the lessons and the dataset use. '
        f'Each of the {len(claims)} checked claims of the <a href="data.html">claims table</a> is marked where '
        'it stands, with a link that names its status; the link leads to the finding and its sources, '
        'just below the paragraph, where one more click (or Enter) opens it.</p>',
        '<h2 id="statuses">What the marks mean</h2>', f'<ul class="kz-legend">{legend}</ul>',
        '<h2 id="translation">Translation artefacts</h2>',
        '<p>Words the machine translation changed (read the translation as a witness who may have misheard):</p>',
        f'<ul>{artefact_items}</ul>',
        '<h2 id="text">The article</h2>',
    ]
    for _, row in paragraphs.iterrows():
        pid, text = row["paragraph_id"], row["text"]
        here = by_paragraph.get(pid, [])
        by_id = {c["claim_id"]: c for c in here}
        out, pos = [], 0
        for start, end, ids in _spans(text, [(c["claim_id"], c["quote"]) for c in here]):
            out.append(esc(text[pos:start]))
            tags = " ".join(claim_tag(by_id[i]) for i in ids)
            if end > start:
                out.append(f'<mark class="kz-claim st-{esc(by_id[ids[0]]["status"])}">{esc(text[start:end])}</mark> {tags}')
            else:
                out.append(f" {tags}")
            pos = end
        out.append(esc(text[pos:]))
        notes = ""
        if here:
            items = []
            for c in here:
                symbol, why = STATUSES.get(c["status"], ("•", ""))
                artefact = ' <span class="kz-artefact">translation artefact</span>' if c["topic"] == "translation" else ""
                items.append(
                    f'<li><details class="kz-note-claim" id="{esc(c["claim_id"])}-note"><summary><strong>'
                    f'{esc(c["claim_id"])} — <span aria-hidden="true">{symbol}</span> {esc(c["status"])}</strong>'
                    f'{artefact}: “{esc(c["quote"])}”</summary><p>{esc(c["finding"])} (Topic: {esc(c["topic"])}.)</p>'
                    f'<p>Sources:</p><ul>{_source_items(c["cite"], sources)}</ul>'
                    f'<p><a href="#{esc(c["claim_id"])}">Back to {esc(c["claim_id"])} in the text of {pid}</a></p>'
                    f'</details></li>')
            notes = f'<aside class="kz-notes" aria-label="Claims in {pid}"><ul>{"".join(items)}</ul></aside>'
        parts.append(f'<div class="kz-para" id="{pid}"><p><span class="kz-pid">{pid}</span> {"".join(out)}</p>'
                     f'{notes}</div>')
    return "\n".join(parts)
