"""Hypothesis strategies derived from the dictionary's field types and ranges (never hand-listed).

Telemetry may carry any value its wire type holds (a sensor can report nonsense and the ground
must still decode it); command arguments stay inside what the dictionary accepts.
"""
from __future__ import annotations

import math
from typing import Any

from hypothesis import strategies as st

from protocol.model import Command, Field, TelemetryPacket, _int_bounds


def field_values(f: Field, valid_only: bool) -> st.SearchStrategy[Any]:
    if f.is_variable:
        return st.binary(max_size=300)
    if f.is_bytes:
        return st.binary(min_size=f.size, max_size=f.size)
    if f.is_float:
        width = {"e": 16, "f": 32, "d": 64}[f.fmt]
        if valid_only and f.valid_range:
            lo, hi = f.valid_range
            return st.floats(min_value=lo, max_value=hi, width=width)
        return st.floats(width=width, allow_nan=not valid_only, allow_infinity=not valid_only)
    lo, hi = _int_bounds(f.fmt)
    if valid_only and f.states is not None:
        return st.sampled_from(sorted(f.states))
    if valid_only and f.valid_range:
        lo, hi = max(lo, math.ceil(f.valid_range[0])), min(hi, math.floor(f.valid_range[1]))
    return st.integers(lo, hi)


def telemetry_values(p: TelemetryPacket) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({f.name: field_values(f, valid_only=False) for f in p.fields})


def command_args(c: Command) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({a.name: field_values(a, valid_only=True) for a in c.args})


seq_counts = st.integers(0, 0x3FFF)
coarse_times = st.integers(0, 0xFFFFFFFF)
fine_times = st.integers(0, 0xFFFF)


def same_value(a: Any, b: Any) -> bool:
    """Equal, where NaN equals NaN and an enum label equals its integer."""
    if isinstance(a, float) or isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, (bytes, bytearray)) or isinstance(b, (bytes, bytearray)):
        return bytes(a) == bytes(b)
    return int(a) == int(b)


def same_values(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
