"""Import data from any HAPI server (through the ``hapiclient`` package) into the archive or a
file, so the SOC can take in another centre's data.

Archive placement: ``<archive>/parquet/imported/<server>/<dataset>/date=YYYY-MM-DD/<segment>.parquet``,
i.e. the layout of ``ground.archive_layout`` with the packet name ``imported/<server>/<dataset>``
(``<server>`` is the URL's host, port and path, ``<dataset>`` the dataset id, both with every
character outside ``[A-Za-z0-9._-]`` replaced by ``_``). Columns: ``time`` (timestamp[ns, UTC],
from the primary time parameter), ``tai`` (TAI seconds since 1958, leap seconds applied), then one
column per HAPI parameter (array parameters as fixed-size lists) carrying ``units`` and
``description`` field metadata; there is no ``seq``. The segment is named after the request, so
importing the same range again replaces it rather than duplicating it.

A long range is fetched in windows of ``chunk_days`` (cut at UTC midnights), each written before
the next is requested, so an import of a year holds one window in memory, not the year.
"""
from __future__ import annotations

import os
import re
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ground.archive_layout import PARQUET_DIR
from ground.hapi.timefmt import format_day, parse_hapi_time
from protocol.time_codes import EPOCH_1958_TO_1970, tai_minus_utc_at_utc

NS_PER_DAY = 86_400 * 1_000_000_000
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
RESERVED = ("time", "tai", "seq")


@dataclass(frozen=True)
class Fetched:
    data: np.ndarray  # hapiclient's structured array
    meta: dict  # the info response (with "parameters")


def fetch(url: str, dataset: str, start: str, stop: str, parameters: str = "", fmt: str = "binary") -> Fetched:
    """One request through hapiclient, its cache off (the archive is the cache)."""
    from hapiclient import hapi

    data, meta = hapi(url.rstrip("/"), dataset, parameters, start, stop, logging=False, cache=False,
                      usecache=False, format=fmt)
    return Fetched(data, meta)


def safe_name(text: str) -> str:
    return _UNSAFE.sub("_", text).strip("_") or "_"


def server_name(url: str) -> str:
    u = urllib.parse.urlsplit(url)
    return safe_name(f"{u.netloc}{u.path}")


def hapi_times_to_ns(values: np.ndarray) -> np.ndarray:
    """HAPI time strings (bytes or str; any of the spec's forms) -> int64 ns since the epoch."""
    from ground.hapi.timefmt import parse_hapi_time

    texts = [v.decode() if isinstance(v, bytes) else str(v) for v in values]
    try:  # the common year-month-day form, vectorised
        return np.array([t.rstrip("Z") for t in texts], dtype="datetime64[ns]").astype(np.int64)
    except ValueError:
        return np.array([parse_hapi_time(t) for t in texts], dtype=np.int64)


def _tai(ns: np.ndarray) -> np.ndarray:
    days = ns // NS_PER_DAY
    uniq, inverse = np.unique(days, return_inverse=True)
    offsets = np.array([tai_minus_utc_at_utc(float(d) * 86_400) for d in uniq], dtype=np.float64)
    return ns / 1e9 + EPOCH_1958_TO_1970 + offsets[inverse.reshape(-1)]


def to_table(fetched: Fetched) -> pa.Table:
    """hapiclient output -> Arrow table with the archive's header columns first."""
    params = fetched.meta["parameters"]
    time_name = params[0]["name"]
    ns = hapi_times_to_ns(fetched.data[time_name]) if len(fetched.data) else np.zeros(0, np.int64)
    fields = [pa.field("time", pa.timestamp("ns", tz="UTC"), nullable=False),
              pa.field("tai", pa.float64(), nullable=False)]
    arrays: list[pa.Array] = [pa.array(ns, type=pa.timestamp("ns", tz="UTC")), pa.array(_tai(ns))]
    for p in params[1:]:
        values = fetched.data[p["name"]]
        if p["type"] in ("string", "isotime"):
            flat = np.char.decode(values, "utf-8") if values.dtype.kind == "S" else values.astype(str)
            values = flat
        if values.ndim > 1:  # array parameters: one fixed-size list per record
            width = int(np.prod(values.shape[1:]))
            arr = pa.FixedSizeListArray.from_arrays(pa.array(values.reshape(-1)), width)
        else:
            arr = pa.array(values)
        md = {k.encode(): str(p[k]).encode() for k in ("units", "description", "fill") if p.get(k) is not None}
        name = p["name"] if p["name"] not in RESERVED else f"{p['name']}_"
        fields.append(pa.field(name, arr.type, metadata=md or None))
        arrays.append(arr)
    meta = {b"hapi_dataset": str(fetched.meta.get("x_dataset", "")).encode()}
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields, metadata=meta))


