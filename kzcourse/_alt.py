"""The text alternative shared by every map and chart: a caption, the table behind the figure, notes.

:func:`kzcourse.maps.describe` and :func:`kzcourse.charts.describe` both return a
:class:`Description`. In a notebook it shows as formatted text (the caption as a figure
caption above an HTML table), never as ``print`` output; ``str()`` gives plain text for
a screen reader or a file. It also unpacks as ``caption, table``.

>>> import pandas as pd
>>> d = Description("Two places.", pd.DataFrame({"place": ["Almaty", "Aktau"]}))
>>> caption, table = d
>>> caption, len(table)
('Two places.', 2)
>>> print(d)
Two places.
<BLANKLINE>
 place
Almaty
 Aktau
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterator

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


@dataclass
class Description:
    """A figure's text alternative: ``caption`` (str), ``table`` (pandas.DataFrame) and ``notes`` (list of str)."""

    caption: str
    table: "pd.DataFrame"
    notes: list[str] = field(default_factory=list)

    def caption_only(self) -> "Caption":
        """The caption alone, shown in a notebook as formatted text (for a cell that shows the figure below it).

        >>> Description("A map.", None).caption_only()._repr_html_()
        '<p class="kzcourse-caption"><em>A map.</em></p>'
        """
        return Caption(self.caption)

    def __iter__(self) -> Iterator[Any]:
        # ``caption, table = describe(fig)`` keeps working for code written when describe returned a pair.
        return iter((self.caption, self.table))

    def __str__(self) -> str:
        body = self.table.to_string(index=False) if len(self.table) else "(the table is empty)"
        notes = "".join(f"\nNote: {n}" for n in self.notes)
        return f"{self.caption}\n\n{body}{notes}"

    def _repr_html_(self) -> str:
        notes = "".join(f"<p><em>Note:</em> {html.escape(n)}</p>" for n in self.notes)
        table = self.table.to_html(index=False, border=0, na_rep="") if len(self.table) else "<p>(the table is empty)</p>"
        return (f"<figure class=\"kzcourse-description\"><figcaption style=\"max-width:60em;font-weight:bold\">"
                f"{html.escape(self.caption)}</figcaption>{table}{notes}</figure>")


@dataclass(frozen=True)
class Caption:
    """A figure's caption as formatted text: italic in a notebook, plain with ``str()``."""

    text: str

    def __str__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        return f'<p class="kzcourse-caption"><em>{html.escape(self.text)}</em></p>'
