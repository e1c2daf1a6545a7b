"""The course's data: the seed article's paragraphs and the cited tables.

Everything is read from files shipped inside the package (``kzcourse/data/``),
so it works offline and from an installed wheel. The tables are described by a
Frictionless Data Package (``kzcourse/data/datapackage.json``); loading checks
every row against it — types, required fields, vocabularies, primary and
foreign keys, and that every citation points to an existing paragraph or source.

>>> from kzcourse import data
>>> data.TABLES
('sources', 'actors', 'relations', 'places', 'events', 'claims', 'attributions', 'figures')
>>> paras = data.paragraphs()
>>> paras.loc[0, "paragraph_id"], paras.loc[0, "text"][:40]
('P1', 'In the midst of the crisis, the leader o')
>>> data.paragraph("P37")[:26]
'The president, Dr Anceschi'
"""
from __future__ import annotations

import csv
import datetime as _dt
import hashlib
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field as _field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kzcourse._validate import check_choice, describe
from kzcourse.errors import DataError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

#: Names of the tables, in the order they are best read.
TABLES: tuple[str, ...] = ("sources", "actors", "relations", "places", "events", "claims", "attributions", "figures")

#: File name of the seed article inside the package data folder (a byte-for-byte copy of seeds/).
ARTICLE_FILE = "article.txt"
#: The seed article's publication date (Saturday).
ARTICLE_DATE = _dt.date(2022, 1, 8)

_PARAGRAPH_RE = re.compile(r"^P([1-9][0-9]*)$")


def data_dir() -> Path:
    """Return the folder the packaged data files live in.

    >>> (data_dir() / "datapackage.json").is_file()
    True
    """
    return Path(str(resources.files("kzcourse") / "data"))


# --------------------------------------------------------------------------- article
def _paragraph_texts(folder: str | Path | None) -> tuple[str, ...]:
    """The article's non-empty lines, as the folder's :class:`Dataset` holds them."""
    return dataset(folder)._base().texts


def _read_paragraphs(folder: Path) -> tuple[str, ...]:
    path = folder / ARTICLE_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(
            f"The seed article is missing: expected the file {path}. "
            "Reinstall kzcourse, or copy seeds/000_0ce620ee8e70cfa9.txt there."
        ) from None
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def paragraphs(folder: str | Path | None = None) -> "pd.DataFrame":
    """Return the seed article as a table of paragraphs.

    Paragraph ids are ``P1``, ``P2``, ... over the non-empty lines of the
    article, in order; ``P1`` is the headline. The ids never change because
    the article is kept exactly as given.

    Returns
    -------
    pandas.DataFrame
        Columns ``paragraph_id`` (str), ``number`` (int) and ``text`` (str).

    Examples
    --------
    >>> p = paragraphs()
    >>> list(p.columns)
    ['paragraph_id', 'number', 'text']
    >>> len(p)
    38
    """
    import pandas as pd

    texts = _paragraph_texts(folder)
    return pd.DataFrame(
        {
            "paragraph_id": [f"P{i}" for i in range(1, len(texts) + 1)],
            "number": list(range(1, len(texts) + 1)),
            "text": list(texts),
        }
    )


def paragraph_ids(folder: str | Path | None = None) -> list[str]:
    """Return the valid paragraph ids, ``['P1', ..., 'P38']``.

    >>> paragraph_ids()[:3]
    ['P1', 'P2', 'P3']
    """
    n = len(_paragraph_texts(folder))
    return [f"P{i}" for i in range(1, n + 1)]


def paragraph(paragraph_id: str) -> str:
    """Return the text of one paragraph of the seed article.

    Parameters
    ----------
    paragraph_id : str
        ``'P1'`` to ``'P38'`` (an integer 1-38 also works).

    Examples
    --------
    >>> paragraph("P24")
    'And for 28 years, he was effectively Mr. Nazarbayev’s understudy.'
    >>> paragraph(24) == paragraph("P24")
    True
    """
    texts = _paragraph_texts(None)
    if isinstance(paragraph_id, int) and not isinstance(paragraph_id, bool):
        paragraph_id = f"P{paragraph_id}"
    check_choice(paragraph_id, [f"P{i}" for i in range(1, len(texts) + 1)], what="paragraph id")
    return texts[int(paragraph_id[1:]) - 1]