def write_archive(table: pa.Table, archive: Path, url: str, dataset: str, start: str, stop: str) -> list[Path]:
    """One segment per UTC day under ``parquet/imported/<server>/<dataset>`` (atomic writes)."""
    base = Path(archive) / PARQUET_DIR / "imported" / server_name(url) / safe_name(dataset)
    segment = safe_name(f"hapi-{start}-{stop}")
    ns = table.column("time").cast(pa.int64()).to_numpy()
    days = ns // NS_PER_DAY
    written = []
    for day in np.unique(days):
        part = table.filter(pa.array(days == day))
        d = base / f"date={np.datetime64(int(day), 'D')}"
        d.mkdir(parents=True, exist_ok=True)
        target, tmp = d / f"{segment}.parquet", d / f".{segment}.parquet.tmp"
        pq.write_table(part, tmp)
        os.replace(tmp, target)
        written.append(target)
    return written


def write_file(table: pa.Table, path: Path) -> None:
    """CSV (header row, ISO times) or Parquet, chosen by the file's suffix."""
    suffix = Path(path).suffix.lower()
    if suffix == ".parquet":
        pq.write_table(table, path)
    elif suffix == ".csv":
        pacsv.write_csv(table, path)
    else:
        raise ValueError(f"output must end in .csv or .parquet, not {suffix or 'nothing'}")


def windows(start: str, stop: str, chunk_days: float = 1.0) -> list[tuple[str, str]]:
    """[start, stop) cut at UTC midnights every ``chunk_days``; the outer edges keep the caller's
    spelling. Raises ValueError for a malformed time, an empty range or a window under a minute."""
    lo, hi = parse_hapi_time(start), parse_hapi_time(stop)
    if lo >= hi:
        raise ValueError("start must be before stop")
    if not chunk_days * 1440 >= 1:  # also refuses NaN; a 1 ns step would never finish
        raise ValueError("chunk days must be at least one minute (0.000695)")
    step = int(chunk_days * NS_PER_DAY)
    edges: list[tuple[int, str]] = [(lo, start)]
    t = (lo // NS_PER_DAY) * NS_PER_DAY + step
    while t < hi:
        edges.append((t, format_day(t) if t % NS_PER_DAY == 0 else _iso(t)))
        t += step
    edges.append((hi, stop))
    return [(a[1], b[1]) for a, b in zip(edges, edges[1:])]


def _iso(ns: int) -> str:
    from ground.hapi.timefmt import format_iso
    return format_iso(ns)


@dataclass
class FileSink:
    """Appends window after window to one CSV or Parquet file (by suffix)."""

    path: Path
    _writer: object | None = field(default=None, init=False)
    _empty: pa.Table | None = field(default=None, init=False)
    _schema: pa.Schema | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.suffix = Path(self.path).suffix.lower()
        if self.suffix not in (".csv", ".parquet"):
            raise ValueError(f"output must end in .csv or .parquet, not {self.suffix or 'nothing'}")

    def __call__(self, table: pa.Table, start: str, stop: str) -> None:
        if table.num_rows == 0:
            self._empty = self._empty or table
            return
        if self._writer is None:
            self._schema = table.schema
            self._writer = (pq.ParquetWriter(self.path, table.schema) if self.suffix == ".parquet"
                            else pacsv.CSVWriter(self.path, table.schema))
        self._writer.write_table(table.cast(self._schema))  # type: ignore[attr-defined]

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()  # type: ignore[attr-defined]
        elif self._empty is not None:
            write_file(self._empty, Path(self.path))


def import_range(url: str, dataset: str, start: str, stop: str, sink: Callable[[pa.Table, str, str], None],
                 parameters: str = "", fmt: str = "binary", chunk_days: float = 1.0) -> int:
    """Fetch [start, stop) window by window into ``sink``; returns the number of records."""
    total = 0
    for a, b in windows(start, stop, chunk_days):
        table = to_table(fetch(url, dataset, a, b, parameters, fmt))
        sink(table, a, b)
        total += table.num_rows
    return total
