"""The embedded telemetry archive: raw log first, then Parquet segments, crash-safe by design.

Write path: ``append`` puts received packets in the raw log (the source of truth); ``flush``
fsyncs it, decodes the raw range [decoded, end) and writes one Parquet segment per packet and
UTC day named by that range (``archive_layout.segment_name``), then records ``decoded = end`` in
an atomically replaced checkpoint. After a crash, ``open`` cuts a torn raw record, deletes
segments at or past the checkpoint (they may be partial) and decodes again: same range, same
names, so no packet is lost or duplicated. ``compact`` merges small live segments later.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from ground import archive_layout as layout
from ground.batch_tables import BatchTables
from ground.raw_log import RawLog, fsync_dir
from native import StreamScanner
from protocol.codec import Codec
from protocol.registry import Dictionary
from protocol.time_codes import tai_to_unix

CHECKPOINT = "checkpoint.json"


def _utc_day_of_ns(ns: np.ndarray) -> np.ndarray:
    return (ns // 86_400_000_000_000).astype(np.int64)


def _iso_day(day_index: int) -> str:
    return str(np.datetime64(int(day_index), "D"))


def write_json_atomic(path: Path, obj: dict) -> None:
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(obj, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


@dataclass
class FlushResult:
    start: int
    end: int
    rows: dict[str, int]
    records: dict[int, np.ndarray]     # fixed-length packets decoded, by APID (for limits)
    tables: dict[str, pa.Table]


class Archive:
    def __init__(self, root: Path | str, dictionary: Dictionary, rotate_bytes: int = 256 << 20,
                 durable: bool = True):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.dictionary = dictionary
        self.codec = Codec(dictionary)
        self.durable = durable
        self.raw = RawLog(self.root / layout.RAW_DIR, rotate_bytes=rotate_bytes)
        self.tables = BatchTables(dictionary, self.codec)
        self._ckpt_path = self.root / CHECKPOINT
        state = json.loads(self._ckpt_path.read_text()) if self._ckpt_path.exists() else {}
        self.decoded = int(state.get("decoded", 0))
        self.extra: dict = dict(state.get("extra", {}))
        self.segments_written = 0
        self._recover()

    # ------------------------------------------------------------------ recovery
    def _recover(self) -> None:
        if self.decoded > self.raw.end:  # the raw tail was cut below the checkpoint: re-decode it
            self.decoded = self.raw.end
        base = self.root / layout.PARQUET_DIR
        if not base.exists():
            return
        for p in base.rglob("*"):
            if p.is_file() and p.name.endswith(".tmp"):
                p.unlink()
                continue
            r = layout.segment_range(p)
            if r is None:
                continue
            if r[1] > self.decoded:
                p.unlink()  # written after the last checkpoint: decoded again below
        for pname in self.dictionary.telemetry:
            for _, d in layout.day_dirs(self.root, pname):
                live = set(layout.live_segments(d))
                for p in d.glob(f"{layout.SEGMENT_PREFIX}*"):
                    if p not in live:
                        p.unlink()  # superseded by a compacted segment

    # ------------------------------------------------------------------ write path
    def append(self, packets: Sequence[bytes]) -> int:
        """Record received packets in the raw log; they become queryable at the next flush."""
        return self.raw.append(packets)

    def append_framed(self, data: bytes) -> int:
        return self.raw.append_framed(data)

    def set_extra(self, **values) -> None:
        """State committed with the next checkpoint (e.g. a file ingest's input offset)."""
        self.extra.update(values)

    def flush(self) -> FlushResult:
        """Make everything appended durable and queryable."""
        start, end = self.decoded, self.raw.end
        if self.durable:
            self.raw.sync()
        else:
            self.raw.flush()
        result = FlushResult(start, end, {}, {}, {})
        if end > start:
            buf = self.raw.read(start, end)
            offsets, lengths = _locate(buf)
            tables, records = self.tables.decode(buf, offsets, lengths)
            for name, table in tables.items():
                self._write_segments(name, table, start, end)
                result.rows[name] = table.num_rows
            result.records, result.tables = records, tables
        self.decoded = end
        write_json_atomic(self._ckpt_path, {"decoded": end, "extra": self.extra})
        return result

    def _write_segments(self, name: str, table: pa.Table, start: int, end: int) -> None:
        ns = table.column("time").cast(pa.int64()).to_numpy()
        days = _utc_day_of_ns(ns)
        for day in np.unique(days):
            part = table if len(np.unique(days)) == 1 else table.filter(pa.array(days == day))
            d = layout.day_dir(self.root, name, _iso_day(day))
            d.mkdir(parents=True, exist_ok=True)
            self._write_file(d / layout.segment_name(start, end), part)

    def _write_file(self, path: Path, table: pa.Table, compression: str = "snappy") -> None:
        """Atomic: readers see the whole file or none. Live segments favour speed (snappy);
        compacted ones, which stay for years, favour size (zstd)."""
        # Hidden while being written: pyarrow.dataset readers skip names starting with ".".
        tmp = path.with_name("." + path.name + ".tmp")
        pq.write_table(table, tmp, compression=compression)
        if self.durable:
            fd = os.open(tmp, os.O_RDONLY)
            os.fsync(fd)
            os.close(fd)
        os.replace(tmp, path)
        self.segments_written += 1

    def compact(self, min_segments: int = 8, small_bytes: int = 8 << 20) -> int:
        """Merge the committed small segments of every day partition; returns files merged.

        Size-tiered: only segments under ``small_bytes`` are merged, so a compaction never reads
        more than about ``min_segments`` small files, whatever the day already holds (the RSS
        of a day-long ingest stays flat). Merged files use lz4: fast to read for queries.
        """
        merged = 0
        for pname in self.dictionary.telemetry:
            for _, d in layout.day_dirs(self.root, pname):
                segs = [p for p in layout.live_segments(d)
                        if layout.segment_range(p)[1] <= self.decoded and p.stat().st_size < small_bytes]
                if len(segs) < min_segments:
                    continue
                ranges = [layout.segment_range(p) for p in segs]
                table = pa.concat_tables([pq.read_table(p) for p in segs])
                self._write_file(d / layout.segment_name(ranges[0][0], max(r[1] for r in ranges)), table, "lz4")
                for p in segs:
                    p.unlink()
                merged += len(segs)
                del table
        if merged:
            pa.default_memory_pool().release_unused()
        return merged

    def close(self) -> None:
        self.flush()
        self.raw.close()

    # ------------------------------------------------------------------ read path
    def query(self, packet: str, start_tai: float | None = None, end_tai: float | None = None,
              columns: Sequence[str] | None = None) -> pa.Table:
        """Rows of one packet with start <= tai < end, time-ordered; columns default to all."""
        p = self.dictionary.telemetry[packet]
        schema = layout.arrow_schema(p)
        cols = None if columns is None else list(dict.fromkeys(["time", "tai", "seq", *columns]))
        lo_day = _iso_day(int(tai_to_unix(start_tai) // 86400)) if start_tai is not None else None
        hi_day = _iso_day(int(tai_to_unix(end_tai) // 86400)) if end_tai is not None else None
        files = []
        for day, d in layout.day_dirs(self.root, packet):
            if (lo_day and day < lo_day) or (hi_day and day > hi_day):
                continue
            files += [str(f) for f in layout.live_segments(d)]
        if not files:
            return schema.empty_table() if cols is None else pa.schema([schema.field(c) for c in cols]).empty_table()
        # One dataset over the segment files: they are read in parallel, columns pruned.
        t = ds.dataset(files, schema=schema, format="parquet").to_table(columns=cols)
        if t.num_rows and (start_tai is not None or end_tai is not None):
            tai = t.column("tai")
            lo_hi = pc.min_max(tai).as_py()
            inside = ((start_tai is None or lo_hi["min"] >= start_tai)
                      and (end_tai is None or lo_hi["max"] < end_tai))
        else:
            inside = True
        if not inside:
            mask = None
            if start_tai is not None:
                mask = pc.greater_equal(tai, start_tai)
            if end_tai is not None:
                m2 = pc.less(tai, end_tai)
                mask = m2 if mask is None else pc.and_(mask, m2)
            t = t.filter(mask)
        tai_np = t.column("tai").to_numpy()
        if len(tai_np) > 1 and np.any(np.diff(tai_np) < 0):
            t = t.take(pa.array(np.argsort(tai_np, kind="stable")))
        return t

    def query_numpy(self, packet: str, start_tai: float | None = None, end_tai: float | None = None,
                    columns: Sequence[str] | None = None) -> dict[str, np.ndarray]:
        t = self.query(packet, start_tai, end_tai, columns)
        return {n: t.column(n).to_numpy() for n in t.column_names}

    def raw_packets(self, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Every packet of the raw log in arrival order (replay, audits)."""
        end = self.raw.end if end is None else end
        step = 8 << 20
        pos = start
        while pos < end:
            hi = min(end, pos + step)
            buf = self.raw.read(pos, hi)
            offsets, lengths = _locate(buf, final=hi == end)
            if not len(offsets):
                if hi == end:
                    return
                step *= 2  # a packet longer than the window: widen it
                continue
            for o, n in zip(offsets.tolist(), lengths.tolist()):
                yield buf[o:o + n]
            pos += int(offsets[-1] + lengths[-1])

    def replay(self, start_tai: float, end_tai: float, packets: Sequence[str] | None = None) -> Iterator[bytes]:
        """Raw telemetry packets whose time code lies in [start, end), in arrival order."""
        want = None if packets is None else {self.dictionary.telemetry[n].apid for n in packets}
        for pkt in self.raw_packets():
            if pkt[0] & 0x10 or len(pkt) < 12:
                continue
            apid = ((pkt[0] & 7) << 8) | pkt[1]
            if want is not None and apid not in want:
                continue
            tai = int.from_bytes(pkt[6:10], "big") + int.from_bytes(pkt[10:12], "big") / 65536.0
            if start_tai <= tai < end_tai:
                yield pkt


def _locate(buf: bytes, final: bool = True) -> tuple[np.ndarray, np.ndarray]:
    scanner = StreamScanner()
    view = memoryview(buf)
    offs, lens, pos = [], [], 0
    while True:
        used, o, n = scanner.scan(view[pos:], final)
        offs.append(o.astype(np.int64) + pos)
        lens.append(n.astype(np.int64))
        pos += used
        if len(o) < scanner.batch:
            break
    return np.concatenate(offs), np.concatenate(lens)