# --------------------------------------------------------------------------- citations
def split_cite(cite: str) -> list[str]:
    """Split a citation field into its parts.

    >>> split_cite("P29; knb-2022-01-08")
    ['P29', 'knb-2022-01-08']
    >>> split_cite("")
    []
    """
    return [part.strip() for part in str(cite).split(";") if part.strip()]


@dataclass(frozen=True)
class Citation:
    """One resolved citation: a paragraph of the article or an external source."""

    key: str
    kind: str  # "paragraph" or "source"
    label: str

    def __str__(self) -> str:
        return self.label


def _source_label(row: dict[str, Any]) -> str:
    """How a source is cited everywhere: publisher, “title”, date (when it has one)."""
    date = row.get("date")
    return f"{row['publisher']}, “{row['title']}”" + (f", {date:%Y-%m-%d}" if date else "")


def _paragraph_label(key: str) -> str:
    return f"seed article, paragraph {key}"


def resolve(cite: str, folder: str | Path | None = None) -> list[Citation]:
    """Turn a citation field into readable citations.

    Examples
    --------
    >>> [str(c) for c in resolve("P24")]
    ['seed article, paragraph P24']
    >>> str(resolve("P33;cia-world-factbook-kazakhstan")[1])[:26]
    'Central Intelligence Agenc'
    """
    sources = {r["source_id"]: r for r in _tables(folder)["sources"]}
    out = []
    for key in split_cite(cite):
        if _PARAGRAPH_RE.match(key):
            out.append(Citation(key, "paragraph", _paragraph_label(key)))
        else:
            check_choice(key, list(sources), what="source id")
            out.append(Citation(key, "source", _source_label(sources[key])))
    return out


def citer(folder: str | Path | None = None) -> Callable[[str], str]:
    """Return a function that turns a citation field into one line of readable text.

    The one citation formatter of the package: maps, charts and the network tables
    all cite through it (labels as :func:`resolve` gives them, joined by ``'; '``).
    Ids that are neither a paragraph nor a source of ``folder`` are shown as they are.

    Examples
    --------
    >>> cite = citer()
    >>> cite("P24; P25")
    'seed article, paragraph P24; seed article, paragraph P25'
    """
    labels = {r["source_id"]: _source_label(r) for r in _tables(folder)["sources"]}

    def label(key: str) -> str:
        if key not in labels:
            labels[key] = _paragraph_label(key) if _PARAGRAPH_RE.match(key) else key
        return labels[key]

    return lambda cite: "; ".join(label(k) for k in split_cite(cite or ""))


# --------------------------------------------------------------------------- tables
def _package(folder: str | Path | None) -> dict[str, Any]:
    """The folder's parsed ``datapackage.json``, as its :class:`Dataset` holds it."""
    return dataset(folder)._base().package


def _read_package(folder: Path) -> dict[str, Any]:
    path = folder / "datapackage.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"The data package descriptor is missing: expected {path}.") from None
    except json.JSONDecodeError as exc:
        raise DataError(f"{path} is not valid JSON (line {exc.lineno}: {exc.msg}). Fix the file or restore it with git.") from None


def schema(name: str, folder: str | Path | None = None) -> dict[str, Any]:
    """Return the Table Schema of one table (fields, keys, descriptions).

    >>> [f["name"] for f in schema("claims")["fields"]][:3]
    ['claim_id', 'paragraph', 'quote']
    """
    check_choice(name, TABLES, what="table name", hint="Use kzcourse.data.TABLES to list them.")
    for res in _package(folder)["resources"]:
        if res["name"] == name:
            return res["schema"]
    raise DataError(f"datapackage.json has no resource named {name!r}; expected one for each of {TABLES}.")


class _Where:
    """Where a value sits, for error messages: file, row and field."""

    def __init__(self, file: str, row: int | None = None, field: str | None = None):
        self.file, self.row, self.field = file, row, field

    def __str__(self) -> str:
        out = self.file
        if self.row is not None:
            out += f", row {self.row} (line {self.row + 1})"
        if self.field is not None:
            out += f", field {self.field!r}"
        return out


