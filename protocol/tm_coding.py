"""CCSDS 131.0-B TM synchronization and channel coding, shared by the flight encoder and the
ground decoder: RS(255,223) E=16 with interleaving depth I and virtual fill, dual-basis symbols,
the pseudo-randomizer and the attached sync marker. The arithmetic is in native/rs.c.

A CADU on the wire is ASM (4 octets, not randomized) + randomized codeblock of (255-Q)*I octets
whose first (223-Q)*I octets are the transfer frame.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from native.coding_kernels import (ASM, RS_K, RS_N, FrameSynchronizer, SyncStats, cadu_decode, pn_sequence,
                                   rs_encode_blocks)

DEPTHS = (1, 2, 3, 4, 5, 8)
DEFAULT_DEPTH = 5  # REFERENCE.md: assumed I = 5


@dataclass(frozen=True)
class ChannelCoding:
    """Coding parameters; both ends must agree on them (they are not on the wire)."""

    depth: int = DEFAULT_DEPTH
    virtual_fill: int = 0       # Q symbols per codeword, not transmitted
    randomize: bool = True
    dual_basis: bool = True

    def __post_init__(self) -> None:
        if self.depth not in DEPTHS:
            raise ValueError(f"interleaving depth must be one of {DEPTHS}")
        if not 0 <= self.virtual_fill < RS_K - 8:
            raise ValueError("virtual fill out of range")

    @property
    def frame_len(self) -> int:
        return (RS_K - self.virtual_fill) * self.depth

    @property
    def codeblock_len(self) -> int:
        return (RS_N - self.virtual_fill) * self.depth

    @property
    def cadu_len(self) -> int:
        return len(ASM) + self.codeblock_len

    @property
    def cadu_bits(self) -> int:
        return 8 * self.cadu_len


def encode_cadus(coding: ChannelCoding, frames: bytes | np.ndarray) -> np.ndarray:
    """CADUs (n, cadu_len) for n transfer frames given back to back."""
    blocks = rs_encode_blocks(frames, coding.depth, coding.virtual_fill, coding.dual_basis)
    out = np.empty((blocks.shape[0], coding.cadu_len), dtype=np.uint8)
    out[:, :4] = np.frombuffer(ASM, dtype=np.uint8)
    if coding.randomize:
        np.bitwise_xor(blocks, np.frombuffer(pn_sequence(coding.codeblock_len), dtype=np.uint8), out=out[:, 4:])
    else:
        out[:, 4:] = blocks
    return out


@dataclass
class DecodedBatch:
    """Frames recovered from one slice of the bit stream."""

    frames: np.ndarray       # (n, frame_len) uint8, RS-corrected where possible
    corrected: np.ndarray    # (n, depth) int32 symbols corrected per codeword, -1 = failed
    crc_ok: np.ndarray       # (n,) bool frame error control passed
    flags: np.ndarray        # (n,) uint8 0 marker, 1 slip re-alignment, 2 flywheel
    bit_offsets: np.ndarray  # (n,) uint64 stream bit offset of each marker


@dataclass
class StreamDecoder:
    """Streaming decoder: bytes of the received bit stream in, decoded frame batches out.

    Memory is bounded: it keeps at most one chunk plus one CADU of input.
    """

    coding: ChannelCoding = field(default_factory=ChannelCoding)
    search_tol: int = 2
    lock_tol: int = 5
    flywheel: int = 2
    slip_window: int = 4

    def __post_init__(self) -> None:
        self._sync = FrameSynchronizer(self.coding.cadu_bits, self.search_tol, self.lock_tol, self.flywheel,
                                       self.slip_window)
        self._buf = bytearray()
        self._bit = 0          # resume bit offset inside _buf
        self._base_bits = 0    # stream bit offset of _buf[0]
        self.bytes_in = 0

    def feed(self, data: bytes | bytearray | memoryview, final: bool = False) -> list[DecodedBatch]:
        self._buf += data
        self.bytes_in += len(data)
        out: list[DecodedBatch] = []
        c = self.coding
        while True:
            pos, flags, nxt = self._sync.scan(self._buf, self._bit, final)
            if len(pos):
                frames, corr, ok = cadu_decode(self._buf, pos, c.depth, c.virtual_fill, c.randomize, c.dual_basis)
                out.append(DecodedBatch(frames, corr, ok, flags.copy(), pos + np.uint64(self._base_bits)))
            self._bit = nxt
            if len(pos) < self._sync.batch:
                break
        drop = self._bit // 8
        if drop:
            del self._buf[:drop]
            self._bit -= 8 * drop
            self._base_bits += 8 * drop
        return out

    def sync_stats(self) -> SyncStats:
        return self._sync.stats()
