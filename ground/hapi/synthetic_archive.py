"""Synthetic archive segments in the layout of ``ground.archive_layout`` (for tests, benchmarks
and the memory check), written the way the ingest must write them: to a hidden temporary name,
then renamed, so a reader never sees half a file."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ground.archive_layout import arrow_schema, day_dir
from protocol.model import TelemetryPacket
from protocol.time_codes import EPOCH_1958_TO_1970, tai_minus_utc_at_utc

NS_PER_S = 1_000_000_000


def synthetic_table(packet: TelemetryPacket, times_ns: np.ndarray, seed: int = 0) -> pa.Table:
    """A table of ``packet`` records at the given UTC instants, with plausible random values."""
    rng = np.random.default_rng(seed)
    n = len(times_ns)
    schema = arrow_schema(packet)
    offset = tai_minus_utc_at_utc(float(times_ns[0]) / NS_PER_S) if n else 37
    cols: dict[str, pa.Array] = {
        "time": pa.array(times_ns, type=pa.timestamp("ns", tz="UTC")),
        "tai": pa.array(times_ns / NS_PER_S + EPOCH_1958_TO_1970 + offset),
        "seq": pa.array((np.arange(n) % 16384).astype(np.uint16)),
    }
    for f in packet.fields:
        typ = schema.field(f.name).type
        if f.is_variable:
            cols[f.name] = pa.array([bytes(rng.integers(0, 256, 8, dtype=np.uint8)) for _ in range(n)], pa.binary())
        elif f.is_bytes:
            cols[f.name] = pa.array([bytes(rng.integers(0, 256, f.size, dtype=np.uint8)) for _ in range(n)], typ)
        elif f.name == "event_id":  # real events, so messages render from the dictionary
            from protocol.opals import DICTIONARY
            ids = np.array(sorted(e.event_id for e in DICTIONARY.events.values()))
            cols[f.name] = pa.array(rng.choice(ids, n).astype(f.numpy_type))
        elif f.name.startswith("arg") and packet.name == "EVENT":
            cols[f.name] = pa.array(rng.integers(0, 12, n).astype(f.numpy_type))
        elif f.states:
            keys = np.array(sorted(f.states))
            cols[f.name] = pa.array(rng.choice(keys, n).astype(f.numpy_type))
        elif f.is_float:
            lo, hi = f.valid_range or (-1000.0, 1000.0)
            cols[f.name] = pa.array(rng.uniform(lo, hi, n).astype(f.numpy_type))
        else:
            info = np.iinfo(np.dtype(f.numpy_type))
            hi = min(info.max, 100_000) if not f.bits else info.max
            cols[f.name] = pa.array(rng.integers(max(info.min, 0), hi, n, endpoint=True).astype(f.numpy_type))
    return pa.table(cols, schema=schema)


def write_segment(root: Path | str, packet: TelemetryPacket, table: pa.Table, name: str,
                  row_group_size: int | None = None) -> Path:
    """Write one segment atomically into the day partition of its first record."""
    first = table.column("time")[0].value
    day = np.datetime64(first // (86_400 * NS_PER_S), "D")
    target_dir = day_dir(root, packet.name, str(day))
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / f"{name}.parquet"
    tmp = target_dir / f".{name}.parquet.tmp"
    pq.write_table(table, tmp, row_group_size=row_group_size)
    os.replace(tmp, target)
    return target


def write_days(root: Path | str, packet: TelemetryPacket, first_day: str, days: int, rate_hz: float,
               seed: int = 0, row_group_size: int | None = None) -> int:
    """``days`` days of ``packet`` at ``rate_hz`` starting at ``first_day`` (YYYY-MM-DD), one
    segment per day; returns the number of records written."""
    start = np.datetime64(first_day, "D").astype("datetime64[ns]").astype(np.int64)
    per_day = int(round(86_400 * rate_hz))
    step = int(round(NS_PER_S / rate_hz))
    total = 0
    for d in range(days):
        t0 = start + d * 86_400 * NS_PER_S
        times = t0 + np.arange(per_day, dtype=np.int64) * step
        write_segment(root, packet, synthetic_table(packet, times, seed + d), f"seg-{d:05d}", row_group_size)
        total += per_day
    return total
