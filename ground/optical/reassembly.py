"""Reassembles the looped downlink file from OPTICAL_SEGMENT packets, in any order, duplicates ok."""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field

MAX_FILE_BYTES = 1 << 30  # refuse absurd sizes from a (CRC-passing) corrupted header


@dataclass
class FileReassembler:
    file_size: int | None = None
    segments: int = 0
    duplicates: int = 0
    rejected: int = 0              # segments inconsistent with the file (size change, out of range)
    bytes_covered: int = 0
    _data: bytearray = field(default_factory=bytearray, repr=False)
    _have: dict[int, int] = field(default_factory=dict, repr=False)   # offset -> length
    _offsets: list[int] = field(default_factory=list, repr=False)     # sorted keys of _have

    def add(self, file_size: int, offset: int, data: bytes) -> bool:
        """Store one segment; False (and counted) if it does not fit the file seen so far."""
        if self.file_size is None:
            if not 0 < file_size <= MAX_FILE_BYTES:
                self.rejected += 1
                return False
            self.file_size = file_size
            self._data = bytearray(file_size)
        if file_size != self.file_size or offset >= self.file_size:
            self.rejected += 1
            return False
        n = min(len(data), self.file_size - offset)
        self.segments += 1
        if offset in self._have:
            self.duplicates += 1
            return True
        # A segment overlapping a stored one at another offset cannot come from the same file
        # layout (a header corrupted past both CRCs): counting it would report holes as covered.
        i = bisect.bisect_left(self._offsets, offset)
        if (i > 0 and self._offsets[i - 1] + self._have[self._offsets[i - 1]] > offset) or \
                (i < len(self._offsets) and offset + n > self._offsets[i]):
            self.segments -= 1
            self.rejected += 1
            return False
        self._data[offset:offset + n] = data[:n]
        self._have[offset] = n
        self._offsets.insert(i, offset)
        self.bytes_covered += n
        return True

    @property
    def complete(self) -> bool:
        return self.file_size is not None and self.bytes_covered >= self.file_size

    def stored(self) -> list[tuple[int, int]]:
        """(offset, length) of every distinct segment stored, in offset order."""
        return sorted(self._have.items())

    def content(self) -> bytes:
        """The file as far as recovered (holes are zero bytes)."""
        return bytes(self._data)
