"""The three HAPI data stream formats (spec 3.7.4), each encoding a whole record batch at once.

Input: the requested parameters and, per parameter, a numpy array in its HAPI representation
(int32, float64 or fixed-width bytes). Binary packs a numpy structured array (little-endian,
strings NUL-padded); CSV and JSON format every column with pyarrow compute kernels and join the
columns row-wise in C++, so no Python code runs per row.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ground.hapi.datasets import Parameter

Encoder = Callable[[Sequence[Parameter], Sequence[np.ndarray]], bytes]
FORMATS = ("csv", "binary", "json")
MEDIA_TYPES = {"csv": "text/csv", "binary": "application/octet-stream", "json": "application/json"}
# JSON rows are written as ",\n[...]": the stream drops this separator before its first row.
JSON_ROW_SEPARATOR = b",\n"


def binary_dtype(params: Sequence[Parameter]) -> np.dtype:
    return np.dtype([(f"f{i}", p.numpy_dtype) for i, p in enumerate(params)])


def encode_binary(params: Sequence[Parameter], values: Sequence[np.ndarray]) -> bytes:
    n = len(values[0]) if values else 0
    records = np.empty(n, dtype=binary_dtype(params))
    for i, v in enumerate(values):
        records[f"f{i}"] = v
    return records.tobytes()


def _strings(v: np.ndarray) -> pa.Array:
    """Fixed-width NUL-padded bytes -> Arrow strings without the padding."""
    width = v.dtype.itemsize
    arr = pa.array(v, type=pa.binary(width)).cast(pa.binary())
    padded = len(v) > 0 and bool((v.view(np.uint8).reshape(len(v), width)[:, -1] == 0).any())
    if padded:
        arr = pc.replace_substring_regex(arr, "\\x00+$", "")
    return arr.cast(pa.string())


def _numbers(v: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(v), pa.string())


def _csv_column(p: Parameter, v: np.ndarray) -> pa.Array:
    if p.type in ("isotime", "string"):
        s = _strings(v)
        if p.type == "string":
            needs = pc.match_substring_regex(s, '[,"\\r\\n]')
            quoted = pc.binary_join_element_wise('"', pc.replace_substring(s, '"', '""'), '"', "")
            s = pc.if_else(needs, quoted, s)
        return s
    s = _numbers(v)
    if p.type == "double":
        nan = np.isnan(v)
        if nan.any():
            s = pc.if_else(pa.array(nan), "NaN", s)
    return s


def _json_column(p: Parameter, v: np.ndarray) -> pa.Array:
    if p.type in ("isotime", "string"):
        s = _strings(v)
        if p.type == "string":
            s = pc.replace_substring(pc.replace_substring(s, "\\", "\\\\"), '"', '\\"')
            s = pc.replace_substring_regex(s, "[\\x00-\\x1f]", " ")
        return pc.binary_join_element_wise('"', s, '"', "")
    s = _numbers(v)
    if p.type == "double":
        bad = ~np.isfinite(v)
        if bad.any():
            s = pc.if_else(pa.array(bad), "null", s)
    return s


def _joined_bytes(rows: pa.Array) -> bytes:
    """The concatenated values of a string array, straight from its data buffer."""
    if len(rows) == 0:
        return b""
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int32)[rows.offset:rows.offset + len(rows) + 1]
    start, stop = int(offsets[0]), int(offsets[-1])
    return rows.buffers()[2].slice(start, stop - start).to_pybytes()


def encode_csv(params: Sequence[Parameter], values: Sequence[np.ndarray]) -> bytes:
    if not values or len(values[0]) == 0:
        return b""
    cols = [_csv_column(p, v) for p, v in zip(params, values)]
    cols[-1] = pc.binary_join_element_wise(cols[-1], "\n", "")  # the line end rides on the last column
    return _joined_bytes(pc.binary_join_element_wise(*cols, ",") if len(cols) > 1 else cols[0])


def encode_json(params: Sequence[Parameter], values: Sequence[np.ndarray]) -> bytes:
    """Rows as ``,\\n[v0,v1,...]`` (see JSON_ROW_SEPARATOR)."""
    if not values or len(values[0]) == 0:
        return b""
    cols = [_json_column(p, v) for p, v in zip(params, values)]
    inner = pc.binary_join_element_wise(*cols, ",") if len(cols) > 1 else cols[0]
    return _joined_bytes(pc.binary_join_element_wise(",\n[", inner, "]", ""))


ENCODERS: dict[str, Encoder] = {"csv": encode_csv, "binary": encode_binary, "json": encode_json}
