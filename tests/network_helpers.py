"""Shared helpers for test_network.py, test_charts.py and test_explore_network.py.

The fixtures ``fixture`` (that folder, once per module) and ``folder`` (each test run
twice: on the packaged data, as None, and on the fixture) are imported by the test
modules that use them. ``data_folder(which)`` gives the folder of the packaged data or of a copy of the
small fixture tables in ``tests/fixtures/network_data`` (with the package's current
``datapackage.json`` and ``article.txt`` beside them). The ``expected_*`` functions
re-derive what the network code should produce straight from the CSV files with the
``csv`` module and plain date comparisons, without using kzcourse.network.
"""
from __future__ import annotations

import csv
import datetime as dt
import shutil
import tempfile
from pathlib import Path

import pytest

from kzcourse import data

FIXTURE = Path(__file__).parent / "fixtures" / "network_data"

# The phase rule, written out again: before = up to 4 Jan, crisis = 5-19 Jan, after = from 20 Jan.
PHASE_SPANS = {
    "before": (dt.date.min, dt.date(2022, 1, 4)),
    "crisis": (dt.date(2022, 1, 5), dt.date(2022, 1, 19)),
    "after": (dt.date(2022, 1, 20), dt.date.max),
}


@pytest.fixture(scope="module")
def fixture() -> str:
    """The folder of a temporary copy of the fixture tables."""
    return str(fixture_folder())


@pytest.fixture(scope="module", params=["packaged", "fixture"])
def folder(request, fixture):
    """Run a test on the packaged data (folder None) and on the fixture tables."""
    return None if request.param == "packaged" else fixture


def fixture_folder() -> Path:
    """A temporary copy of the fixture tables, ready for ``data.load(name, folder=...)``."""
    folder = Path(tempfile.mkdtemp(prefix="kz-network-fixture-"))
    for path in FIXTURE.glob("*.csv"):
        shutil.copy(path, folder / path.name)
    for name in ("datapackage.json", "article.txt"):
        shutil.copy(data.data_dir() / name, folder / name)
    return folder


def rows(folder: Path | None, table: str) -> list[dict[str, str]]:
    with open(Path(folder or data.data_dir()) / f"{table}.csv", encoding="utf-8", newline="") as fh:
        return [r for r in csv.DictReader(fh) if any(r.values())]


def holds_in(row: dict[str, str], phase: str) -> bool:
    """Does a relations.csv row overlap the phase? Empty valid_from = long before; empty valid_to = still holds."""
    start, end = PHASE_SPANS[phase]
    first = dt.date.fromisoformat(row["valid_from"]) if row["valid_from"] else dt.date.min
    last = dt.date.fromisoformat(row["valid_to"]) if row["valid_to"] else dt.date.max
    return first <= end and last >= start


def expected_edges(folder: Path | None, phase: str) -> dict[str, tuple[str, str, str, str, str]]:
    """relation_id -> (source, target, relation, sign, cite) of the ties that hold in ``phase``."""
    return {
        r["relation_id"]: (r["source"], r["target"], r["relation"], r["sign"], r["cite"])
        for r in rows(folder, "relations")
        if holds_in(r, phase)
    }


def expected_events(folder: Path | None) -> list[dict[str, str]]:
    """events.csv rows dated 1-19 January 2022."""
    return [r for r in rows(folder, "events") if "2022-01-01" <= r["event_date"] <= "2022-01-19"]