def _convert(raw: str, field: dict[str, Any], where: _Where) -> Any:
    """Convert one CSV cell according to its Table Schema field; '' means missing."""
    cons = field.get("constraints", {})
    if raw == "":
        if cons.get("required"):
            raise DataError(f"{where}: a value is required but the cell is empty. Fill it in (see the data dictionary in README.md).")
        return None
    kind = field.get("type", "string")
    try:
        if kind == "string":
            value: Any = raw
        elif kind == "integer":
            value = int(raw)
        elif kind == "number":
            value = float(raw)
        elif kind == "date":
            value = _dt.date.fromisoformat(raw)
        elif kind == "boolean":
            if raw in field.get("trueValues", ["true"]):
                value = True
            elif raw in field.get("falseValues", ["false"]):
                value = False
            else:
                raise ValueError
        else:  # pragma: no cover - schema uses only the types above
            raise DataError(f"{where}: unsupported field type {kind!r} in datapackage.json.")
    except ValueError:
        expected = {
            "integer": "an integer such as 3",
            "number": "a decimal number such as 43.2383",
            "date": "a date written YYYY-MM-DD such as 2022-01-05",
            "boolean": "true or false",
        }[kind]
        raise DataError(f"{where}: expected {expected}, got {raw!r}. Correct the cell.") from None
    if "enum" in cons and value not in cons["enum"]:
        choices = ", ".join(repr(c) for c in cons["enum"])
        raise DataError(f"{where}: {raw!r} is not an allowed value. Allowed values: {choices}.")
    if "pattern" in cons and not re.fullmatch(cons["pattern"], raw):
        raise DataError(f"{where}: {raw!r} does not match the pattern {cons['pattern']!r} the schema requires.")
    if "minimum" in cons and value < cons["minimum"]:
        raise DataError(f"{where}: {raw!r} is below the minimum {cons['minimum']}.")
    if "maximum" in cons and value > cons["maximum"]:
        raise DataError(f"{where}: {raw!r} is above the maximum {cons['maximum']}.")
    return value


def _read_table(folder: Path, resource: dict[str, Any]) -> list[dict[str, Any]]:
    """Read one CSV and convert every cell; check the header and primary key."""
    file = resource["path"]
    path = folder / file
    fields = resource["schema"]["fields"]
    names = [f["name"] for f in fields]
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh, strict=True)
            header = next(reader, None)
            if header != names:
                raise DataError(
                    f"{file}: the header row does not match datapackage.json. "
                    f"Expected columns {names}, got {header}. Restore the header or update the schema."
                )
            rows = []
            for number, cells in enumerate(reader, start=1):
                if not any(cells):
                    continue
                if len(cells) != len(names):
                    raise DataError(
                        f"{_Where(file, number)}: expected {len(names)} cells, got {len(cells)}. "
                        "A comma inside a value needs the value in double quotes."
                    )
                rows.append({f["name"]: _convert(c, f, _Where(file, number, f["name"])) for c, f in zip(cells, fields)})
                rows[-1]["__row__"] = number
    except FileNotFoundError:
        raise DataError(f"The table file {path} is missing. Restore it with git or reinstall kzcourse.") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"{file} is not UTF-8 text ({exc.reason} at byte {exc.start}). Save it as UTF-8.") from None
    except csv.Error as exc:
        raise DataError(f"{file} is not well-formed CSV: {exc}. Check the quotes on that line.") from None
    key = resource["schema"].get("primaryKey")
    seen: dict[Any, int] = {}
    for row in rows:
        if row[key] in seen:
            raise DataError(
                f"{_Where(file, row['__row__'], key)}: duplicate id {row[key]!r} (first used in row {seen[row[key]]}). "
                "Ids must be unique; give this row a new one."
            )
        seen[row[key]] = row["__row__"]
    return rows


