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


# ---- segments (added by the ground ingest; readers use live_segments) ----
# A Parquet file is named by the raw-log byte range it was decoded from:
#     seg-<start:016d>-<end:016d>.parquet
# Re-decoding the same range after a crash rewrites the same name (idempotent). Compaction
# merges small segments into one whose range covers theirs; until the small ones are deleted,
# a segment whose range lies inside another's is superseded and must be skipped by readers.
# Files are written under a hidden name (".seg-...parquet.tmp") and renamed into place, so a
# reader never sees a partial file (pyarrow.dataset skips names starting with "." or "_").
SEGMENT_PREFIX = "seg-"
SEGMENT_SUFFIX = ".parquet"


def segment_name(start: int, end: int) -> str:
    return f"{SEGMENT_PREFIX}{start:016d}-{end:016d}{SEGMENT_SUFFIX}"


def segment_range(path: Path | str) -> tuple[int, int] | None:
    """(start, end) raw-log offsets of a segment file, or None when the name is not a segment."""
    name = Path(path).name
    if not (name.startswith(SEGMENT_PREFIX) and name.endswith(SEGMENT_SUFFIX)):
        return None
    body = name[len(SEGMENT_PREFIX):-len(SEGMENT_SUFFIX)]
    a, _, b = body.partition("-")
    if not (a.isdigit() and b.isdigit()):
        return None
    return int(a), int(b)


def live_segments(directory: Path | str) -> list[Path]:
    """The segment files of one day directory that readers should read, in raw-log order."""
    segs = []
    for p in Path(directory).glob(f"{SEGMENT_PREFIX}*{SEGMENT_SUFFIX}"):
        r = segment_range(p)
        if r is not None:
            segs.append((r, p))
    live: list[Path] = []
    cover_end = -1
    # Start ascending, end descending: the widest range comes first; what it covers is skipped.
    segs.sort(key=lambda rp: (rp[0][0], -rp[0][1]))
    for (a, b), p in segs:
        if b <= cover_end:
            continue
        live.append(p)
        cover_end = max(cover_end, b)
    return live


def day_dirs(root: Path | str, packet_name: str) -> list[tuple[str, Path]]:
    """(YYYY-MM-DD, directory) of every day partition of one packet, in date order."""
    base = packet_dir(root, packet_name)
    if not base.exists():
        return []
    out = [(p.name[5:], p) for p in base.iterdir() if p.is_dir() and p.name.startswith("date=")]
    return sorted(out)
