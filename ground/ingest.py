"""The batch ingest pipeline: byte stream -> deframe -> raw log -> decode -> limits -> Parquet.

Used by ``opals-ground ingest FILE`` (recorded streams, resumable after kill -9) and measured
by benchmarks/bench_ground.py. Decoding happens once, from the raw log, in ``Archive.flush``
(native batch decoder); limits run vectorised on the decoded records.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ground.archive import Archive
from ground.limits import LimitChecker, LimitTransition
from protocol.framing import Deframer


@dataclass
class IngestStats:
    packets: int = 0
    flushes: int = 0
    bytes_discarded: int = 0   # input bytes that were not part of a valid frame (garbage, torn frames)
    crc_failures: int = 0
    alarms: list[LimitTransition] = field(default_factory=list)


class IngestPipeline:
    def __init__(self, archive: Archive, limits: LimitChecker | None = None, flush_bytes: int = 4 << 20):
        self.archive = archive
        self.limits = limits
        self.deframer = Deframer()
        self.flush_bytes = flush_bytes
        self.stats = IngestStats()
        self._since_flush = 0

    def feed(self, data: bytes | memoryview) -> int:
        """Deframe ``data`` and record every valid packet in the raw log; returns packets found."""
        n = 0
        for batch in self.deframer.feed_batch(data):
            self.archive.append(batch.packets())
            n += len(batch)
        self.stats.packets += n
        self._since_flush += len(data)
        if self._since_flush >= self.flush_bytes:
            self.flush()
        return n

    def flush(self) -> None:
        result = self.archive.flush()
        self._since_flush = 0
        self.stats.flushes += 1
        if self.limits is not None:
            d = self.archive.dictionary
            for apid, rec in result.records.items():
                tai = rec["coarse"] + rec["fine"] / 65536.0
                self.stats.alarms.extend(self.limits.check_batch(d.packet_by_apid(apid).name, rec, tai))


def ingest_file(path: Path | str, archive: Archive, limits: LimitChecker | None = None,
                chunk: int = 1 << 16, flush_bytes: int = 1 << 20, compact_every: int = 0,
                on_chunk: Callable[[int], None] | None = None) -> IngestStats:
    """Ingest a recorded ASM-framed stream; resumes where the last checkpoint left off.

    The checkpoint holds the input offset of the first byte not yet in the raw log, so a
    process killed at any point and restarted neither loses nor duplicates a packet.
    """
    archive.raw.truncate(archive.decoded)      # raw beyond the checkpoint is read again below
    resume = int(archive.extra.get("input_offset", 0)) if archive.extra.get("input") == str(path) else 0
    pipe = IngestPipeline(archive, limits, flush_bytes=1 << 62)
    read = resume
    since = 0
    with open(path, "rb") as fh:
        fh.seek(resume)
        while True:
            data = fh.read(chunk)
            if not data:
                break
            read += len(data)
            pipe.feed(data)
            since += len(data)
            if since >= flush_bytes:
                _commit(archive, pipe, path, read)
                since = 0
                if compact_every and pipe.stats.flushes % compact_every == 0:
                    archive.compact(min_segments=2)
            if on_chunk:
                on_chunk(read)
        for pk in pipe.deframer.flush():
            archive.append([pk])
        _commit(archive, pipe, path, read)
    ds = pipe.deframer.stats()
    pipe.stats.bytes_discarded, pipe.stats.crc_failures = ds.bytes_discarded, ds.crc_failures
    return pipe.stats


def _commit(archive: Archive, pipe: IngestPipeline, path: Path | str, read: int) -> None:
    archive.set_extra(input=str(path), input_offset=read - pipe.deframer.pending)
    pipe.flush()