def _check_integrity(package: dict[str, Any], texts: tuple[str, ...], tables: dict[str, list[dict[str, Any]]]) -> None:
    """Check foreign keys and that every citation resolves."""
    para_ids = {f"P{i}" for i in range(1, len(texts) + 1)}
    source_ids = {r["source_id"] for r in tables["sources"]}
    for res in package["resources"]:
        file, rows = res["path"], tables[res["name"]]
        for fk in res["schema"].get("foreignKeys", []):
            target = fk["reference"]["resource"]
            valid = {r[fk["reference"]["fields"]] for r in tables[target]}
            for row in rows:
                value = row[fk["fields"]]
                if value is not None and value not in valid:
                    raise DataError(
                        f"{_Where(file, row['__row__'], fk['fields'])}: {value!r} is not a {fk['reference']['fields']} "
                        f"in {target}.csv. Add it there first, or use one of: {', '.join(sorted(valid))}."
                    )
        for field in res["schema"]["fields"]:
            if field["name"] not in ("cite", "coord_cite", "paragraph"):
                continue
            for row in rows:
                raw = row[field["name"]] or ""
                if raw and any(not part.strip() for part in raw.split(";")):
                    raise DataError(
                        f"{_Where(file, row['__row__'], field['name'])}: {raw!r} has an empty citation (nothing "
                        "before, between or after a ';'). Write citations as 'P12;source-id', with no empty part."
                    )
                for key in split_cite(raw):
                    if key not in para_ids and key not in source_ids:
                        raise DataError(
                            f"{_Where(file, row['__row__'], field['name'])}: citation {key!r} is neither a paragraph "
                            f"of the seed article (P1-P{len(para_ids)}) nor a source_id in sources.csv. "
                            "Add the source to sources.csv or correct the id."
                        )
    _check_figures(tables)
    _check_publisher_kinds(tables)
    texts = {f"P{i}": text for i, text in enumerate(texts, start=1)}
    for name in ("claims", "attributions"):
        for row in tables[name]:
            if row["quote"] not in texts.get(row["paragraph"], ""):
                raise DataError(
                    f"{_Where(f'{name}.csv', row['__row__'], 'quote')}: the quote {row['quote']!r} does not appear in "
                    f"paragraph {row['paragraph']}. Copy the words exactly from the article."
                )
    for row in tables["attributions"]:
        if "withheld" in (row["voice"], row["speaker_kind"], row["speaker"]):
            # A lesson asks students for this voice (kzcourse.lessons.WITHHOLDING): the speaker would give it away.
            if (row["voice"], row["speaker"], row["speaker_id"] or "", row["speaker_kind"]) != ("withheld", "withheld", "", "withheld"):
                raise DataError(
                    f"{_Where('attributions.csv', row['__row__'], 'voice')}: statement {row['statement_id']!r} has "
                    f"voice {row['voice']!r}, speaker {row['speaker']!r}, speaker_id {row['speaker_id']!r} and "
                    f"speaker_kind {row['speaker_kind']!r}. A withheld statement reads 'withheld' in voice, speaker "
                    "and speaker_kind, with an empty speaker_id (its real values go in the lesson's key.toml); "
                    "otherwise give all four."
                )
            continue
        reporter = row["voice"] == "reporter"
        if reporter != (row["speaker_kind"] == "reporter") or (reporter and (row["speaker"] or row["speaker_id"])):
            raise DataError(
                f"{_Where('attributions.csv', row['__row__'], 'speaker_kind')}: statement {row['statement_id']!r} has "
                f"voice {row['voice']!r}, speaker {row['speaker']!r} and speaker_kind {row['speaker_kind']!r}. The "
                "reporter's own statements have speaker_kind 'reporter' and no speaker; attributed and quoted ones name "
                "their speaker and its kind."
            )
        if not reporter and not row["speaker"]:
            raise DataError(
                f"{_Where('attributions.csv', row['__row__'], 'speaker')}: statement {row['statement_id']!r} is "
                f"{row['voice']} but names no speaker. Write who is credited, as the article names them."
            )


#: Tables whose ids a figure's ``record`` may name.
_RECORD_TABLES: dict[str, str] = {"events": "event_id", "relations": "relation_id", "places": "place_id", "claims": "claim_id"}


