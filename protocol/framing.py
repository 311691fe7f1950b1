"""Sync-marker framing for byte streams (serial, TCP, files): ASM 0x1ACFFC1D before each packet.

The deframer is linear-time: the C scanner walks the buffer once, and the buffer is compacted
once per ``feed`` (what stays is less than one packet). It resynchronises after garbage and
counts bytes discarded, CRC failures and sequence gaps per APID.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from native import DeframeStats, StreamScanner
from protocol.ccsds import CRC_LEN, MAX_PACKET_LEN, PRIMARY_HEADER_LEN, SYNC_MARKER
from protocol.construct_defs import command_length, telemetry_length
from protocol.registry import Dictionary


def packet_lengths(d: Dictionary, max_packet_len: int = MAX_PACKET_LEN) -> dict[int, tuple[int, int]]:
    """APID -> (min, max) total packet length, from the dictionary: a fixed telemetry packet has
    exactly its length; commands share their APID; file PDUs and variable packets range."""
    out: dict[int, tuple[int, int]] = {}
    for p in d.telemetry.values():
        n = telemetry_length(p)
        out[p.apid] = (n, max_packet_len) if p.is_variable else (n, n)
    if d.commands:
        sizes = [command_length(c) for c in d.commands.values()]
        out[d.command_apid] = (min(sizes), max(sizes))
    out[d.file_pdu_uplink_apid] = (PRIMARY_HEADER_LEN + 1 + CRC_LEN, max_packet_len)
    return out


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
    """Linear-time ASM deframer: every input byte is copied a bounded number of times.

    What is held between calls is at most one frame (marker + ``max_packet_len``): the start of a
    frame whose end has not arrived, or up to three bytes that may begin a marker. Small feeds
    only append to that buffer until the frame can be complete (``_need``), so feeding a stream
    one byte at a time costs the same as feeding it whole. Big feeds are scanned in place.
    """

    def __init__(self, max_packet_len: int = MAX_PACKET_LEN, apids: set[int] | None = None,
                 lengths: dict[int, tuple[int, int]] | None = None):
        """``lengths`` (e.g. ``packet_lengths(DICTIONARY)``): the APIDs a stream may carry, each
        with its (min, max) total length, so a false marker is refused at its header rather than
        holding back the stream until the length it claims has arrived."""
        self._scanner = StreamScanner(max_packet_len=max_packet_len, apids=apids, lengths=lengths)
        self._max_frame = len(SYNC_MARKER) + max_packet_len
        self._buf = bytearray()
        self._need = 0  # bytes the held buffer must reach before a scan can decide anything
        self.bytes_copied = 0  # bytes moved between buffers (the linear-time test reads it)

    def feed(self, data: bytes | bytearray | memoryview) -> list[bytes]:
        """Every complete valid packet now available, in stream order."""
        out: list[bytes] = []
        for batch in self._scan(data, final=False):
            out.extend(batch.packets())
        return out

    def feed_batch(self, data: bytes | bytearray | memoryview, final: bool = False) -> list[PacketBatch]:
        """Like ``feed`` but returns offsets into buffers, for the batch decoder's hot path.

        ``bytes`` input is scanned without a copy (the batches refer to it)."""
        return list(self._scan(data, final))

    def flush(self) -> list[bytes]:
        """End of stream: a trailing partial frame is discarded (and counted), never waited for."""
        out: list[bytes] = []
        for batch in self._scan(b"", final=True):
            out.extend(batch.packets())
        return out

    def _scan(self, data, final: bool):
        if len(data) > _MAX_SCAN:  # the C kernel reports offsets as uint32
            view = memoryview(data)
            for at in range(0, len(view), _MAX_SCAN):
                piece = view[at:at + _MAX_SCAN]
                yield from self._scan(piece, final and at + _MAX_SCAN >= len(view))
            return
        n = len(data)
        self._scanner.count_in(n)
        if self._buf and not final and len(self._buf) + n < self._need:
            self._buf += data
            self.bytes_copied += n
            return
        start = 0  # first byte of ``data`` not yet merged into the held bytes
        while self._buf:
            # Join the held bytes with just enough new data to decide the frame they start; the
            # rest of ``data`` is then scanned in place.
            held = len(self._buf)
            take = min(n - start, max(self._need - held, 0) + _LOOKAHEAD)
            joint = bytes(self._buf) + bytes(data[start:start + take])
            self.bytes_copied += held + take
            at_end = start + take == n
            pos = yield from self._scan_buffer(joint, 0, final and at_end)
            if pos >= held:
                start += pos - held
                self._buf = bytearray()
                break
            if at_end:
                self._keep(joint, pos)
                return
            self._keep(joint, pos)  # a later candidate inside the held bytes needs more data
            start += take
        if not isinstance(data, bytes):
            data = bytes(memoryview(data)[start:])  # the caller may reuse its buffer; batches must not change
            self.bytes_copied += len(data)
            start = 0
        pos = yield from self._scan_buffer(data, start, final)
        self._keep(data, pos)

    def _scan_buffer(self, buf: bytes, pos: int, final: bool):
        scanner = self._scanner
        while True:
            used, offsets, lengths = scanner.scan(memoryview(buf)[pos:], final)
            if len(offsets):
                yield PacketBatch(buf, offsets + pos, lengths.copy())
            pos += used
            if len(offsets) < scanner.batch:
                return pos

    def _keep(self, buf: bytes, pos: int) -> None:
        rest = buf[pos:]
        self.bytes_copied += len(rest)
        self._buf = bytearray(rest)
        self._need = _frame_need(rest)

    @property
    def pending(self) -> int:
        """Bytes held waiting for the rest of a frame."""
        return len(self._buf)

    def stats(self) -> DeframeStats:
        return self._scanner.stats()


_MAX_SCAN = 1 << 30  # bytes scanned per kernel call
_LOOKAHEAD = 16  # new bytes joined beyond a held frame's end: the next frame's marker and header


def _frame_need(held: bytes) -> int:
    """Bytes a held frame start must reach before its fate can be decided."""
    if len(held) < 10 or not held.startswith(SYNC_MARKER):
        return 10  # marker + primary header
    return len(SYNC_MARKER) + 7 + ((held[8] << 8) | held[9])
