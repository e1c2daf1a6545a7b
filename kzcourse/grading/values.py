"""Answers as plain data: how a value crosses from the student's kernel to the tests' kernel.

Two-phase grading (:mod:`kzcourse.grading.phases`) records, at each test cell's place in
the student's kernel, the values of the names the test reads, and binds them in a kernel
that never ran student code. What crosses is JSON text, never a pickle or an object:

* ``None``, ``bool``, ``int``, ``float`` (NaN and infinities too) and ``str`` as JSON;
* ``list`` as a JSON array; ``tuple``, ``set``, ``frozenset`` and ``dict`` (any plain keys,
  insertion order kept) tagged ``{"$": "tuple", "v": [...]}`` and so on;
* ``datetime.date``, ``datetime.datetime``, ``datetime.time`` (without time zone) and
  ``datetime.timedelta``;
* numpy scalars and arrays (numeric, bool, ``datetime64``/``timedelta64`` or object dtype), and
  pandas ``Timestamp``, ``Timedelta``, ``NaT``, ``Index``/``RangeIndex``, ``Series`` and
  ``DataFrame`` whose columns are of those dtypes (or ``category``, ``string``).

Types are kept exactly (an ``int`` stays an ``int``, a ``numpy.int64`` a ``numpy.int64``), so
the tests' type checks judge a recorded answer as they would judge the original. Anything
else — an object of the student's own class, a subclass of ``str``, a function, a module —
is recorded as its type's name only, and bound in the tests' kernel to an instance of an
empty class of that name: a check such as ``check_type(x, str)`` then fails saying that a
``str`` was expected and what arrived. Decoding builds only the types above; no student
code, class or module can come back to life.

This module is imported in both kernels; it needs only the standard library (numpy and
pandas are imported when a value needs them).

>>> text = dumps({"answer": ({"P13", "P36"}, 3, 2.5)}, ["answer", "missing"])
>>> loads(text) == {"answer": ({"P13", "P36"}, 3, 2.5)}
True
>>> class Sneaky(str): pass
>>> value = loads(dumps({"x": Sneaky("P1")}, ["x"]))["x"]
>>> type(value).__name__, isinstance(value, str)
('Sneaky', False)
"""
from __future__ import annotations

import datetime as _dt
import json
import math
import re
import sys
from typing import Any

#: The MIME type of a recording in the student's kernel's display output.
MIME = "text/x-kzcourse-values"
#: The MIME type of what :func:`bind` reports in the tests' kernel (a recording it could not read).
BIND_MIME = "text/x-kzcourse-bind"
#: At most this many characters of JSON per recording (one test cell's names).
MAX_CHARS = 32 * 1024 * 1024
#: Containers nested deeper than this are not plain data.
MAX_DEPTH = 60
#: At most this many values (elements, keys, array items) are decoded from one recording.
MAX_ITEMS = 2_000_000
#: At most this many bytes of numpy/pandas arrays are built from one recording.
MAX_BYTES = 256 * 1024 * 1024
#: numpy string arrays of at most this many characters per element.
MAX_STR = 1 << 20
#: At most this many elements of one set (or keys of one dict) may share a hash.
MAX_SAME_HASH = 64


class NotPlainData(Exception):
    """A value that is not one of the plain types listed in the module docstring."""

    def __init__(self, type_name: str):
        super().__init__(type_name)
        self.type_name = type_name


def _type_name(value: Any) -> str:
    t = type(value)
    return t.__name__ if t.__module__ in ("builtins", "__main__") else f"{t.__module__}.{t.__name__}"


def _float(v: float) -> Any:
    return v if math.isfinite(v) else {"$": "float", "v": repr(v)}


def encode(value: Any, depth: int = 0) -> Any:
    """The JSON-ready form of a plain value; raises :class:`NotPlainData` for anything else.

    >>> encode([1, (2.0, None)])
    [1, {'$': 'tuple', 'v': [2.0, None]}]
    """
    if depth > MAX_DEPTH:
        raise NotPlainData("a structure nested too deeply")
    t = type(value)
    if value is None or t in (bool, int, str):
        return value
    if t is float:
        return _float(value)
    if t is list:
        return [encode(v, depth + 1) for v in value]
    if t in (tuple, set, frozenset):
        items = [encode(v, depth + 1) for v in value]
        return {"$": t.__name__, "v": items}
    if t is dict:
        return {"$": "dict", "v": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in value.items()]}
    if t is _dt.date:
        return {"$": "date", "v": value.isoformat()}
    if t is _dt.datetime and value.tzinfo is None:
        return {"$": "datetime", "v": value.isoformat()}
    if t is _dt.time and value.tzinfo is None:
        return {"$": "time", "v": value.isoformat()}
    if t is _dt.timedelta:
        return {"$": "timedelta", "v": [value.days, value.seconds, value.microseconds]}
    module = t.__module__.split(".")[0]
    if module == "numpy":
        return _encode_numpy(value, depth)
    if module == "pandas":
        return _encode_pandas(value, depth)
    raise NotPlainData(_type_name(value))


