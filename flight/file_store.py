"""Onboard file store: engineering logs and camera frames kept for downlink after the pass.

Files are written to a directory handed in (a temp dir in simulation); each closed file has an
id, a kind (FILE_KINDS), size, CRC-32 and creation time, which FILE_LIST reports to ground."""
from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from protocol.opals import FILE_KINDS

KIND_IDS = {v: k for k, v in FILE_KINDS.items()}

# The 100 Hz tracking log, one record per control cycle (little-endian numpy records).
TRACKING_LOG_DTYPE = np.dtype([
    ("tai", "<f8"), ("mode", "u1"), ("track_state", "u1"), ("laser", "u1"), ("found", "u1"),
    ("az_cmd", "<f4"), ("el_cmd", "<f4"), ("az", "<f4"), ("el", "<f4"),
    ("err_x", "<f4"), ("err_y", "<f4"), ("signal", "<f4"),
])
EVENT_LOG_DTYPE = np.dtype([("tai", "<f8"), ("event_id", "<u2"), ("args", "<i4", (4,))])


@dataclass
class FileEntry:
    file_id: int
    kind: str
    path: Path
    size: int
    crc32: int
    created: float
    downlinked: bool = False


@dataclass
class RecordLog:
    """An open log of fixed-size records, buffered in memory and written when closed."""

    dtype: np.dtype
    chunk: int = 4096
    _chunks: list[np.ndarray] = field(default_factory=list)
    _cur: np.ndarray | None = None
    _n: int = 0

    def append(self, *values) -> None:
        if self._cur is None or self._n == len(self._cur):
            self._cur = np.zeros(self.chunk, self.dtype)
            self._chunks.append(self._cur)
            self._n = 0
        self._cur[self._n] = values
        self._n += 1

    def __len__(self) -> int:
        return 0 if not self._chunks else (len(self._chunks) - 1) * self.chunk + self._n

    def to_array(self) -> np.ndarray:
        if not self._chunks:
            return np.zeros(0, self.dtype)
        parts = self._chunks[:-1] + [self._chunks[-1][:self._n]]
        return np.concatenate(parts)


@dataclass
class FileStore:
    root: Path
    clock: Callable[[], float]
    on_closed: Callable[[FileEntry], None] = lambda e: None
    max_files: int = 1000
    files: dict[int, FileEntry] = field(default_factory=dict)
    _next_id: int = 1

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        self.root.mkdir(parents=True, exist_ok=True)

    def add_bytes(self, kind: str, name: str, data: bytes) -> FileEntry:
        """Write a finished file and register it (closing it for downlink)."""
        if len(self.files) >= self.max_files:
            oldest = min((e for e in self.files.values() if e.downlinked), key=lambda e: e.file_id, default=None)
            if oldest is None:
                raise OSError("file store full")
            self.delete(oldest.file_id)
        fid = self._next_id
        self._next_id = (self._next_id % 0xFFFF) + 1
        path = self.root / f"{fid:05d}_{name}"
        path.write_bytes(data)
        entry = FileEntry(fid, kind, path, len(data), zlib.crc32(data) & 0xFFFFFFFF, self.clock())
        self.files[fid] = entry
        self.on_closed(entry)
        return entry

    def add_records(self, kind: str, name: str, log: RecordLog) -> FileEntry:
        return self.add_bytes(kind, name, log.to_array().tobytes())

    def add_frame(self, name: str, pixels: np.ndarray) -> FileEntry:
        """A camera frame as a .npy file (shape and dtype travel with it)."""
        import io
        buf = io.BytesIO()
        np.save(buf, pixels, allow_pickle=False)
        return self.add_bytes("CAMERA_FRAME", name if name.endswith(".npy") else name + ".npy", buf.getvalue())

    def delete(self, file_id: int) -> bool:
        e = self.files.pop(file_id, None)
        if e is None:
            return False
        e.path.unlink(missing_ok=True)
        return True

    def pending(self) -> list[FileEntry]:
        return [e for e in sorted(self.files.values(), key=lambda e: e.file_id) if not e.downlinked]
