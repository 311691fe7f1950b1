"""Sync-marker framing for byte streams (serial, TCP, files): ASM 0x1ACFFC1D before each packet.

The deframer is linear-time: the C scanner walks the buffer once, and the buffer is compacted
once per ``feed`` (what stays is less than one packet). It resynchronises after garbage and
counts bytes discarded, CRC failures and sequence gaps per APID.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from native import DeframeStats, StreamScanner
from protocol.ccsds import MAX_PACKET_LEN, SYNC_MARKER


def frame(packet: bytes) -> bytes:
    return SYNC_MARKER + packet


def frame_all(packets) -> bytes:
    return b"".join(SYNC_MARKER + p for p in packets)


@dataclass
class PacketBatch:
    """Packets found by one ``feed_batch``: views into ``buffer`` at ``offsets``/``lengths``."""

    buffer: bytes
    offsets: np.ndarray
    lengths: np.ndarray

    def __len__(self) -> int:
        return len(self.offsets)

    def packets(self) -> list[bytes]:
        b = self.buffer
        return [b[o:o + n] for o, n in zip(self.offsets.tolist(), self.lengths.tolist())]


class Deframer:
    def __init__(self, max_packet_len: int = MAX_PACKET_LEN, apids: set[int] | None = None):
        self._scanner = StreamScanner(max_packet_len=max_packet_len, apids=apids)
        self._buf = bytearray()

    def feed(self, data: bytes | bytearray | memoryview) -> list[bytes]:
        """Every complete valid packet now available, in stream order."""
        out: list[bytes] = []
        for batch in self._scan(data, final=False):
            out.extend(batch.packets())
        return out

    def feed_batch(self, data: bytes | bytearray | memoryview, final: bool = False) -> list[PacketBatch]:
        """Like ``feed`` but returns offsets into buffers, for the batch decoder's hot path."""
        return list(self._scan(data, final))

    def flush(self) -> list[bytes]:
        """End of stream: a trailing partial frame is discarded (and counted), never waited for."""
        out: list[bytes] = []
        for batch in self._scan(b"", final=True):
            out.extend(batch.packets())
        return out

    def _scan(self, data, final: bool):
        self._scanner.count_in(len(data))
        if self._buf:
            self._buf += data
            buf = bytes(self._buf)
        else:
            buf = bytes(data)
        pos = 0
        while True:
            view = memoryview(buf)[pos:]
            used, offsets, lengths = self._scanner.scan(view, final)
            if len(offsets):
                yield PacketBatch(buf, offsets + pos, lengths.copy())
            pos += used
            if len(offsets) < self._scanner.batch:
                break
        self._buf = bytearray(buf[pos:])

    @property
    def pending(self) -> int:
        """Bytes held waiting for the rest of a frame."""
        return len(self._buf)

    def stats(self) -> DeframeStats:
        return self._scanner.stats()