def _encode_numpy(value: Any, depth: int) -> Any:
    import numpy as np

    if isinstance(value, np.generic) and type(value).__module__ == "numpy":
        kind = value.dtype.kind
        if kind in "biuf":
            item = value.item()
            return {"$": "np", "dtype": value.dtype.str, "v": _float(item) if kind == "f" else item}
        if kind in "mM":
            return {"$": "np", "dtype": value.dtype.str, "v": int(value.view("i8"))}
        if kind == "U":
            return {"$": "np", "dtype": value.dtype.str, "v": str(value)}
    if type(value) is np.ndarray:
        return {"$": "ndarray", "shape": list(value.shape), **_encode_array(value.reshape(-1), depth)}
    raise NotPlainData(_type_name(value))


def _encode_array(flat: Any, depth: int) -> dict:
    """A 1-D numpy array's dtype and values."""
    kind = flat.dtype.kind
    if kind in "biu":
        return {"dtype": flat.dtype.str, "v": flat.tolist()}
    if kind == "f":
        return {"dtype": flat.dtype.str, "v": [_float(v) for v in flat.tolist()]}
    if kind in "mM":
        return {"dtype": flat.dtype.str, "v": flat.view("i8").tolist()}
    if kind == "U":
        return {"dtype": flat.dtype.str, "v": flat.tolist()}
    if kind == "O":
        return {"dtype": "O", "v": [encode(v, depth + 1) for v in flat.tolist()]}
    raise NotPlainData(f"numpy array of dtype {flat.dtype}")


def _encode_values(values: Any, depth: int) -> dict:
    """The dtype and values of a pandas column or index (numpy-backed, category, string or nullable)."""
    import numpy as np
    import pandas as pd

    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        cat = pd.Categorical(values)
        return {"dtype": "category", "ordered": bool(dtype.ordered),
                "categories": _encode_values(pd.Index(cat.categories), depth),
                "codes": cat.codes.astype("int64").tolist()}
    if isinstance(dtype, pd.StringDtype):
        missing = pd.isna(np.asarray(values, dtype=object))
        return {"dtype": "string", "storage": dtype.storage, "na": "NA" if dtype.na_value is pd.NA else "nan",
                "v": [None if m else str(v) for v, m in zip(np.asarray(values, dtype=object), missing)]}
    if isinstance(dtype, pd.api.extensions.ExtensionDtype) and dtype.name in _MASKED:
        arr = pd.array(values)
        missing = arr.isna()
        items = [None if m else v for v, m in zip(np.asarray(arr, dtype=object).tolist(), missing)]
        return {"dtype": dtype.name, "v": [None if v is None else encode(type(v)(v) if not isinstance(v, float)
                                                                         else float(v), depth + 1) for v in items]}
    if isinstance(dtype, np.dtype):
        return _encode_array(np.asarray(values), depth)
    raise NotPlainData(f"pandas values of dtype {dtype}")


#: pandas' nullable (masked) dtypes carried as lists with None for missing values.
_MASKED = frozenset({"Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64", "Float32", "Float64",
                     "boolean"})


def _encode_index(index: Any, depth: int) -> dict:
    import pandas as pd

    if type(index) is pd.RangeIndex:
        return {"$": "RangeIndex", "start": index.start, "stop": index.stop, "step": index.step,
                "name": encode(index.name, depth + 1)}
    if type(index) is pd.MultiIndex:
        return {"$": "MultiIndex", "levels": [_encode_values(index.get_level_values(i), depth)
                                              for i in range(index.nlevels)],
                "names": [encode(n, depth + 1) for n in index.names]}
    if type(index) in (pd.Index, pd.DatetimeIndex, pd.TimedeltaIndex, pd.CategoricalIndex):
        if getattr(index, "tz", None) is not None or getattr(index, "freq", None) is not None:
            raise NotPlainData(f"pandas {type(index).__name__} with a time zone or frequency")
        return {"$": "Index", "name": encode(index.name, depth + 1), **_encode_values(index, depth)}
    raise NotPlainData(_type_name(index))