def _check_figures(tables: dict[str, list[dict[str, Any]]]) -> None:
    """A figure gives a value or a range (not both), belongs to an actor or a place, and names a real record."""
    records = {row[key] for name, key in _RECORD_TABLES.items() for row in tables[name]}
    for row in tables["figures"]:
        where = _Where("figures.csv", row["__row__"])
        low, high, value = row["low"], row["high"], row["value"]
        if value is None and (low is None or high is None):
            raise DataError(
                f"{where}: figure {row['figure_id']!r} has no number: give 'value', or both 'low' and 'high' for a range "
                f"(got value={value!r}, low={low!r}, high={high!r})."
            )
        if value is not None and (low is not None or high is not None):
            raise DataError(
                f"{where}: figure {row['figure_id']!r} gives both a value ({value!r}) and a range ({low!r}-{high!r}). "
                "Keep one: a single number in 'value', or a range in 'low' and 'high' with 'value' empty."
            )
        if value is None and low > high:
            raise DataError(f"{where}: figure {row['figure_id']!r} has low {low!r} above high {high!r}. Swap them.")
        if row["actor_id"] is None and row["place_id"] is None:
            raise DataError(
                f"{where}: figure {row['figure_id']!r} belongs to nobody: fill 'actor_id' (e.g. 'kazakhstan' for a "
                "national total, or the state whose contingent it is) or 'place_id' (a city or site)."
            )
        if row["record"] is not None and row["record"] not in records:
            raise DataError(
                f"{_Where('figures.csv', row['__row__'], 'record')}: {row['record']!r} is not an event_id, relation_id, "
                "place_id or claim_id of the dataset. Name the row whose notes tell this number's story, or leave it empty."
            )


#: Outlets whose ``publisher_kind`` is known, matched on the publisher's text: each pattern with the kind it
#: implies. A publisher is checked by the first of these it names before any '(', or else by one named inside
#: the parentheses (e.g. 'Punch (AFP)' is the agency's copy), unless it only cites the outlet ('(citing TASS)').
KNOWN_OUTLETS: tuple[tuple[str, str], ...] = (
    (r"\bTASS\b", "russian_state"), (r"\bRIA Novosti\b", "russian_state"), (r"\bSputnik\b", "russian_state"),
    (r"\bM24\b", "russian_state"),
    (r"\bKazinform\b", "kazakh_state"), (r"\bQazaq TV\b", "kazakh_state"), (r"\bKhabar\b", "kazakh_state"),
    (r"\bReuters\b", "wire"), (r"\bAssociated Press\b", "wire"), (r"\bAP\b", "wire"), (r"\bAFP\b", "wire"),
    (r"\bEFE\b", "wire"), (r"\bInterfax\b", "wire"), (r"\bAPA\b", "wire"),
    (r"\bRadio Free Europe\b", "other_state"), (r"\bRFE/RL\b", "other_state"), (r"\bAzattyq\b", "other_state"),
    (r"\bXinhua\b", "other_state"), (r"\bAnadolu\b", "other_state"), (r"\bAl Jazeera\b", "other_state"),
    (r"\bTRT World\b", "other_state"), (r"\bCGTN\b", "other_state"),
    (r"\bPledge Times\b|\bpledgetimes\.com\b", "rewrite_site"), (r"\bUrduPoint\b", "rewrite_site"),
    (r"\bTime\.News\b", "rewrite_site"), (r"\bTakeToNews\b", "rewrite_site"),
)
#: Words of a publisher that say we read the report in someone else's copy, which may have rewritten it.
_COPY_WORDS: tuple[str, ...] = ("copy", "translat", "via ", "republished", "reworded")


def _outlet_kind(text: str) -> tuple[str, str] | None:
    """The earliest known outlet named in ``text`` and its kind, or None."""
    import re

    hits = [(m.start(), m.group(0), kind) for pattern, kind in KNOWN_OUTLETS for m in [re.search(pattern, text)] if m]
    return min(hits)[1:] if hits else None


