"""The archive's source of truth: an append-only log of every received packet, ASM-framed.

Packets are written exactly as a byte-stream link carries them (0x1ACFFC1D + packet), so the
log is replayed with the same linear-time native deframer as a live serial line. Offsets are
global across rotated files (``raw/<start offset>.raw``), which is what lets Parquet segments
be named by the raw-log range they were decoded from (idempotent re-decoding after a crash).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

from native import StreamScanner
from protocol.ccsds import SYNC_MARKER

RAW_SUFFIX = ".raw"


def _name(start: int) -> str:
    return f"{start:016d}{RAW_SUFFIX}"


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class RawLog:
    """Append-only, rotated, crash-tolerant: a torn last record is cut when the log is opened."""

    def __init__(self, directory: Path | str, rotate_bytes: int = 256 << 20):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.rotate_bytes = rotate_bytes
        self.torn_bytes_cut = 0
        starts = sorted(int(p.stem) for p in self.dir.glob(f"*{RAW_SUFFIX}"))
        self._files: list[int] = starts or [0]
        last = self.dir / _name(self._files[-1])
        if not last.exists():
            last.touch()
        self._cut_torn_tail(last)
        self._fh = open(last, "ab")
        self._end = self._files[-1] + self._fh.tell()

    def _cut_torn_tail(self, path: Path) -> None:
        size = path.stat().st_size
        if not size:
            return
        data = path.read_bytes()
        scanner = StreamScanner()
        good, pos = 0, 0
        view = memoryview(data)
        while True:
            used, offs, lens = scanner.scan(view[pos:], final=True)
            if len(offs):
                good = pos + int(offs[-1]) + int(lens[-1])
            pos += used
            if len(offs) < scanner.batch:
                break
        if good < size:
            self.torn_bytes_cut = size - good
            with open(path, "r+b") as fh:
                fh.truncate(good)
                fh.flush()
                os.fsync(fh.fileno())

    @property
    def end(self) -> int:
        """Global offset just past the last record written."""
        return self._end

    def append(self, packets: Iterable[bytes]) -> int:
        """Frame and write whole packets; returns the new end offset."""
        packets = list(packets)
        if not packets:
            return self._end
        return self.append_framed(SYNC_MARKER + SYNC_MARKER.join(packets))

    def append_framed(self, data: bytes | memoryview) -> int:
        """Write bytes that already are whole ASM-framed packets."""
        if self._end - self._files[-1] >= self.rotate_bytes:
            self._rotate()
        self._fh.write(data)
        self._end += len(data)
        return self._end

    def _rotate(self) -> None:
        self.sync()
        self._fh.close()
        self._files.append(self._end)
        self._fh = open(self.dir / _name(self._end), "ab")
        fsync_dir(self.dir)

    def sync(self) -> None:
        """Make every record written so far durable (the checkpoint's precondition)."""
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def flush(self) -> None:
        self._fh.flush()

    def read(self, start: int, end: int) -> bytes:
        """Bytes [start, end) of the log, across rotated files."""
        self._fh.flush()
        out = bytearray()
        for i, fstart in enumerate(self._files):
            fend = self._files[i + 1] if i + 1 < len(self._files) else self._end
            lo, hi = max(start, fstart), min(end, fend)
            if lo >= hi:
                continue
            with open(self.dir / _name(fstart), "rb") as fh:
                fh.seek(lo - fstart)
                out += fh.read(hi - lo)
        return bytes(out)

    def truncate(self, offset: int) -> None:
        """Drop everything after ``offset`` (a file ingest resuming from its checkpoint)."""
        if offset >= self._end:
            return
        self._fh.close()
        while len(self._files) > 1 and self._files[-1] > offset:
            (self.dir / _name(self._files.pop())).unlink()
        path = self.dir / _name(self._files[-1])
        with open(path, "r+b") as fh:
            fh.truncate(offset - self._files[-1])
            os.fsync(fh.fileno())
        self._fh = open(path, "ab")
        self._end = offset

    def close(self) -> None:
        if not self._fh.closed:
            self.sync()
            self._fh.close()