def _column(series: Any) -> Any:
    """A Series' values: its pandas array for extension dtypes, else its numpy array."""
    import pandas as pd

    return series.array if isinstance(series.dtype, pd.api.extensions.ExtensionDtype) else series.to_numpy()


def _encode_pandas(value: Any, depth: int) -> Any:
    import pandas as pd

    t = type(value)
    if value is pd.NaT:
        return {"$": "NaT"}
    if value is pd.NA:
        return {"$": "NA"}
    if t is pd.Timestamp and value.tz is None:
        return {"$": "Timestamp", "v": value.value, "unit": value.unit}
    if t is pd.Timedelta:
        return {"$": "Timedelta", "v": value.value, "unit": value.unit}
    if t is pd.Series:
        return {"$": "Series", "name": encode(value.name, depth + 1), "index": _encode_index(value.index, depth),
                **_encode_values(_column(value), depth)}
    if t is pd.DataFrame:
        return {"$": "DataFrame", "index": _encode_index(value.index, depth),
                "columns": _encode_index(value.columns, depth),
                "data": [_encode_values(_column(value.iloc[:, i]), depth) for i in range(value.shape[1])]}
    if isinstance(value, pd.Index):
        return _encode_index(value, depth)
    raise NotPlainData(_type_name(value))


_SCALARS = (type(None), bool, int, float, str)


class _Budget:
    """What one recording may still build: elements and bytes (a forged recording is refused, not built)."""

    def __init__(self) -> None:
        self.items = MAX_ITEMS
        self.bytes = MAX_BYTES

    def take(self, items: int, nbytes: int = 0) -> None:
        self.items -= items
        self.bytes -= nbytes
        if self.items < 0:
            raise ValueError(f"more than {MAX_ITEMS} values in one recording")
        if self.bytes < 0:
            raise ValueError(f"more than {MAX_BYTES} bytes of arrays in one recording")


def _list(v: Any, what: str = "values") -> list:
    if type(v) is not list:
        raise ValueError(f"expected a list of {what}, found {type(v).__name__}")
    return v


def _int(v: Any, what: str) -> int:
    if type(v) is not int:
        raise ValueError(f"expected an integer {what}, found {type(v).__name__}")
    return v


def _no_pileup(items: list) -> list:
    """Refuse elements of a set or keys of a dict whose hashes pile up (decoding them would take quadratic time).

    What :func:`encode` wrote from a real set or dict has no repeated element and almost no
    equal hashes; a forged one made of many values with one hash (``k * (2**61 - 1)``) would
    hold the tests' kernel for minutes.
    """
    hashes = sorted(hash(x) for x in items)
    run = 1
    for a, b in zip(hashes, hashes[1:]):
        run = run + 1 if a == b else 1
        if run > MAX_SAME_HASH:
            raise ValueError(f"more than {MAX_SAME_HASH} elements of a set or keys of a dict with the same hash")
    return items