def publisher_kinds_allowed(publisher: str) -> tuple[str, set[str]] | None:
    """The known outlet a publisher names and the ``publisher_kind`` values it allows, or None when none is known.

    The kind of the outlet; a copy we read elsewhere ('copy on', 'translation of', 'via') may also be a
    ``rewrite_site``. A publisher that only cites an outlet ('News.am (citing KazTAG)') is not checked.

    >>> publisher_kinds_allowed("TASS")
    ('TASS', {'russian_state'})
    >>> publisher_kinds_allowed("Punch (AFP)")
    ('AFP', {'wire'})
    >>> sorted(publisher_kinds_allowed("RIA Novosti (English copy on pledgetimes.com)")[1])
    ['rewrite_site', 'russian_state']
    >>> publisher_kinds_allowed("Russia - Islamic World (citing TASS)") is None
    True
    """
    lead, _, rest = publisher.partition("(")
    found = _outlet_kind(lead)
    if found is None and rest and "citing" not in rest.lower():
        found = _outlet_kind(rest)
    if found is None:
        return None
    allowed = {found[1]}
    if any(w in publisher.lower() for w in _COPY_WORDS):
        allowed.add("rewrite_site")
    return found[0], allowed


def _check_publisher_kinds(tables: dict[str, list[dict[str, Any]]]) -> None:
    """A source published by a known outlet carries that outlet's ``publisher_kind`` (:data:`KNOWN_OUTLETS`)."""
    for row in tables["sources"]:
        known = publisher_kinds_allowed(row["publisher"])
        if known is None or row["publisher_kind"] in known[1]:
            continue
        outlet, allowed = known
        raise DataError(
            f"{_Where('sources.csv', row['__row__'], 'publisher_kind')}: source {row['source_id']!r} is published by "
            f"{outlet} ({row['publisher']!r}), so its publisher_kind should be {' or '.join(map(repr, sorted(allowed)))}, "
            f"got {row['publisher_kind']!r}. Fix the kind; if the report was read in someone else's rewritten copy, say so "
            "in publisher (e.g. '(copy on SITE)') and use 'rewrite_site'."
        )


def _read_all(folder: Path, package: dict[str, Any], texts: tuple[str, ...]) -> dict[str, list[dict[str, Any]]]:
    """Read and validate every table of ``folder``."""
    names = [r["name"] for r in package["resources"]]
    if sorted(names) != sorted(TABLES):
        raise DataError(f"datapackage.json describes the tables {names}; expected exactly {list(TABLES)}.")
    tables = {res["name"]: _read_table(folder, res) for res in package["resources"]}
    _check_integrity(package, texts, tables)
    return tables


# --------------------------------------------------------------------------- one Dataset per folder
@dataclass
class _State:
    """What one reading of a folder gave: the files' stamps, the schema, the article and what is built from them."""

    stamp: tuple
    package: dict[str, Any]
    texts: tuple[str, ...]
    tables: dict[str, list[dict[str, Any]]] | None = None
    derived: dict[Any, Any] = _field(default_factory=dict)
    #: Files modified less than :data:`_RACY_NS` before they were read, with their content's digest:
    #: an edit made in the same clock tick would not change their modification time.
    racy: dict[Path, str] = _field(default_factory=dict)


#: A file modified this recently (ns) when read is also compared by content until its time has passed.
_RACY_NS = 2_000_000_000


def _digest(path: Path) -> str:
    try:
        return hashlib.sha1(path.read_bytes()).hexdigest()
    except OSError:
        return ""


