"""Where and how the archive stores telemetry: the contract between the ingest (``archive``),
the HAPI server and the data-sharing engine. Derived from the dictionary, never hand-written.

Layout under the archive root::

    raw/                     append-only raw packet logs (written first; the source of truth)
    parquet/<PACKET>/date=YYYY-MM-DD/<segment>.parquet
                             decoded columns, partitioned by packet type (APID) and UTC day

Columns of every Parquet file: ``time`` (UTC, timestamp[ns, tz=UTC], from the CUC time code with
leap seconds), ``tai`` (float64 TAI seconds since 1958), ``seq`` (uint16 sequence count), then
one column per dictionary field, named as in the dictionary, with the field's wire type (enum
fields hold the raw integer; variable-length byte fields are binary).
"""
from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from protocol.model import Field, TelemetryPacket

PARQUET_DIR = "parquet"
RAW_DIR = "raw"
TIME_COLUMN = "time"
HEADER_FIELDS = (
    pa.field("time", pa.timestamp("ns", tz="UTC"), nullable=False),
    pa.field("tai", pa.float64(), nullable=False),
    pa.field("seq", pa.uint16(), nullable=False),
)
_ARROW = {"u1": pa.uint8(), "i1": pa.int8(), "u2": pa.uint16(), "i2": pa.int16(), "u4": pa.uint32(),
          "i4": pa.int32(), "u8": pa.uint64(), "i8": pa.int64(), "f2": pa.float16(), "f4": pa.float32(),
          "f8": pa.float64()}


def arrow_type(f: Field) -> pa.DataType:
    if f.is_variable:
        return pa.binary()
    if f.is_bytes:
        return pa.binary(f.size)
    return _ARROW[f.numpy_type]


def arrow_schema(p: TelemetryPacket) -> pa.Schema:
    meta = {b"packet": p.name.encode(), b"apid": str(p.apid).encode()}
    fields = list(HEADER_FIELDS)
    for f in p.fields:
        md = {k.encode(): v.encode() for k, v in (("units", f.units), ("description", f.description)) if v}
        fields.append(pa.field(f.name, arrow_type(f), metadata=md or None))
    return pa.schema(fields, metadata=meta)


def packet_dir(root: Path | str, packet_name: str) -> Path:
    return Path(root) / PARQUET_DIR / packet_name


def day_dir(root: Path | str, packet_name: str, day: str) -> Path:
    """``day`` is an ISO date (YYYY-MM-DD, UTC)."""
    return packet_dir(root, packet_name) / f"date={day}"
