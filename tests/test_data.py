"""Tests for kzcourse.data: the article's paragraphs, the tables, their schema and integrity."""
from __future__ import annotations

import csv
import datetime as dt
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from kzcourse import data, queries
from kzcourse.errors import ChoiceError, DataError, KzCourseError

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "seeds" / "000_0ce620ee8e70cfa9.txt"


# ----------------------------------------------------------------------------- article
def test_packaged_article_is_the_seed_byte_for_byte():
    """The copy inside the package must be exactly the seed (so wheels cite the same text)."""
    assert (data.data_dir() / data.ARTICLE_FILE).read_bytes() == SEED.read_bytes()


def test_paragraph_ids_are_stable():
    """P-ids count non-empty lines; these anchors must never move."""
    paras = data.paragraphs()
    assert len(paras) == 38
    assert list(paras["paragraph_id"]) == [f"P{i}" for i in range(1, 39)]
    assert paras.loc[0, "text"].startswith("In the midst of the crisis")
    assert data.paragraph("P2").startswith("MOSCOW")
    assert data.paragraph("P24") == "And for 28 years, he was effectively Mr. Nazarbayev’s understudy."
    assert data.paragraph("P38") == "Comments are closed."
    nonempty = [line.strip() for line in SEED.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert list(paras["text"]) == nonempty


def test_unknown_paragraph_lists_the_valid_ids():
    with pytest.raises(ChoiceError, match=r"Unknown paragraph id 'P39' \(str\).*Valid choices: 'P1', 'P10'"):
        data.paragraph("P39")


# ----------------------------------------------------------------------------- tables
def test_every_table_validates_and_has_rows():
    counts = data.validate()
    assert set(counts) == set(data.TABLES)
    for name, n in counts.items():
        assert n > 0, f"{name}.csv has no rows"


def test_load_gives_proper_dtypes():
    events = data.load("events")
    assert str(events["event_date"].dtype) == "datetime64[ns]"
    assert str(events["fatalities"].dtype) == "Int64"
    assert events["latitude"].dtype == "float64"
    actors = data.load("actors")
    assert actors["in_article"].dtype == bool
    assert str(actors["birth_year"].dtype) == "Int64"


def test_load_returns_a_copy():
    first = data.load("actors")
    first.loc[0, "name"] = "changed by a student"
    assert data.load("actors").loc[0, "name"] != "changed by a student"


def test_loads_are_independent_whatever_a_student_changes_in_place():
    """load() reuses the DataFrame it built, so each call must still hand out an object of its own."""
    import pandas as pd

    pristine = data.load("events")
    changed = data.load("events")
    assert changed is not pristine
    changed["fatalities"] += 1000                       # nullable integers, in place
    changed["event_date"] += pd.Timedelta(days=1)       # dates
    changed["latitude"] *= 0                            # floats
    changed["notes"] = changed["notes"].str.upper()     # text
    changed.iloc[0, 0] = "EVIL"
    del changed["cite"]
    changed.index = changed.index + 1
    changed.attrs["marked"] = True
    again = data.load("events")
    pd.testing.assert_frame_equal(again, pristine)
    assert again.attrs == {}
    actors = data.load("actors")
    actors["in_article"] &= False
    assert data.load("actors")["in_article"].any()


def test_every_record_cites_a_resolvable_source():
    """Every row of every table (but sources) cites at least one paragraph or source, and each resolves."""
    sources = set(data.load("sources")["source_id"])
    paras = set(data.paragraph_ids())
    for name in data.TABLES:
        if name == "sources":
            continue
        frame = data.load(name)
        for _, row in frame.iterrows():
            keys = data.split_cite(row["cite"])
            assert keys, f"{name} row {row.iloc[0]} cites nothing"
            for key in keys:
                assert key in sources or key in paras, f"{name} row {row.iloc[0]}: {key!r} does not resolve"
    places = data.load("places")
    for _, row in places.iterrows():
        for key in data.split_cite(row["coord_cite"]):
            assert key in sources, f"place {row['place_id']}: coordinates cite {key!r}, not a source"


def test_every_source_is_used():
    """A source nobody cites is clutter (or a citation that went missing)."""
    used = set()
    for name in data.TABLES:
        frame = data.load(name)
        for column in ("cite", "coord_cite"):
            if column in frame:
                for value in frame[column]:
                    used.update(data.split_cite(value))
    unused = set(data.load("sources")["source_id"]) - used - {"seed"}
    assert not unused, f"sources cited by no row: {sorted(unused)}"


def test_every_day_from_2_to_19_january_has_an_event():
    days = set(data.load("events")["event_date"].dt.date)
    missing = [d for d in (dt.date(2022, 1, n) for n in range(2, 20)) if d not in days]
    assert not missing, f"no event on {missing}"


# Actors and places the article names, with the words that name them there.
ARTICLE_ACTORS = {
    "tokayev": "Tokayev",
    "nazarbayev": "Nazarbayev",
    "putin": "Putin",
    "masimov": "Masimov",
    "kazhegeldin": "Kazhegeldin",
    "marat": "Erica Marat",
    "anceschi": "Anceschi",
    "abish": "nephew of Mr. Nazarbayev",
    "freedom_house": "Liberty house",
    "csto": "Collective Security Treaty Organization",
    "knb": "National Security Committee",
    "nur_otan": "Nur Otan",
    "kz_security_council": "security council",
    "kz_government": "sacking his cabinet",
    "russia": "Russia",
    "china": "China",
    "usa": "United States",
    "protesters": "protesters",
}
ARTICLE_PLACES = {
    "almaty": "Almaty",
    "moscow": "MOSCOW",
    "beijing": "Beijing",
    "washington": "Washington",
    "glasgow": "Glasgow",
}


@pytest.mark.parametrize("actor_id, words", sorted(ARTICLE_ACTORS.items()))
def test_actors_the_article_names_are_in_the_dataset(actor_id, words):
    assert words in SEED.read_text(encoding="utf-8")
    actors = data.load("actors").set_index("actor_id")
    assert actor_id in actors.index
    assert actors.loc[actor_id, "in_article"]


@pytest.mark.parametrize("place_id, words", sorted(ARTICLE_PLACES.items()))
def test_places_the_article_names_are_in_the_dataset(place_id, words):
    assert words in SEED.read_text(encoding="utf-8")
    places = data.load("places").set_index("place_id")
    assert place_id in places.index
    assert places.loc[place_id, "in_article"]


def test_claim_quotes_are_verbatim():
    claims = data.load("claims")
    for _, row in claims.iterrows():
        assert row["quote"] in data.paragraph(row["paragraph"]), row["claim_id"]


def test_attribution_quotes_are_verbatim_and_quoted_words_stand_in_quotation_marks():
    """Every statement of ``attributions`` stands in its paragraph; a 'quoted' one holds quotation marks."""
    statements = data.load("attributions")
    for _, row in statements.iterrows():
        assert row["quote"] in data.paragraph(row["paragraph"]), row["statement_id"]
        assert row["cite"].split(";")[0] == row["paragraph"], row["statement_id"]
        if row["voice"] == "quoted":
            assert "\u201c" in row["quote"] or '"' in row["quote"], row["statement_id"]


def test_attributions_read_the_traps_of_the_wording():
    """Scare quotes are not a quotation (P5); speculation is attributed without a 'said' (P17); after 'local reports
    said' the reporter speaks again (P30); the street speaks once, in a slogan (P28)."""
    from kzcourse.lessons import answer_keys

    s = data.load("attributions").set_index("statement_id")
    key = answer_keys("attributions")  # lesson 01 asks for these voices: the table withholds them
    assert s.loc["V06", "paragraph"] == "P5" and key["V06"]["voice"] == "reporter"
    assert "\u201cpeacekeeping\u201d" in s.loc["V06", "quote"]
    assert s.loc["V20", "paragraph"] == "P17" and [key["V20"][c] for c in ("voice", "speaker_kind")] == ["attributed", "unnamed"]
    assert "said" not in s.loc["V20", "quote"]
    assert s.loc["V37", "paragraph"] == "P30" and key["V37"]["voice"] == "reporter"
    assert s.loc[s["speaker_kind"] == "street"].index.tolist() == ["V34"]
    assert s.loc["V34", "paragraph"] == "P28"


def test_every_named_speaker_of_the_article_has_statements():
    """Marat, Anceschi, Kazhegeldin, Tokayev, the KNB and Freedom House each have rows under their actor id."""
    speakers = set(data.load("attributions")["speaker_id"].dropna())
    assert {"marat", "anceschi", "kazhegeldin", "tokayev", "knb", "freedom_house", "protesters"} <= speakers


def test_data_dictionary_lists_every_field():
    for name in data.TABLES:
        dictionary = data.describe_table(name)
        assert list(dictionary["field"]) == list(data.load(name).columns)
        assert dictionary["description"].str.len().min() > 0


# ----------------------------------------------------------------------------- bad input
@pytest.fixture()
def data_copy(tmp_path):
    """A maintainer's copy of the data folder to break on purpose."""
    folder = tmp_path / "data"
    shutil.copytree(data.data_dir(), folder, ignore=shutil.ignore_patterns("geo", "__pycache__"))
    return folder


def _edit(path: Path, row: int, field: str, value: str) -> None:
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    rows[row][rows[0].index(field)] = value
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


def test_unknown_table_name_lists_the_tables():
    with pytest.raises(ChoiceError, match=r"Unknown table name 'actor' \(str\)\. Did you mean 'actors'\?.*'sources'"):
        data.load("actor")


def test_all_errors_share_one_family():
    with pytest.raises(KzCourseError):
        data.load(3)


def test_bad_date_names_file_row_and_field(data_copy):
    _edit(data_copy / "events.csv", 2, "event_date", "5 January 2022")
    with pytest.raises(DataError, match=r"events\.csv, row 2 \(line 3\), field 'event_date': expected a date written YYYY-MM-DD.*got '5 January 2022'"):
        data.load("events", folder=data_copy)


def test_unknown_actor_in_relation_is_caught(data_copy):
    _edit(data_copy / "relations.csv", 1, "target", "tokaev")
    with pytest.raises(DataError, match=r"relations\.csv, row 1 \(line 2\), field 'target': 'tokaev' is not a actor_id in actors\.csv"):
        data.load("relations", folder=data_copy)


def test_event_at_unknown_place_is_caught(data_copy):
    _edit(data_copy / "events.csv", 1, "place_id", "atlantis")
    with pytest.raises(DataError, match=r"events\.csv, row 1 .*'place_id': 'atlantis' is not a place_id in places\.csv"):
        data.load("events", folder=data_copy)


def test_citation_of_missing_paragraph_is_caught(data_copy):
    _edit(data_copy / "actors.csv", 1, "cite", "P99")
    with pytest.raises(DataError, match=r"actors\.csv, row 1 .*'cite': citation 'P99' is neither a paragraph .*\(P1-P38\) nor a source_id"):
        data.load("actors", folder=data_copy)


def test_citation_of_missing_source_is_caught(data_copy):
    _edit(data_copy / "places.csv", 1, "coord_cite", "made-up-source")
    with pytest.raises(DataError, match=r"places\.csv, row 1 .*'coord_cite': citation 'made-up-source'"):
        data.load("places", folder=data_copy)


@pytest.mark.parametrize("cite", [";P12", "P12;", "P12;;knb-2022-01-08", " ; "])
def test_empty_citation_token_is_caught(data_copy, cite):
    """A ';' with nothing on one side (KAZ033 once began with one) is an error, not silently skipped."""
    _edit(data_copy / "events.csv", 2, "cite", cite)
    with pytest.raises(DataError, match=r"events\.csv, row 2 .*'cite': .* has an empty citation \(nothing before, between or after a ';'\)"):
        data.load("events", folder=data_copy)


#: Broken figures: (row, {field: value}, what the error must say).
BROKEN_FIGURES = {
    "no unit": (1, {"unit": ""}, r"figures\.csv, row 1 \(line 2\), field 'unit': a value is required but the cell is empty"),
    "no as_of date": (3, {"as_of": ""}, r"figures\.csv, row 3 \(line 4\), field 'as_of': a value is required but the cell is empty"),
    "as_of not a date": (3, {"as_of": "13 Jan 2022"}, r"field 'as_of': expected a date written YYYY-MM-DD .*, got '13 Jan 2022'"),
    "kind outside the vocabulary": (2, {"kind": "rumoured"}, r"figures\.csv, row 2 .*'kind': 'rumoured' is not an allowed value\. "
                                     r"Allowed values: 'announced', 'official', 'reported', 'estimate', 'revised', 'retracted'\."),
    "no number": (1, {"value": ""}, r"figures\.csv, row 1 .*figure 'F001' has no number: give 'value', or both 'low' and 'high'"),
    "value and range": (1, {"low": "2000"}, r"figure 'F001' gives both a value \(2500\.0\) and a range"),
    "low above high": (1, {"value": "", "low": "90", "high": "85"}, r"figure 'F001' has low 90\.0 above high 85\.0"),
    "nobody's number": (1, {"actor_id": ""}, r"figure 'F001' belongs to nobody: fill 'actor_id'"),
    "unknown record": (1, {"record": "R999"}, r"field 'record': 'R999' is not an event_id, relation_id, place_id or claim_id"),
    "unknown actor": (1, {"actor_id": "nato"}, r"figures\.csv, row 1 .*'actor_id': 'nato' is not a actor_id in actors\.csv"),
}


@pytest.mark.parametrize("case", list(BROKEN_FIGURES))
def test_broken_figure_is_caught(data_copy, case):
    """The validator rejects a figure without unit or as_of day, with a kind outside the vocabulary, and so on."""
    row, edits, message = BROKEN_FIGURES[case]
    for field, value in edits.items():
        _edit(data_copy / "figures.csv", row, field, value)
    with pytest.raises(DataError, match=message):
        data.load("figures", folder=data_copy)


def test_value_outside_vocabulary_lists_allowed_values(data_copy):
    _edit(data_copy / "relations.csv", 1, "relation", "likes")
    with pytest.raises(DataError, match=r"'likes' is not an allowed value\. Allowed values: 'patron-of', "):
        data.load("relations", folder=data_copy)


def test_duplicate_id_is_caught(data_copy):
    with open(data_copy / "claims.csv", encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    (data_copy / "claims.csv").write_text("\n".join(lines + [lines[1]]) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"claims\.csv, row \d+ .*duplicate id 'C01' \(first used in row 1\)"):
        data.load("claims", folder=data_copy)


def test_changed_quote_is_caught(data_copy):
    _edit(data_copy / "claims.csv", 1, "quote", "words the article never printed")
    with pytest.raises(DataError, match=r"the quote 'words the article never printed' does not appear in paragraph P"):
        data.load("claims", folder=data_copy)


def test_changed_attribution_quote_is_caught(data_copy):
    _edit(data_copy / "attributions.csv", 1, "quote", "words the article never printed")
    with pytest.raises(DataError, match=r"attributions\.csv, row 1 .*the quote 'words the article never printed' does not "
                                        r"appear in paragraph P1"):
        data.load("attributions", folder=data_copy)


def test_a_reporter_statement_with_a_speaker_is_caught(data_copy):
    _edit(data_copy / "attributions.csv", 1, "speaker", "Erica Marat")
    with pytest.raises(DataError, match=r"attributions\.csv, row 1 .*statement 'V01' has voice 'reporter', speaker "
                                        r"'Erica Marat'.*no speaker"):
        data.load("attributions", folder=data_copy)


def test_an_attributed_statement_without_its_speaker_is_caught(data_copy):
    rows = data.load("attributions")
    row = int(rows.index[rows["statement_id"] == "V08"][0]) + 1
    _edit(data_copy / "attributions.csv", row, "speaker", "")
    with pytest.raises(DataError, match=r"field 'speaker': statement 'V08' is attributed but names no speaker"):
        data.load("attributions", folder=data_copy)


def test_a_withheld_voice_whose_speaker_shows_is_caught(data_copy):
    """A statement whose voice a lesson asks for reads 'withheld' in its speaker too: 'reporter' would give it away."""
    rows = data.load("attributions")
    row = int(rows.index[rows["statement_id"] == "V06"][0]) + 1
    _edit(data_copy / "attributions.csv", row, "speaker_kind", "reporter")
    with pytest.raises(DataError, match=r"statement 'V06' has voice 'withheld'.*speaker_kind 'reporter'.*A withheld "
                                        r"statement reads 'withheld' in voice, speaker and speaker_kind"):
        data.load("attributions", folder=data_copy)


def test_wrong_header_is_caught(data_copy):
    path = data_copy / "places.csv"
    text = path.read_text(encoding="utf-8").replace("lat,lon", "latitude,lon", 1)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=r"places\.csv: the header row does not match datapackage\.json"):
        data.load("places", folder=data_copy)


def test_missing_cell_is_caught(data_copy):
    path = data_copy / "sources.csv"
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("broken-row,Only a title\n")
    with pytest.raises(DataError, match=r"sources\.csv, row \d+ \(line \d+\): expected 8 cells, got 2"):
        data.load("sources", folder=data_copy)


def test_non_utf8_file_is_caught(data_copy):
    path = data_copy / "actors.csv"
    path.write_bytes(path.read_bytes() + "x,\u00e9\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"actors\.csv is not UTF-8 text"):
        data.load("actors", folder=data_copy)


def test_missing_file_is_caught(data_copy):
    (data_copy / "events.csv").unlink()
    with pytest.raises(DataError, match=r"The table file .*events\.csv is missing"):
        data.load("events", folder=data_copy)


# ----------------------------------------------------------------------------- packaging
@pytest.mark.slow
def test_wheel_ships_the_article_and_tables(tmp_path):
    """Installed from a wheel (not a checkout), kzcourse still has the paragraphs and tables."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(tmp_path), str(ROOT)],
        check=True,
    )
    wheel = next(tmp_path.glob("kzcourse-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for name in ["article.txt", "datapackage.json", *[f"{t}.csv" for t in data.TABLES]]:
        assert f"kzcourse/data/{name}" in names
    target = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(target)
    code = (
        f"import sys; sys.path.insert(0, {str(target)!r}); import kzcourse.data as d; "
        "assert d.__file__.startswith(sys.path[0]), d.__file__; print(len(d.paragraphs()), sum(d.validate().values()))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True, capture_output=True, text=True)
    n_paras, n_rows = out.stdout.split()
    assert int(n_paras) == 38 and int(n_rows) == sum(data.validate().values())


def test_every_vocabulary_value_is_documented():
    """Each allowed value of each field has a plain-language meaning in datapackage.json (x-vocabulary)."""
    import json

    package = json.loads((data.data_dir() / "datapackage.json").read_text(encoding="utf-8"))
    for res in package["resources"]:
        for f in res["schema"]["fields"]:
            enum = f.get("constraints", {}).get("enum")
            if enum:
                assert sorted(map(str, enum)) == sorted(f.get("x-vocabulary", {})), (res["name"], f["name"])


def test_data_dictionary_is_current():
    """docs/data-dictionary.md is rebuilt from the schema (python scripts/build_data_dictionary.py)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_dd", ROOT / "scripts" / "build_data_dictionary.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (ROOT / "docs" / "data-dictionary.md").read_text(encoding="utf-8") == module.render()


# --------------------------------------------------------------------------- one Dataset per folder
def test_one_dataset_per_folder(data_copy):
    assert data.dataset(data_copy) is data.dataset(str(data_copy)) is data.dataset(data_copy / "." )
    assert data.dataset(data_copy) is not data.dataset()


def test_an_edited_csv_shows_up_at_the_next_load(data_copy):
    """A maintainer edits a CSV while a kernel runs: the next load reads the edit, no restart needed."""
    assert data.load("claims", folder=data_copy).loc[0, "finding"] != "Edited in a running kernel."
    readings = data.dataset(data_copy).readings
    _edit(data_copy / "claims.csv", 1, "finding", "Edited in a running kernel.")
    assert data.load("claims", folder=data_copy).loc[0, "finding"] == "Edited in a running kernel."
    assert data.dataset(data_copy).readings == readings + 1


def test_an_edit_keeping_size_and_modification_time_shows_up_after_reload(data_copy):
    """reload() reads again even when the file's stamp (mtime and size) was put back as it was."""
    import os

    path = data_copy / "claims.csv"
    before = data.load("claims", folder=data_copy).loc[0, "claim_id"]
    st = path.stat()
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("C01,", "C00,", 1), encoding="utf-8")  # same size
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # same modification time, long ago
    data.dataset(data_copy)._state.racy.clear()  # as it would be once the file's time has passed
    assert data.load("claims", folder=data_copy).loc[0, "claim_id"] == before  # nothing tells the edit apart
    assert data.reload(data_copy).load("claims").loc[0, "claim_id"] == "C00"


def test_an_edit_in_the_same_clock_tick_is_caught_by_content(data_copy):
    """A file read right after it was written is compared by content too (its mtime may not move)."""
    import os

    path = data_copy / "claims.csv"
    path.touch()  # just modified: racy
    assert data.load("claims", folder=data_copy).loc[0, "claim_id"] == "C01"
    st = path.stat()
    path.write_text(path.read_text(encoding="utf-8").replace("C01,", "C00,", 1), encoding="utf-8")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert data.load("claims", folder=data_copy).loc[0, "claim_id"] == "C00"


def test_a_broken_edit_raises_and_the_fix_is_read(data_copy):
    data.validate(data_copy)
    _edit(data_copy / "figures.csv", 1, "kind", "rumoured")
    with pytest.raises(DataError, match="'rumoured' is not an allowed value"):
        data.reload(data_copy)
    with pytest.raises(DataError, match="'rumoured' is not an allowed value"):
        data.load("figures", folder=data_copy)  # nothing stale was kept
    _edit(data_copy / "figures.csv", 1, "kind", "announced")
    assert data.load("figures", folder=data_copy).loc[0, "kind"] == "announced"


def test_graphs_and_centrality_follow_an_edit(data_copy):
    """What is derived from the tables (actor graphs, centrality) is rebuilt from the edited files."""
    from kzcourse import network

    before = network.actor_graph("crisis", folder=data_copy)
    assert "R035" in [k for _, _, k in before.edges(keys=True)]
    lines = (data_copy / "relations.csv").read_text(encoding="utf-8").splitlines()
    (data_copy / "relations.csv").write_text("\n".join(l for l in lines if not l.startswith("R035,")) + "\n", encoding="utf-8")
    after = network.actor_graph("crisis", folder=data_copy)
    assert "R035" not in [k for _, _, k in after.edges(keys=True)]
    assert after.number_of_edges() == before.number_of_edges() - 1
    table = network.centrality_table("crisis", folder=data_copy)
    assert table.loc["csto", "degree"] == network.actor_graph("crisis", folder=data_copy).degree("csto")


def test_what_a_caller_changes_never_reaches_the_next_caller(data_copy):
    """Tables, graphs, centrality tables and query results are copies."""
    from kzcourse import network, queries

    events = data.load("events", folder=data_copy)
    events.loc[0, "notes"] = "mutated"
    del events["cite"]
    again = data.load("events", folder=data_copy)
    assert again.loc[0, "notes"] != "mutated" and "cite" in again.columns
    g = network.actor_graph("crisis", folder=data_copy)
    g.remove_node("csto")
    g.graph["phase"] = "mutated"
    g2 = network.actor_graph("crisis", folder=data_copy)
    assert "csto" in g2 and g2.graph["phase"] == "crisis"
    t = network.centrality_table("crisis", folder=data_copy)
    t["degree"] = -1
    assert (network.centrality_table("crisis", folder=data_copy)["degree"] >= 0).all()
    c = queries.contingents(folder=data_copy)
    c["troops"] = 0
    assert queries.contingents(folder=data_copy)["troops"].max() > 0
    assert data.dataset(data_copy).frame("events").loc[0, "notes"] != "mutated"


# --------------------------------------------------------------------------- corrections from the fact-check
def _row(table: str, key: str) -> "pd.Series":
    frame = data.load(table)
    return frame.set_index(frame.columns[0]).loc[key]


def _cites(row) -> list[str]:
    return data.split_cite(row["cite"])


def test_c11_gives_both_accounts_of_kazhegeldins_resignation():
    """Sources: profil (Jan 2022, his own account: authoritarianism and corruption); Jamestown Monitor 1999
    (pressured into resigning on face-saving medical grounds, amid a corruption investigation)."""
    row = _row("claims", "C11")
    assert row["status"] == "disputed"
    assert "authoritarian" in row["finding"] and "corruption" in row["finding"] and "ill health" in row["finding"]
    assert "No source we found" not in row["finding"]
    assert {"profil-2022-01-kazhegeldin", "jamestown-1999-kazhegeldin-case"} <= set(_cites(row))


def test_r022_kyrgyz_contingent_from_7_to_14_january_with_150_troops():
    """Sources: armradio-2022-01-07-kyrgyz-150 (no quorum on 6 Jan; approved 7 Jan: 150 troops, 19 vehicles),
    urdupoint-2022-01-07-japarov (decree signed 7 Jan), armradio-2022-01-14-three-leave (left CHPP-2 by road 14 Jan)."""
    row = _row("relations", "R022")
    assert (row["valid_from"].date(), row["valid_to"].date()) == (dt.date(2022, 1, 7), dt.date(2022, 1, 14))
    assert "not given in our sources" not in row["notes"]
    assert {"armradio-2022-01-07-kyrgyz-150", "urdupoint-2022-01-07-japarov", "armradio-2022-01-14-three-leave"} <= set(_cites(row))
    troops = queries.figures_of("troops", actor_id="kyrgyzstan")
    vehicles = queries.figures_of("vehicles", actor_id="kyrgyzstan")
    assert troops["value"].tolist() == [150.0] and vehicles["value"].tolist() == [19.0]
    assert troops["cite"].item() == "armradio-2022-01-07-kyrgyz-150"


def test_r021_tajik_contingent_about_200():
    """Source: asiaplus-2022-01-06-tajik-200 (about 200 servicemen, 6 Jan)."""
    row = _row("relations", "R021")
    assert "About 200" in row["notes"] and "asiaplus-2022-01-06-tajik-200" in _cites(row)
    fig = queries.figures_of("troops", actor_id="tajikistan")
    assert fig[["value", "qualifier", "cite"]].values.tolist() == [[200.0, "about", "asiaplus-2022-01-06-tajik-200"]]


def test_kaz038_at_least_25_attackers_killed_and_13_not_placed_in_almaty():
    """Source: sputnik-kz-2022-01-14-27-attacks (police spokeswoman: at least 25 attackers killed at the HQ);
    newizv-2022-01-06-five-channels (13 security dead, not placed in Almaty)."""
    row = _row("events", "KAZ038")
    assert row["fatalities"] == 25
    assert "13 security officers were reported dead in Almaty" not in row["notes"]
    assert "does not place in Almaty" in row["notes"]
    fig = data.load("figures").set_index("figure_id")
    assert fig.loc["F035", ["counted", "value", "qualifier", "cite"]].tolist() == ["dead-attackers", 25.0, "at-least", "sputnik-kz-2022-01-14-27-attacks"]
    assert fig.loc["F033", "place_id"] == "" and fig.loc["F033", "actor_id"] == "kazakhstan"


def test_kaz022_nationwide_emergency_in_force_from_5_january():
    """Sources: kazinform-2022-01-06-soe-regions (decree: 'from January 5'), rycckienovosti-2022-01-14-akmola-soe
    (the Akmola decree is No. 737 of 5 January 2022)."""
    row = _row("events", "KAZ022")
    assert "by a further decree published on 6 January" not in row["notes"]
    assert "in force from 5 January" in row["notes"] and "No. 737" in row["notes"]
    assert {"kazinform-2022-01-06-soe-regions", "rycckienovosti-2022-01-14-akmola-soe"} <= set(_cites(row))


def test_kaz045_eighteen_security_dead_already_on_6_january():
    """Sources: pledgetimes-2022-01-06-18-security (interior ministry via Tengrinews, 6 Jan: 18 dead, 748 injured),
    kazinform-2022-01-06-8-police (8 dead that morning), cgtn-2022-01-09-16-officers (16 on 9 Jan)."""
    row = _row("events", "KAZ045")
    assert "a day later AFP/AP reported 18" not in row["notes"] and "already given 18" in row["notes"]
    dead = queries.figures_of("dead-security", actor_id="kazakhstan")
    assert dead[["as_of", "value"]].assign(as_of=dead["as_of"].dt.date).values.tolist()[:3] == [
        [dt.date(2022, 1, 6), 13.0], [dt.date(2022, 1, 6), 8.0], [dt.date(2022, 1, 6), 18.0]]
    assert dead.loc[dead["value"] == 18, "cite"].tolist()[0] == "pledgetimes-2022-01-06-18-security"


def test_kaz033_cite_has_no_empty_token():
    """Source kept: mgorod-2022-01-05-aktobe-akimat (the Silkway citation was dropped in an earlier audit)."""
    assert _row("events", "KAZ033")["cite"] == "mgorod-2022-01-05-aktobe-akimat"


def test_kaz036_no_longer_cites_p35():
    """P35 is Kazhegeldin's quotation and says nothing of Machulishchy; belsat-2022-01-06-belarus-sent does."""
    assert _cites(_row("events", "KAZ036")) == ["belsat-2022-01-06-belarus-sent"]


def test_r041_and_r044_start_on_4_january():
    """Sources: KAZ008 and tass-2022-01-04-republic-square (stun grenades on Republic Square on 4 Jan),
    adamdar-2022-01-11-the-night (suppression began on the night of 4-5 Jan), lenta-2022-01-04-almaty-march
    (calls on Nazarbayev to go on 4 Jan); the article (P27) dates the chants to Wednesday 5 Jan."""
    r041, r044 = _row("relations", "R041"), _row("relations", "R044")
    assert r041["valid_from"].date() == r044["valid_from"].date() == dt.date(2022, 1, 4)
    assert {"tass-2022-01-04-republic-square", "adamdar-2022-01-11-the-night"} <= set(_cites(r041))
    assert "lenta-2022-01-04-almaty-march" in _cites(r044) and "Wednesday 5 Jan" in r044["notes"]


def test_the_efe_tag_page_is_gone_and_its_rows_recited():
    """The EFE copy sat on a random-post tag page of laprensalatina.com: dropped; R016 and Tokayev now cite
    ccbs-2022-01-05-csto-appeal (Tokayev's televised appeal of 5 Jan)."""
    sources = data.load("sources")
    assert "efe-2022-01-05-csto-request" not in set(sources["source_id"])
    assert not sources["url"].str.contains("random-post").any()
    assert "ccbs-2022-01-05-csto-appeal" in _cites(_row("relations", "R016"))
    assert "ccbs-2022-01-05-csto-appeal" in _cites(_row("actors", "tokayev"))


# --------------------------------------------------------------------------- publisher_kind: who published what we read
KINDS = {"seed", "russian_state", "kazakh_state", "other_state", "wire", "rewrite_site", "private_media", "organisation", "reference"}


def test_every_publisher_kind_is_one_of_the_allowed_values():
    field = next(f for f in data.schema("sources")["fields"] if f["name"] == "publisher_kind")
    assert set(field["constraints"]["enum"]) == KINDS
    assert set(data.load("sources")["publisher_kind"]) <= KINDS


@pytest.mark.parametrize("outlet, kind", [
    ("TASS", "russian_state"), ("Sputnik", "russian_state"), ("Kazinform", "kazakh_state"),
    ("Reuters", "wire"), ("Associated Press", "wire"), ("Interfax", "wire"),
    ("Radio Free Europe/Radio Liberty", "other_state"), ("Pledge Times", "rewrite_site"), ("UrduPoint", "rewrite_site"),
])
def test_known_outlets_in_the_dataset_have_their_kind(outlet, kind):
    """Every source the outlet is named first for carries the outlet's kind, or is a rewrite we read in a copy."""
    sources = data.load("sources")
    first = sources["publisher"].str.split(" (", regex=False).str[0]
    own = sources[first == outlet]
    assert kind in set(own["publisher_kind"]), f"no source of {outlet} is classed {kind!r}"
    assert set(own["publisher_kind"]) <= {kind, "rewrite_site"}
    rewrites = own[own["publisher_kind"] == "rewrite_site"]
    if kind != "rewrite_site":
        assert rewrites["publisher"].str.lower().str.contains("copy|translat|via |republished|reworded").all()


@pytest.mark.parametrize("publisher, allowed", [
    ("TASS", {"russian_state"}),
    ("Sputnik Kazakhstan", {"russian_state"}),
    ("Qazaq TV", {"kazakh_state"}),
    ("Punch (AFP)", {"wire"}),
    ("Associated Press (Kirill Zarubin and Dasha Litvinova; copy on Yahoo News)", {"wire", "rewrite_site"}),
    ("Izvestia (machine-translated English copy on pledgetimes.com)", {"rewrite_site"}),
    ("ChinaAid (translation of the Kazakh service of RFE/RL)", {"other_state", "rewrite_site"}),
])
def test_publisher_kinds_allowed_reads_the_first_outlet_or_the_agency_in_brackets(publisher, allowed):
    assert data.publisher_kinds_allowed(publisher)[1] == allowed


@pytest.mark.parametrize("publisher", ["Human Rights Watch", "News.am (citing KazTAG)", "Russia - Islamic World (citing TASS)"])
def test_an_outlet_that_is_only_cited_or_unknown_is_not_checked(publisher):
    assert data.publisher_kinds_allowed(publisher) is None


def _source_row(folder: Path, source_id: str) -> int:
    with open(folder / "sources.csv", encoding="utf-8", newline="") as fh:
        return next(i for i, r in enumerate(csv.reader(fh)) if r[0] == source_id)


@pytest.mark.parametrize("source_id, wrong, outlet", [
    ("tass-2022-03-14-230", "private_media", "TASS"),
    ("kazinform-2023-01-13-elbasy-law", "wire", "Kazinform"),
    ("ap-2022-01-15-activists-recall", "other_state", "Associated Press"),
])
def test_a_wrongly_kinded_source_names_the_row_outlet_and_fix(data_copy, source_id, wrong, outlet):
    row = _source_row(data_copy, source_id)
    _edit(data_copy / "sources.csv", row, "publisher_kind", wrong)
    with pytest.raises(KzCourseError, match=(rf"sources\.csv, row {row} \(line {row + 1}\), field 'publisher_kind': source "
                                             rf"'{source_id}' is published by {outlet} .* should be .*, got '{wrong}'\. Fix the kind")):
        data.validate(folder=data_copy)


def test_a_rewrite_site_cannot_pass_as_a_wire(data_copy):
    row = next(i for i, r in enumerate(csv.reader(open(data_copy / "sources.csv", encoding="utf-8"))) if r[2].startswith("Pledge Times"))
    _edit(data_copy / "sources.csv", row, "publisher_kind", "wire")
    with pytest.raises(DataError, match=r"published by Pledge Times .* should be 'rewrite_site', got 'wire'"):
        data.validate(folder=data_copy)


# --------------------------------------------------------------------------- after January; the human cost; whose words
def test_after_january_events_are_the_ones_the_brief_names():
    """Sources: rferl-2022-06-06-referendum (5 Jun 2022, 77.18 %), up-2022-06-17-spief-quasi-state (17 Jun 2022),
    tass-2022-09-19-astana (signed 17 Sep 2022), sputnik-2022-11-21-election (20 Nov 2022, 81.31 %),
    intellinews-2023-04-25-masimov (sentenced 24 Apr 2023, 18 years)."""
    after = queries.after_events().set_index("event_id")
    want = {"KAZ082": ("2022-06-05", "rferl-2022-06-06-referendum", "77.18"),
            "KAZ084": ("2022-06-17", "up-2022-06-17-spief-quasi-state", "quasi-state"),
            "KAZ085": ("2022-09-17", "tass-2022-09-19-astana", "Astana"),
            "KAZ087": ("2022-11-20", "sputnik-2022-11-21-election", "81.31"),
            "KAZ090": ("2023-04-24", "intellinews-2023-04-25-masimov", "18 years")}
    for event_id, (day, source, words) in want.items():
        row = after.loc[event_id]
        assert row["event_date"].date().isoformat() == day
        assert source in data.split_cite(row["cite"]) and words in row["notes"]
    assert after.loc["KAZ084", "place_id"] == "st_petersburg"


def test_the_elbasy_law_gives_both_dates_by_the_body_that_acted():
    """Sources: rferl-2023-01-elbasy-law-annulled (the Constitutional Court, 11 Jan 2023), kazinform-2023-01-13-elbasy-law
    (Parliament's joint session, 13 Jan 2023)."""
    row = _row("events", "KAZ088")
    assert row["event_date"].date() == dt.date(2023, 1, 11) and "13 January" in row["notes"]
    assert {"rferl-2023-01-elbasy-law-annulled", "kazinform-2023-01-13-elbasy-law"} <= set(_cites(row))


def test_torture_figures_keep_the_states_admission_apart_from_the_ngos_counts():
    """Sources: eurasianet-2022-02-six-tortured and newsam-2022-02-23-six-protesters (six dead after 'unlawful interrogation
    methods', a prosecutor, 23 Feb 2022), hrw-2022-02-01-arbitrarily-arrested (at least two deaths in custody in Almaty,
    media reports), notorture-2022-01-19-briefing (24 reports by 19 Jan), opendemocracy-2022-12-23-torture (at least 190)."""
    custody = queries.figures_of("dead-in-custody").set_index("figure_id")
    assert (custody.loc["F054", "value"], custody.loc["F054", "kind"]) == (6, "official")
    assert (custody.loc["F056", "value"], custody.loc["F056", "kind"], custody.loc["F056", "qualifier"]) == (2, "reported", "at-least")
    tortured = queries.figures_of("tortured").set_index("figure_id")
    assert tortured["value"].tolist() == [24, 190] and set(tortured["kind"]) == {"reported", "estimate"}
    cases = queries.figures_of("torture-cases").set_index("figure_id")
    assert {int(v) for v in cases["value"]} == {234, 243}


def test_death_tolls_after_january_record_both_232_and_241():
    """Sources: hrw-2022-05-05-no-justice (232, the prosecutor's office to HRW), joint-statement-2022-07-29-january
    (241 'according to official figures', which no official publication we hold gives)."""
    dead = queries.figures_of("dead", actor_id="kazakhstan").set_index("figure_id")
    assert (dead.loc["F061", "value"], dead.loc["F061", "kind"]) == (232, "revised")
    assert (dead.loc["F062", "value"], dead.loc["F062", "kind"]) == (241, "reported")
    assert "238" not in dead.loc["F062", "notes"] or "230-238" in dead.loc["F062", "notes"]


def test_protesters_own_words_stand_beside_the_official_account():
    """Sources: rferl-2022-01-we-are-not-terrorists (Tuleuzhanova: soldiers fired on ~200 protesters, 6 Jan),
    ap-2022-01-15-activists-recall (Beken's white flag; Marat: no terrorist shown; Bezshan: armed men recruiting),
    thediplomat-2023-01-bloody-january-day-1 and chinaaid-rferl-2022-01-08-zhanaozen (Zhanaozen)."""
    kaz039 = _row("events", "KAZ039")
    assert "rioters" in kaz039["notes"] and "Tuleuzhanova" in kaz039["notes"] and "white flag" in kaz039["notes"]
    assert {"rferl-2022-01-we-are-not-terrorists", "ap-2022-01-15-activists-recall"} <= set(_cites(kaz039))
    assert "single terrorist" in _row("events", "KAZ044")["notes"]
    assert "Bezshan" in _row("events", "KAZ038")["notes"]
    kaz002 = _row("events", "KAZ002")
    assert "Old man, leave" in kaz002["notes"] and "chinaaid-rferl-2022-01-08-zhanaozen" in _cites(kaz002)