class Dataset:
    """The data of one folder: its schema, the article, the validated tables and what is built from them.

    There is one Dataset per folder (:func:`dataset`); :func:`load`, :func:`validate`,
    :func:`kzcourse.network.actor_graph`, :func:`kzcourse.network.centrality_table` and
    :mod:`kzcourse.queries` are served by it. Everything is built once and kept; every call
    first compares the modification time and size of the folder's files (``datapackage.json``,
    the article and each table's CSV) with those of the last reading, and reads the folder
    again when one changed, so an edit made while a kernel runs shows up at the next call.
    :meth:`reload` reads again unconditionally. What callers get are copies.

    Examples
    --------
    >>> ds = dataset()
    >>> ds is dataset(data_dir())
    True
    >>> ds.load("claims").loc[0, "claim_id"]
    'C01'
    >>> ds.reload().validate()["figures"] > 0
    True
    """

    def __init__(self, folder: Path):
        self.folder = folder
        #: How many times the folder has been read (1 after the first use; +1 per reload or detected edit).
        self.readings = 0
        self._state: _State | None = None
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return f"Dataset({str(self.folder)!r}, readings={self.readings})"

    def _paths(self, package: dict[str, Any] | None) -> list[Path]:
        names = ["datapackage.json", ARTICLE_FILE] + [r.get("path", "") for r in (package or {}).get("resources", [])]
        return [self.folder / n for n in names]

    @staticmethod
    def _stamp(paths: list[Path]) -> tuple:
        out = []
        for path in paths:
            try:
                st = path.stat()
            except OSError:
                out.append((path.name, None))
            else:
                out.append((path.name, st.st_mtime_ns, st.st_size))
        return tuple(out)

    def _unchanged(self, state: _State) -> bool:
        """Whether the folder's files are as ``state`` read them (modification time and size; content when racy)."""
        if self._stamp(self._paths(state.package)) != state.stamp:
            return False
        now = time.time_ns()
        for path, digest in list(state.racy.items()):
            if _digest(path) != digest:
                return False
            if now - path.stat().st_mtime_ns > _RACY_NS:
                del state.racy[path]  # from now on an edit gets a later modification time
        return True

    def _base(self) -> _State:
        """The current reading of the schema and the article (read again when a file changed)."""
        with self._lock:
            state = self._state
            if state is not None and self._unchanged(state):
                return state
            self._state = None
            package = _read_package(self.folder)
            paths = self._paths(package)
            stamp = self._stamp(paths)  # before reading, so an edit made meanwhile is seen next time
            now = time.time_ns()
            racy = {p: _digest(p) for p, st in zip(paths, stamp) if st[1] is not None and now - st[1] < _RACY_NS}
            self._state = _State(stamp, package, _read_paragraphs(self.folder), racy=racy)
            self.readings += 1
            return self._state

    def _current(self) -> _State:
        """The current reading, with every table read and validated."""
        with self._lock:
            state = self._base()
            if state.tables is None:
                state.tables = _read_all(self.folder, state.package, state.texts)
            return state

    def rows(self) -> dict[str, list[dict[str, Any]]]:
        """The validated rows of every table (shared: do not change them)."""
        return self._current().tables

    def derived(self, key: Any, build: Callable[[], Any]) -> Any:
        """What ``build()`` makes from the current tables, built once per reading and kept under ``key``.

        Shared: the caller hands out copies of it.
        """
        state = self._current()
        with self._lock:
            if key not in state.derived:
                state.derived[key] = build()
            return state.derived[key]

    def frame(self, name: str) -> "pd.DataFrame":
        """The shared DataFrame of one table (read-only; :meth:`load` copies it)."""
        check_choice(name, TABLES, what="table name", hint="Use kzcourse.data.TABLES to list them.")
        state = self._current()
        fields = next(r["schema"]["fields"] for r in state.package["resources"] if r["name"] == name)
        return self.derived(("frame", name), lambda: _frame(state.tables[name], fields))

    def load(self, name: str) -> "pd.DataFrame":
        """A copy of one table as a DataFrame (see :func:`load`)."""
        return self.frame(name).copy(deep=True)

    def validate(self) -> dict[str, int]:
        """Row count of each table, after validating all of them (see :func:`validate`)."""
        tables = self.rows()
        return {name: len(tables[name]) for name in TABLES}

    def reload(self) -> "Dataset":
        """Forget everything read or built and read the folder again now; returns the Dataset.

        Raises
        ------
        kzcourse.errors.DataError
            When the edited data no longer validates (nothing stale is kept: the next call reads again).
        """
        with self._lock:
            self._state = None
            self._current()
        return self


_DATASETS: dict[Path, Dataset] = {}
_DATASETS_LOCK = threading.Lock()


def dataset(folder: str | Path | None = None) -> Dataset:
    """The :class:`Dataset` of ``folder`` (by default the data shipped with kzcourse): one per folder.

    Nothing is read until it is first used.

    >>> dataset().folder == data_dir()
    True
    """
    path = Path(folder) if folder else data_dir()
    key = path.resolve()
    with _DATASETS_LOCK:
        if key not in _DATASETS:
            _DATASETS[key] = Dataset(path)
        return _DATASETS[key]