def decode(data: Any, budget: "_Budget | None" = None, depth: int = 0) -> Any:
    """The value :func:`encode` was given (a placeholder object for what was not plain data).

    Builds only what :func:`encode` writes: the dtypes it produces, within :data:`MAX_ITEMS`
    values and :data:`MAX_BYTES` bytes of arrays per recording; anything else is a ``ValueError``.

    >>> decode({"$": "set", "v": ["a"]})
    {'a'}
    >>> decode({"$": "ndarray", "shape": [6], "dtype": "<U50000000", "v": ["a"] * 6})
    Traceback (most recent call last):
    ...
    ValueError: numpy strings of more than 1048576 characters
    """
    b = budget if budget is not None else _Budget()
    if depth > 3 * MAX_DEPTH:
        raise ValueError("a structure nested too deeply")
    b.take(1)
    if data is None or type(data) in (bool, int, float, str):
        return data
    d = depth + 1
    if type(data) is list:
        if all(type(x) in _SCALARS for x in data):  # the common case, without a call per element
            b.take(len(data))
            return list(data)
        return [decode(v, b, d) for v in data]
    if type(data) is not dict:
        raise ValueError(f"not an encoded value: {type(data).__name__}")
    tag = data.get("$")
    v = data.get("v")
    if tag == "float":
        if v not in ("nan", "inf", "-inf"):
            raise ValueError(f"not a float that JSON cannot hold: {str(v)[:40]!r}")
        return float(v)
    if tag in ("tuple", "set", "frozenset"):
        items = decode(_list(v), b, d)
        return tuple(items) if tag == "tuple" else set(_no_pileup(items)) if tag == "set" \
            else frozenset(_no_pileup(items))
    if tag == "dict":
        b.take(len(_list(v, "pairs")))
        pairs = [_list(p, "a key and a value") for p in v]  # the pair lists count, their items below
        if any(len(p) != 2 for p in pairs):
            raise ValueError("expected pairs of a key and a value")
        keys = _no_pileup([decode(k, b, d) for k, _ in pairs])
        return dict(zip(keys, [decode(x, b, d) for _, x in pairs]))
    if tag in ("date", "datetime", "time"):
        if type(v) is not str or len(v) > 40:
            raise ValueError(f"expected an ISO {tag}")
        return {"date": _dt.date, "datetime": _dt.datetime, "time": _dt.time}[tag].fromisoformat(v)
    if tag == "timedelta":
        parts = [_int(x, "part of a timedelta") for x in _list(v)]
        return _dt.timedelta(days=parts[0], seconds=parts[1], microseconds=parts[2])
    if tag == "np":
        dtype = _dtype(data.get("dtype"))
        if dtype.kind in "mM":
            return _np().array(_int(v, "datetime64/timedelta64 value"), dtype="i8").view(dtype)[()]
        if dtype.kind == "O":
            raise ValueError("a numpy scalar of object dtype")
        item = decode(v, b, d)
        if dtype.kind == "U" and (type(item) is not str or len(item) > dtype.itemsize // 4):
            raise ValueError("a numpy string longer than its dtype")
        if dtype.kind in "biuf" and type(item) not in (bool, int, float):
            raise ValueError(f"a numpy {dtype} scalar from a {type(item).__name__}")
        return dtype.type(item)
    if tag == "ndarray":
        shape = [_int(n, "array length") for n in _list(data.get("shape"), "lengths")]
        if len(shape) > 32 or any(n < 0 for n in shape):
            raise ValueError("an array shape of more than 32 non-negative lengths was expected")
        flat = _decode_array(data, b, d)
        if math.prod(shape) != len(flat):
            raise ValueError(f"an array of shape {shape} holding {len(flat)} values")
        return flat.reshape(shape)
    if tag == "unplain":
        return placeholder(str(data.get("type", "object"))[:200])
    if tag in ("NaT", "NA", "Timestamp", "Timedelta", "Series", "DataFrame", "Index", "RangeIndex", "MultiIndex"):
        return _decode_pandas(tag, data, b, d)
    raise ValueError(f"unknown tag {str(tag)[:40]!r}")


def _np() -> Any:
    import numpy as np

    return np


#: The dtypes :func:`encode` writes: byte order, kind, size (and a unit for datetime64/timedelta64).
_DTYPE = re.compile(r"^[<>|=]?(?:[bfiu]\d{1,2}|[mM]8(?:\[[A-Za-z]{1,3}\])?|U\d{1,9})$")


def _dtype(text: Any) -> Any:
    """A numpy dtype :func:`encode` could have written ("O" too); ``ValueError`` for anything else."""
    np = _np()
    if text == "O":
        return np.dtype(object)
    if type(text) is not str or not _DTYPE.match(text):
        raise ValueError(f"not a dtype of plain data: {str(text)[:40]!r}")
    dtype = np.dtype(text)
    if dtype.kind == "U" and dtype.itemsize > 4 * MAX_STR:
        raise ValueError(f"numpy strings of more than {MAX_STR} characters")
    if dtype.kind not in "biufmMU" or dtype.fields or dtype.subdtype:
        raise ValueError(f"not a dtype of plain data: {text!r}")
    return dtype


def _decode_array(data: dict, b: _Budget, d: int) -> Any:
    np = _np()
    dtype = _dtype(data.get("dtype"))
    v = _list(data.get("v"))
    b.take(0 if dtype.kind in "Of" else len(v), len(v) * max(dtype.itemsize, 8))  # O and f items are decoded
    if dtype.kind == "O":
        out = np.empty(len(v), dtype=object)
        for i, x in enumerate(v):
            out[i] = decode(x, b, d)
        return out
    if dtype.kind in "mM":
        return np.array([_int(x, "datetime64/timedelta64 value") for x in v], dtype="i8").view(dtype)
    if dtype.kind == "U":
        if any(type(x) is not str for x in v):
            raise ValueError("a string array holding something that is not text")
        return np.array(v, dtype=dtype)
    values = decode(v, b, d) if dtype.kind == "f" else v
    if any(type(x) not in (bool, int, float) for x in values):
        raise ValueError(f"a {dtype} array holding something that is not a number")
    return np.array(values, dtype=dtype)


def _decode_values(data: dict, b: _Budget, d: int) -> Any:
    import pandas as pd

    if type(data) is not dict:
        raise ValueError("expected encoded column values")
    if data.get("dtype") == "category":
        codes = [_int(c, "category code") for c in _list(data.get("codes"), "codes")]
        b.take(len(codes), 8 * len(codes))
        return pd.Categorical.from_codes(codes, categories=_decode_values(data.get("categories"), b, d),
                                         ordered=bool(data.get("ordered")))
    if data.get("dtype") == "string":
        np = _np()
        v = _list(data.get("v"))
        b.take(len(v))
        if data.get("storage") not in ("python", "pyarrow") or data.get("na") not in ("NA", "nan"):
            raise ValueError("not a pandas string dtype of plain data")
        dtype = pd.StringDtype(storage=data["storage"], na_value=pd.NA if data["na"] == "NA" else np.nan)
        return pd.array([None if x is None else str(x) for x in v], dtype=dtype)
    if data.get("dtype") in _MASKED:
        v = _list(data.get("v"))
        b.take(len(v), 9 * len(v))
        return pd.array([None if x is None else decode(x, b, d) for x in v], dtype=data["dtype"])
    return _decode_array(data, b, d)


def _decode_index(data: dict, b: _Budget, d: int) -> Any:
    import pandas as pd

    if type(data) is not dict:
        raise ValueError("expected an encoded index")
    if data.get("$") == "RangeIndex":
        r = range(_int(data.get("start"), "start"), _int(data.get("stop"), "stop"), _int(data.get("step"), "step"))
        b.take(len(r), 8 * len(r))  # pandas makes the whole array as soon as a test looks at values
        return pd.RangeIndex(r.start, r.stop, r.step, name=decode(data.get("name"), b, d))
    if data.get("$") == "MultiIndex":
        return pd.MultiIndex.from_arrays([_decode_values(level, b, d) for level in _list(data.get("levels"))],
                                         names=[decode(n, b, d) for n in _list(data.get("names"))])
    if data.get("$") != "Index":
        raise ValueError("expected an encoded index")
    return pd.Index(_decode_values(data, b, d), name=decode(data.get("name"), b, d), tupleize_cols=False,
                    dtype=object if data.get("dtype") == "O" else None)


def _series(data: dict, index: Any, name: Any, b: _Budget, d: int) -> Any:
    """A Series of decoded values; an object column stays object (pandas would infer ``str``)."""
    import pandas as pd

    return pd.Series(_decode_values(data, b, d), index=index, name=name,
                     dtype=object if data.get("dtype") == "O" else None)


def _decode_pandas(tag: str, data: dict, b: _Budget, d: int) -> Any:
    import pandas as pd

    if tag == "NaT":
        return pd.NaT
    if tag == "NA":
        return pd.NA
    if tag in ("Timestamp", "Timedelta"):
        unit = data.get("unit", "ns")
        if unit not in ("s", "ms", "us", "ns"):
            raise ValueError(f"not a time unit: {str(unit)[:10]!r}")
        kind = pd.Timestamp if tag == "Timestamp" else pd.Timedelta
        return kind(_int(data.get("v"), tag)).as_unit(unit)
    if tag == "Series":
        return _series(data, _decode_index(data.get("index"), b, d), decode(data.get("name"), b, d), b, d)
    if tag == "DataFrame":
        index = _decode_index(data.get("index"), b, d)
        columns = _list(data.get("data"), "columns")
        frame = pd.DataFrame({i: _series(col, index, None, b, d) for i, col in enumerate(columns)}, index=index)
        frame.columns = _decode_index(data.get("columns"), b, d)
        return frame
    return _decode_index(data, b, d)


_PLACEHOLDERS: dict[str, type] = {}


def placeholder(type_name: str) -> Any:
    """An empty object whose type carries the name of a type that is not plain data.

    >>> p = placeholder("mymodule.Cheat")
    >>> type(p).__name__, repr(p)
    ('Cheat', '<a Cheat object: not plain data, so it cannot be graded>')
    """
    name = re.sub(r"\W", "_", type_name.rsplit(".", 1)[-1])[:60] or "object"
    if not name[0].isalpha() and name[0] != "_":
        name = "_" + name
    if name not in _PLACEHOLDERS:
        _PLACEHOLDERS[name] = type(name, (), {
            "__repr__": lambda self: f"<a {type(self).__name__} object: not plain data, so it cannot be graded>",
            "__module__": "kzcourse.grading.values",
        })
    return _PLACEHOLDERS[name]()


def dumps(namespace: dict, names: list[str]) -> str:
    """JSON text of the plain values of ``names`` in ``namespace`` (unset names are left out).

    >>> dumps({"a": 1, "f": print}, ["a", "f", "b"])
    '{"a": 1, "f": {"$": "unplain", "type": "builtin_function_or_method"}}'
    """
    out = {}
    for name in names:
        if name not in namespace:
            continue
        try:
            out[name] = encode(namespace[name])
        except NotPlainData as exc:
            out[name] = {"$": "unplain", "type": exc.type_name}
        except Exception as exc:  # a value that breaks while being read is not plain data either
            out[name] = {"$": "unplain", "type": type(exc).__name__}
    return json.dumps(out, allow_nan=False)


def loads(text: str) -> dict[str, Any]:
    """The values :func:`dumps` recorded, by name.

    Raises ``ValueError`` for text that is not a recording (too long, not JSON, a bad tag).
    """
    if not isinstance(text, str) or len(text) > MAX_CHARS:
        raise ValueError("not a recording: expected JSON text of at most "
                         f"{MAX_CHARS} characters")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"not a recording: {exc}") from None
    if type(data) is not dict or not all(type(k) is str and k.isidentifier() for k in data):
        raise ValueError("not a recording: expected an object of names")
    budget = _Budget()
    try:
        return {k: decode(v, budget) for k, v in data.items()}
    except ValueError as exc:
        raise ValueError(f"not a recording: {str(exc)[:300]}") from None
    except (TypeError, KeyError, IndexError, AttributeError, OverflowError, RecursionError, MemoryError) as exc:
        raise ValueError(f"not a recording: {type(exc).__name__}: {str(exc)[:300]}") from None


