"""Read one packet type of the archive over a time range, in time order, in bounded batches.

Every request lists the partition directories afresh (no cache), so a segment file that appears
while the server runs is served by the next request. Only the day partitions that can hold the
range are opened; within a day the time filter is pushed down to pyarrow's Parquet scan (row
groups whose statistics miss the range are never read). Row groups are merged in order of their
first timestamp; row groups whose time ranges overlap are read together and sorted, so memory is
bounded by one row group (or one cluster of overlapping ones), never by the request.

Writers must create segments atomically (write a temporary name, then rename): only names ending
in ``.parquet`` and not starting with ``.`` or ``_`` are read, and of the ingest's segments
(``seg-<start>-<end>.parquet``) only the live ones: a segment superseded by a compaction that
covers its range is skipped, so nothing is served twice. A file that cannot be read is skipped and counted, so one bad segment
never hides the good ones.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.fs as pafs

from ground.archive_layout import live_segments, packet_dir, segment_range
from ground.hapi.timefmt import NS_PER_DAY

log = logging.getLogger(__name__)
_FORMAT = ds.ParquetFileFormat()
_LOCAL = pafs.LocalFileSystem()
_TS = pa.timestamp("ns", tz="UTC")


@dataclass
class ScanCounters:
    """Counted, logged scan problems (served at ``/hapi/x_status``)."""

    unreadable_files: int = 0
    last_error: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, path: Path, exc: Exception) -> None:
        with self._lock:
            self.unreadable_files += 1
            self.last_error = f"{path.name}: {type(exc).__name__}"
        log.warning("skipping unreadable archive file %s: %s", path, exc)


@dataclass(frozen=True)
class DayPartition:
    day_ns: int  # UTC midnight of the partition, ns since epoch
    files: tuple[Path, ...]
    path: Path | None = None  # the partition directory (to list it again)


def _segment_files(day_dir: Path) -> tuple[Path, ...]:
    """The ingest's live segments (a segment superseded by a compacted one is skipped, per
    ``archive_layout.live_segments``) plus any other visible Parquet file (imports, tools)."""
    try:
        names = sorted(os.listdir(day_dir))
    except OSError:
        return ()
    others = [day_dir / n for n in names
              if n.endswith(".parquet") and not n.startswith((".", "_")) and segment_range(n) is None]
    return tuple(live_segments(day_dir)) + tuple(others)


def list_partitions(root: Path, packet: str) -> list[DayPartition]:
    """Every ``date=YYYY-MM-DD`` partition holding at least one segment, oldest first."""
    base = packet_dir(root, packet)
    try:
        entries = os.listdir(base)
    except FileNotFoundError:
        return []
    parts = []
    for name in entries:
        if not name.startswith("date="):
            continue
        try:
            day = dt.date.fromisoformat(name[5:])
        except ValueError:
            continue
        files = _segment_files(base / name)
        if files:
            parts.append(DayPartition((day - dt.date(1970, 1, 1)).days * NS_PER_DAY, files, base / name))
    parts.sort(key=lambda p: p.day_ns)
    return parts


def last_modified(parts: list[DayPartition]) -> float | None:
    """Newest mtime of the given partitions' files (for the HTTP Last-Modified header)."""
    newest = None
    for part in parts:
        for f in part.files:
            try:
                m = f.stat().st_mtime
            except OSError:
                continue
            newest = m if newest is None else max(newest, m)
    return newest


@dataclass
class _Piece:
    fragment: ds.Fragment
    lo: int | None
    hi: int | None


def _ns(value: object) -> int:
    return pa.scalar(value, type=_TS).value


def _pieces(path: Path, schema: pa.Schema, flt: ds.Expression) -> list[_Piece]:
    fragment = _FORMAT.make_fragment(str(path), filesystem=_LOCAL)
    pieces = []
    for rg in fragment.split_by_row_group(flt, schema=schema):
        stats = rg.row_groups[0].statistics.get("time") if rg.row_groups else None
        if stats and stats.get("min") is not None:
            pieces.append(_Piece(rg, _ns(stats["min"]), _ns(stats["max"])))
        else:
            pieces.append(_Piece(rg, None, None))
    return pieces