def reload(folder: str | Path | None = None) -> Dataset:
    """Read ``folder``'s data again now, dropping everything built from the old files.

    Edits are noticed without this (see :class:`Dataset`); call it to be sure, for instance
    after restoring a file with the same size and modification time.

    >>> reload().readings >= 1
    True
    """
    return dataset(folder).reload()


def _tables(folder: str | Path | None = None) -> dict[str, list[dict[str, Any]]]:
    """The validated rows of every table of ``folder`` (shared; see :meth:`Dataset.rows`)."""
    return dataset(folder).rows()


def validate(folder: str | Path | None = None) -> dict[str, int]:
    """Validate every table and return the row count of each.

    Raises
    ------
    kzcourse.errors.DataError
        Naming the file, row and field of the first problem found.

    Examples
    --------
    >>> counts = validate()
    >>> sorted(counts) == sorted(TABLES)
    True
    """
    return dataset(folder).validate()


def load(name: str, folder: str | Path | None = None) -> "pd.DataFrame":
    """Load one table of the dataset as a pandas DataFrame, after validating all of them.

    Parameters
    ----------
    name : str
        One of :data:`TABLES`.
    folder : str or Path, optional
        A folder holding a copy of the data files (for maintainers testing an
        edit); by default the data shipped with kzcourse.

    Returns
    -------
    pandas.DataFrame
        A fresh copy (changing it does not change the dataset). Dates are
        ``datetime64`` (missing: ``NaT``), integers nullable ``Int64``,
        booleans ``bool``, empty optional text ``""``.

    Examples
    --------
    >>> events = load("events")
    >>> str(events["event_date"].dtype)
    'datetime64[ns]'
    >>> load("event")
    Traceback (most recent call last):
    ...
    kzcourse.errors.ChoiceError: Unknown table name 'event' (str). Did you mean 'events'? Valid choices: 'actors', 'attributions', 'claims', 'events', 'figures', 'places', 'relations', 'sources'. Use kzcourse.data.TABLES to list them.
    """
    return dataset(folder).load(name)


def _shared_frame(name: str, folder: str | Path | None = None) -> "pd.DataFrame":
    """The DataFrame of one table, shared by every caller: for the data layer's own read-only use.

    :func:`load` hands out deep copies of it; :mod:`kzcourse.queries` reads it without copying
    and builds new frames, never changing it.
    """
    return dataset(folder).frame(name)


def _frame(rows: list[dict[str, Any]], fields: list[dict[str, Any]]) -> "pd.DataFrame":
    import pandas as pd

    columns = {}
    for f in fields:
        values = [r[f["name"]] for r in rows]
        kind = f.get("type", "string")
        if kind == "date":
            columns[f["name"]] = pd.to_datetime(pd.Series(values, dtype="object")).astype("datetime64[ns]")
        elif kind == "integer":
            columns[f["name"]] = pd.array(values, dtype="Int64")
        elif kind == "number":
            columns[f["name"]] = pd.array([float("nan") if v is None else v for v in values], dtype="float64")
        elif kind == "boolean":
            columns[f["name"]] = pd.array(values, dtype="bool")
        else:
            columns[f["name"]] = pd.Series(["" if v is None else v for v in values], dtype="object")
    frame = pd.DataFrame(columns)
    frame.index = pd.RangeIndex(len(frame))
    return frame


def describe_table(name: str) -> "pd.DataFrame":
    """Return the data dictionary of one table: each field, its type and meaning.

    >>> describe_table("claims").loc[0, "field"]
    'claim_id'
    """
    import pandas as pd

    rows = []
    for f in schema(name)["fields"]:
        cons = f.get("constraints", {})
        rows.append(
            {
                "field": f["name"],
                "type": f.get("type", "string"),
                "required": bool(cons.get("required", False)),
                "allowed values": ", ".join(str(v) for v in cons.get("enum", [])),
                "description": f.get("description", ""),
            }
        )
    return pd.DataFrame(rows)
