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
#: At most this many characters of JSON per recording (one test cell's names).
MAX_CHARS = 32 * 1024 * 1024
#: Containers nested deeper than this are not plain data.
MAX_DEPTH = 60


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


def decode(data: Any) -> Any:
    """The value :func:`encode` was given (a placeholder object for what was not plain data).

    >>> decode({"$": "set", "v": ["a"]})
    {'a'}
    """
    if data is None or type(data) in (bool, int, float, str):
        return data
    if type(data) is list:
        return [decode(v) for v in data]
    if type(data) is not dict:
        raise ValueError(f"not an encoded value: {type(data).__name__}")
    tag = data.get("$")
    v = data.get("v")
    if tag == "float":
        return float(v)
    if tag == "tuple":
        return tuple(decode(x) for x in v)
    if tag == "set":
        return {decode(x) for x in v}
    if tag == "frozenset":
        return frozenset(decode(x) for x in v)
    if tag == "dict":
        return {decode(k): decode(x) for k, x in v}
    if tag == "date":
        return _dt.date.fromisoformat(v)
    if tag == "datetime":
        return _dt.datetime.fromisoformat(v)
    if tag == "time":
        return _dt.time.fromisoformat(v)
    if tag == "timedelta":
        return _dt.timedelta(days=v[0], seconds=v[1], microseconds=v[2])
    if tag == "np":
        import numpy as np

        dtype = np.dtype(data["dtype"])
        if dtype.kind in "mM":
            return np.array(int(v), dtype="i8").view(dtype)[()]
        return dtype.type(decode(v))
    if tag == "ndarray":
        return _decode_array(data).reshape(data["shape"])
    if tag == "unplain":
        return placeholder(str(data.get("type", "object")))
    if tag in ("NaT", "NA", "Timestamp", "Timedelta", "Series", "DataFrame", "Index", "RangeIndex", "MultiIndex"):
        return _decode_pandas(tag, data)
    raise ValueError(f"unknown tag {tag!r}")


def _decode_array(data: dict) -> Any:
    import numpy as np

    dtype = data["dtype"]
    if dtype == "O":
        out = np.empty(len(data["v"]), dtype=object)
        for i, x in enumerate(data["v"]):
            out[i] = decode(x)
        return out
    dtype = np.dtype(dtype)
    if dtype.kind in "mM":
        return np.array(data["v"], dtype="i8").view(dtype)
    values = [decode(x) for x in data["v"]] if dtype.kind == "f" else data["v"]
    return np.array(values, dtype=dtype)


def _decode_values(data: dict) -> Any:
    import pandas as pd

    if data["dtype"] == "category":
        return pd.Categorical.from_codes(data["codes"], categories=_decode_values(data["categories"]),
                                         ordered=data["ordered"])
    if data["dtype"] == "string":
        import numpy as np

        dtype = pd.StringDtype(storage=data["storage"], na_value=pd.NA if data["na"] == "NA" else np.nan)
        return pd.array([None if x is None else str(x) for x in data["v"]], dtype=dtype)
    if data["dtype"] in _MASKED:
        return pd.array([None if x is None else decode(x) for x in data["v"]], dtype=data["dtype"])
    return _decode_array(data)


def _decode_index(data: dict) -> Any:
    import pandas as pd

    if data["$"] == "RangeIndex":
        return pd.RangeIndex(data["start"], data["stop"], data["step"], name=decode(data["name"]))
    if data["$"] == "MultiIndex":
        return pd.MultiIndex.from_arrays([_decode_values(level) for level in data["levels"]],
                                         names=[decode(n) for n in data["names"]])
    return pd.Index(_decode_values(data), name=decode(data["name"]), tupleize_cols=False,
                    dtype=object if data.get("dtype") == "O" else None)


def _series(data: dict, index: Any, name: Any) -> Any:
    """A Series of decoded values; an object column stays object (pandas would infer ``str``)."""
    import pandas as pd

    return pd.Series(_decode_values(data), index=index, name=name, dtype=object if data.get("dtype") == "O" else None)


def _decode_pandas(tag: str, data: dict) -> Any:
    import pandas as pd

    if tag == "NaT":
        return pd.NaT
    if tag == "NA":
        return pd.NA
    if tag == "Timestamp":
        return pd.Timestamp(int(data["v"])).as_unit(data.get("unit", "ns"))
    if tag == "Timedelta":
        return pd.Timedelta(int(data["v"])).as_unit(data.get("unit", "ns"))
    if tag == "Series":
        return _series(data, _decode_index(data["index"]), decode(data["name"]))
    if tag == "DataFrame":
        index = _decode_index(data["index"])
        frame = pd.DataFrame({i: _series(col, index, None) for i, col in enumerate(data["data"])}, index=index)
        frame.columns = _decode_index(data["columns"])
        return frame
    return _decode_index(data)


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
    return {k: decode(v) for k, v in data.items()}


def record(names: list[str]) -> None:
    """In the student's kernel: publish the plain values of ``names`` (called by phase 1)."""
    from IPython import get_ipython
    from IPython.display import publish_display_data

    publish_display_data({MIME: dumps(get_ipython().user_ns, names)})


def bind(text: str, names: list[str]) -> None:
    """In the tests' kernel: bind the recorded values, and unbind ``names`` that were not recorded."""
    from IPython import get_ipython

    ns = get_ipython().user_ns
    values = loads(text) if text else {}
    for name in names:
        if name in values:
            ns[name] = values[name]
        else:
            ns.pop(name, None)


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
