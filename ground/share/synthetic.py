"""Synthetic data with a given schema: the catalogue's samples (so analysts can test code before
sending it) and small archives in the real layout for tests, demos and benchmarks."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ground.archive_layout import arrow_schema, day_dir
from protocol.model import TelemetryPacket

TAI_MINUS_UTC = 37  # seconds, since 2017-01-01 (REFERENCE.md)
CCSDS_EPOCH_UNIX = -378691200  # 1958-01-01 in Unix seconds


def _column(typ: pa.DataType, n: int, rng: np.random.Generator, base: np.ndarray) -> pa.Array:
    if pa.types.is_timestamp(typ):
        return pa.array((base * 1e9).astype("int64"), type=pa.int64()).cast(typ)
    if pa.types.is_floating(typ):
        return pa.array(rng.normal(20.0, 5.0, n).astype(typ.to_pandas_dtype()), type=typ)
    if pa.types.is_integer(typ):
        info = np.iinfo(typ.to_pandas_dtype())
        hi = min(int(info.max), 1000) if info.min == 0 else min(int(info.max), 100)
        return pa.array(rng.integers(max(int(info.min), 0), hi + 1, n).astype(typ.to_pandas_dtype()), type=typ)
    if pa.types.is_fixed_size_binary(typ):
        return pa.array([rng.bytes(typ.byte_width) for _ in range(n)], type=typ)
    if pa.types.is_binary(typ):
        return pa.array([rng.bytes(int(k)) for k in rng.integers(0, 16, n)], type=typ)
    if pa.types.is_string(typ):
        return pa.array([f"{v:016x}" for v in rng.integers(0, 2**62, n)], type=typ)
    return pa.nulls(n, typ)


def synthetic_table(schema: pa.Schema, n: int, start: dt.datetime | None = None, rate_hz: float = 1.0,
                    seed: int = 0) -> pa.Table:
    """``n`` plausible rows of ``schema``; time/tai/seq consistent with each other."""
    rng = np.random.default_rng(seed)
    start = start or dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    unix = start.timestamp() + np.arange(n) / rate_hz
    cols = {}
    for f in schema:
        if f.name == "tai" and pa.types.is_floating(f.type):
            cols[f.name] = pa.array(unix - CCSDS_EPOCH_UNIX + TAI_MINUS_UTC, type=f.type)
        elif f.name == "seq" and pa.types.is_integer(f.type):
            cols[f.name] = pa.array((np.arange(n) % 16384).astype("uint16")).cast(f.type)
        else:
            cols[f.name] = _column(f.type, n, rng, unix)
    return pa.Table.from_arrays([cols[f.name] for f in schema], schema=schema)


def write_archive(root: Path | str, packet: TelemetryPacket, rows_per_day: int, days: int = 1,
                  rate_hz: float = 1.0, row_group_size: int | None = None, seed: int = 0,
                  start: dt.date = dt.date(2026, 1, 1)) -> list[Path]:
    """Write ``days`` day partitions of ``packet`` in the archive layout; returns the files."""
    schema = arrow_schema(packet)
    paths = []
    for d in range(days):
        day = start + dt.timedelta(days=d)
        t0 = dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)
        table = synthetic_table(schema, rows_per_day, t0, rate_hz, seed + d)
        out = day_dir(root, packet.name, day.isoformat())
        out.mkdir(parents=True, exist_ok=True)
        path = out / "part-000.parquet"
        pq.write_table(table, path, row_group_size=row_group_size or rows_per_day)
        paths.append(path)
    return paths