def _clusters(pieces: list[_Piece]) -> Iterator[list[_Piece]]:
    """Row groups in time order; row groups whose ranges overlap (or lack statistics) together."""
    if any(p.lo is None for p in pieces):
        if pieces:
            yield pieces
        return
    pieces = sorted(pieces, key=lambda p: (p.lo, p.hi))
    group: list[_Piece] = []
    group_hi = None
    for p in pieces:
        if group and p.lo > group_hi:
            yield group
            group, group_hi = [], None
        group.append(p)
        group_hi = p.hi if group_hi is None else max(group_hi, p.hi)
    if group:
        yield group


class _Vanished(Exception):
    """A listed segment disappeared (a compaction replaced it): the day must be listed again."""


def _check_vanished(path: Path, exc: Exception, counters: ScanCounters) -> None:
    if not path.exists():
        raise _Vanished(str(path)) from exc
    counters.record(path, exc)


def _time_filter(lo: int, hi: int) -> ds.Expression:
    return (ds.field("time") >= pa.scalar(lo, type=_TS)) & (ds.field("time") < pa.scalar(hi, type=_TS))


def _day_batches(files: tuple[Path, ...], schema: pa.Schema, cols: list[str], lo: int, hi: int,
                 counters: ScanCounters, batch_rows: int) -> Iterator[pa.RecordBatch]:
    flt = _time_filter(lo, hi)
    pieces: list[_Piece] = []
    for path in files:
        try:
            pieces.extend(_pieces(path, schema, flt))
        except (pa.ArrowException, OSError, ValueError) as exc:
            _check_vanished(path, exc, counters)
    for cluster in _clusters(pieces):
        yield from _read_cluster(cluster, schema, cols, flt, counters, batch_rows)


def scan(root: Path, packet: str, schema: pa.Schema, start_ns: int, stop_ns: int, columns: list[str],
         counters: ScanCounters, batch_rows: int = 65_536,
         partitions: list[DayPartition] | None = None) -> Iterator[pa.RecordBatch]:
    """Record batches of ``columns`` (``time`` always included) with start <= time < stop,
    in time order. If a listed segment vanishes (compaction), the day is listed again and the
    scan resumes after the last record already yielded, so nothing is lost or repeated."""
    cols = list(dict.fromkeys(["time", *columns]))
    first_day = start_ns - start_ns % NS_PER_DAY
    parts = partitions if partitions is not None else list_partitions(root, packet)
    for part in parts:
        if part.day_ns < first_day or part.day_ns >= stop_ns:
            continue
        lo, files = start_ns, part.files
        for _ in range(3):
            try:
                for batch in _day_batches(files, schema, cols, lo, stop_ns, counters, batch_rows):
                    if batch.num_rows:
                        yield batch
                        lo = batch.column("time")[batch.num_rows - 1].value + 1
                break
            except _Vanished:
                files = _segment_files(part.path) if part.path is not None else ()
        else:
            counters.record(part.path or Path(str(part.day_ns)), RuntimeError("segments kept vanishing"))


def _is_sorted(times: pa.ChunkedArray | pa.Array) -> bool:
    t = times.cast(pa.int64()).to_numpy()
    return len(t) < 2 or bool(np.all(t[1:] >= t[:-1]))


def _read_cluster(cluster: list[_Piece], schema: pa.Schema, cols: list[str], flt: ds.Expression,
                  counters: ScanCounters, batch_rows: int) -> Iterator[pa.RecordBatch]:
    """A lone row group already in time order (the normal case) streams in batches; anything
    else (overlapping or unsorted row groups) is read together and sorted."""
    try:
        if len(cluster) == 1:
            frag = cluster[0].fragment
            if _is_sorted(frag.to_table(schema=schema, columns=["time"], filter=flt, use_threads=False).column("time")):
                yield from frag.to_batches(schema=schema, columns=cols, filter=flt, batch_size=batch_rows,
                                            batch_readahead=1, fragment_readahead=0, use_threads=False)
                return
        tables = [p.fragment.to_table(schema=schema, columns=cols, filter=flt) for p in cluster]
    except (pa.ArrowException, OSError, ValueError) as exc:
        for piece in cluster:
            if not Path(piece.fragment.path).exists():
                raise _Vanished(piece.fragment.path) from exc
        counters.record(Path(cluster[0].fragment.path), exc)
        return
    tables = [t for t in tables if t.num_rows]
    if not tables:
        return
    table = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
    if not _is_sorted(table.column("time")):
        table = table.take(pc.sort_indices(table.column("time")))
    yield from table.combine_chunks().to_batches(max_chunksize=batch_rows)