def record(names: list[str]) -> None:
    """In the student's kernel: publish the plain values of ``names`` (called by phase 1)."""
    from IPython import get_ipython
    from IPython.display import publish_display_data

    publish_display_data({MIME: dumps(get_ipython().user_ns, names)})


def bind(text: str, names: list[str]) -> None:
    """In the tests' kernel: bind the recorded values, and unbind ``names`` that were not recorded.

    A recording that cannot be read binds nothing; what went wrong, and which names hold a
    placeholder (not plain data), is published as :data:`BIND_MIME` for the grader to flag.
    """
    from IPython import get_ipython
    from IPython.display import publish_display_data

    ns = get_ipython().user_ns
    for name in names:
        ns.pop(name, None)
    problem = None
    try:
        found = loads(text) if text else {}
    except ValueError as exc:
        found, problem = {}, str(exc)
    for name in names:
        if name in found:
            ns[name] = found[name]
    unplain = {name: type(found[name]).__name__ for name in names
               if name in found and type(found[name]).__module__ == __name__}
    if problem or unplain:
        publish_display_data({BIND_MIME: json.dumps({"problem": problem, "unplain": unplain})})


def reset() -> None:
    """In the tests' kernel, before the next notebook: a fresh namespace, count and warning registries."""
    import warnings

    from IPython import get_ipython

    get_ipython().reset(new_session=True)
    for module in list(sys.modules.values()):
        registry = getattr(module, "__warningregistry__", None)
        if isinstance(registry, dict):
            registry.clear()
    warnings.onceregistry.clear()
    mutated = getattr(warnings, "_filters_mutated", None)  # invalidates the cached registries' version
    if mutated is not None:
        mutated()
