"""numpy record dtypes per APID, derived from the dictionary, for the native batch decoder."""
from __future__ import annotations

import numpy as np

from protocol.construct_defs import telemetry_length
from protocol.model import TelemetryPacket
from protocol.registry import Dictionary

HEADER_COLUMNS = [("seq", "<u2"), ("coarse", "<u4"), ("fine", "<u2")]


def record_dtype(p: TelemetryPacket) -> np.dtype:
    """Native-endian packed record: seq, CUC coarse and fine, then every field in order."""
    return np.dtype(HEADER_COLUMNS + [(f.name, f.numpy_type if f.is_bytes else "<" + f.numpy_type) for f in p.fields])


def wire_dtype(p: TelemetryPacket) -> np.dtype:
    """The packet exactly as on the wire (big-endian), for zero-copy views of a packet file."""
    return np.dtype([("w0", ">u2"), ("w1", ">u2"), ("w2", ">u2"), ("coarse", ">u4"), ("fine", ">u2")]
                    + [(f.name, f.numpy_type if f.is_bytes else ">" + f.numpy_type) for f in p.fields] + [("crc", ">u2")])


def batch_layouts(d: Dictionary) -> dict[int, tuple[int, list[int], np.dtype]]:
    """What ``native.BatchDecoder`` needs for every fixed-length telemetry packet."""
    return {
        p.apid: (telemetry_length(p), [f.size for f in p.fields], record_dtype(p))
        for p in d.telemetry.values() if not p.is_variable
    }


def make_batch_decoder(d: Dictionary, capacity: int = 1 << 22):
    """A ``native.BatchDecoder`` for every fixed-length telemetry packet of ``d`` (``capacity``:
    most records per APID per pass; results are the same whatever it is)."""
    from native import BatchDecoder
    return BatchDecoder(batch_layouts(d), capacity=capacity)
