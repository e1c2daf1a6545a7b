"""Do answers cross from the student's kernel to the tests' kernel as exactly the same plain values, and nothing else?"""
from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pandas as pd
import pytest

from kzcourse.grading import values


def _roundtrip(value):
    return values.loads(values.dumps({"x": value}, ["x"]))["x"]


@pytest.mark.parametrize("value", [
    None, True, 0, -7, 2 ** 80, 1.5, float("inf"), "P28", "", [1, "a", None], (1, (2, 3)), {"a", "b"},
    frozenset({1}), {"k": [1, 2], 3: "int key", ("t", 1): 0.5}, dt.date(2022, 1, 5), dt.datetime(2022, 1, 5, 13, 30),
    dt.timedelta(days=2, seconds=5), dt.time(7, 30),
    np.int64(21), np.float64(0.25), np.bool_(True), np.array([[1, 2], [3, 4]]), np.array(["a", "b"]),
    np.array([dt.date(2022, 1, 1), None], dtype=object), pd.Timestamp("2022-01-05"), pd.Timedelta(days=1),
])
def test_a_plain_value_comes_back_equal_and_of_exactly_the_same_type(value):
    back = _roundtrip(value)
    assert type(back) is type(value)
    if isinstance(value, np.ndarray):
        assert back.dtype == value.dtype and back.shape == value.shape and (back == value).all()
    else:
        assert back == value
        if isinstance(value, (list, tuple)):
            assert [type(v) for v in back] == [type(v) for v in value]


def test_nan_stays_nan():
    assert math.isnan(_roundtrip(float("nan"))) and math.isnan(_roundtrip(np.float64("nan")))


def test_pandas_frames_and_series_keep_index_dtypes_and_values():
    frame = pd.DataFrame({"event_date": pd.to_datetime(["2022-01-02", "2022-01-05"]), "n": [1, 2],
                          "kind": pd.Categorical(["Riots", "Protests"]), "day": [dt.date(2022, 1, 2), None],
                          "share": [0.5, float("nan")], "deaths": pd.array([3, None], dtype="Int64"),
                          "name": pd.array(["a", None], dtype="str"), "ok": pd.array([True, None], dtype="boolean"),
                          "ns": pd.to_datetime(["2022-01-02", None]).as_unit("ns")},
                         index=pd.Index(["KAZ001", "KAZ002"], name="event_id"))
    back = _roundtrip(frame)
    pd.testing.assert_frame_equal(back, frame)
    series = frame.set_index("n")["share"]
    pd.testing.assert_series_equal(_roundtrip(series), series)
    pd.testing.assert_frame_equal(_roundtrip(frame.reset_index()), frame.reset_index())
    from kzcourse import data

    events = data.load("events")
    pd.testing.assert_frame_equal(_roundtrip(events), events)


def test_what_is_not_plain_data_arrives_as_an_empty_object_named_after_its_type():
    class Cheat:
        def __eq__(self, other):
            return True

    class Sneaky(str):
        pass

    for value, name in [(Cheat(), "Cheat"), (Sneaky("P28"), "Sneaky"), (print, "builtin_function_or_method"),
                        ([1, Cheat()], "Cheat"), (json, "module")]:
        back = _roundtrip(value)
        assert type(back).__name__ == name and not isinstance(back, (str, list))
        assert back != "P28" and "not plain data" in repr(back)


def test_a_recording_that_is_not_one_is_refused():
    for text in ["[1, 2]", '{"not an id": 1}', '{"x": {"$": "pickle", "v": "..."}}', "{" * 100000, "x" * 10,
                 " " * (values.MAX_CHARS + 1)]:
        with pytest.raises(ValueError):
            values.loads(text)


@pytest.mark.parametrize("table", ["paragraphs", "sources", "actors", "relations", "places", "events", "claims",
                                   "figures"])
def test_every_course_table_crosses_unchanged(table):
    """A lesson's answer may be (or hold) any of the course's tables; each must cross exactly."""
    from kzcourse import data

    frame = data.paragraphs() if table == "paragraphs" else data.load(table)
    pd.testing.assert_frame_equal(_roundtrip(frame), frame)
