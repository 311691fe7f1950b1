"""Optical downlink playout: during TRANSMIT the payload loops a file (a stand-in for the OPALS
"Hello, World!" video) as CCSDS-coded TM frames, and only while the laser is really emitting.

Each frame's data field holds exactly one OPTICAL_SEGMENT space packet (file size, offset, bytes),
so the ground can reassemble the file from any subset of good frames, in any order.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from protocol.codec import Codec
from protocol.opals import DICTIONARY
from protocol.tm_coding import ChannelCoding, encode_cadus
from protocol.tm_frames import TmFrameFormat, build_frame

DOWNLINK_BIT_RATE = 50e6          # OPALS: 50 Mbit/s on-off keying
VIDEO_CODED_BITS = 175_000_000    # one coded copy of "Hello, World!": 175 Mbit, 3.5 s at 50 Mbit/s
SEGMENT_OVERHEAD = 6 + 6 + 8 + 2  # primary + CUC secondary header + file_size/offset + packet CRC


def frame_format(coding: ChannelCoding) -> TmFrameFormat:
    return TmFrameFormat(length=coding.frame_len)


def segment_payload_len(coding: ChannelCoding) -> int:
    return frame_format(coding).data_field_len - SEGMENT_OVERHEAD


def standin_video_size(coding: ChannelCoding, coded_bits: int = VIDEO_CODED_BITS) -> int:
    """File size whose coded copy takes ``coded_bits`` on the link (whole frames)."""
    return max(1, round(coded_bits / coding.cadu_bits)) * segment_payload_len(coding)


def standin_video(seed: int, size: int) -> bytes:
    """Deterministic stand-in for the video file: generated from a seed, never committed."""
    return np.random.Generator(np.random.PCG64(seed)).bytes(size)


@dataclass
class OpticalPlayout:
    """Turns the looped file into CADUs at the link bit rate, gated by physical laser emission."""

    video: bytes
    coding: ChannelCoding = field(default_factory=ChannelCoding)
    clock: Callable[[], float] = lambda: 0.0   # TAI seconds, stamped into each segment packet
    bit_rate: float = DOWNLINK_BIT_RATE
    frames_sent: int = 0
    loops: int = 0

    def __post_init__(self) -> None:
        if not self.video:
            raise ValueError("nothing to play out")
        self._codec = Codec(DICTIONARY)
        self._fmt = frame_format(self.coding)
        self._chunk = segment_payload_len(self.coding)
        self._offset = 0
        self._bits_owed = 0.0
        self._seq = 0

    def _next_frame(self) -> bytes:
        size = len(self.video)
        data = self.video[self._offset:self._offset + self._chunk].ljust(self._chunk, b"\0")
        pkt = self._codec.encode_tm("OPTICAL_SEGMENT", {"file_size": size, "offset": self._offset, "chunk": data},
                                    self._seq, self.clock())
        self._seq = (self._seq + 1) & 0x3FFF
        frame = build_frame(self._fmt, pkt, self.frames_sent, self.frames_sent)
        self.frames_sent += 1
        self._offset += self._chunk
        if self._offset >= size:
            self._offset = 0
            self.loops += 1
        return frame

    def next_cadus(self, n: int) -> np.ndarray:
        """The next n CADUs of the loop, (n, cadu_len) uint8."""
        if n <= 0:
            return np.empty((0, self.coding.cadu_len), dtype=np.uint8)
        frames = b"".join(self._next_frame() for _ in range(n))
        return encode_cadus(self.coding, frames)

    def _due(self, dt: float, laser_emitting: bool) -> int:
        if not laser_emitting:
            self._bits_owed = 0.0
            return 0
        self._bits_owed += dt * self.bit_rate
        n = int(self._bits_owed // self.coding.cadu_bits)
        self._bits_owed -= n * self.coding.cadu_bits
        return n

    def skip(self, dt: float, laser_emitting: bool) -> int:
        """Advance the playout as ``step`` would, without building the CADUs (frame-level
        simulation of long passes); returns how many were sent."""
        n = self._due(dt, laser_emitting)
        size = len(self.video)
        total = self._offset // self._chunk + n
        per_loop = -(-size // self._chunk)
        self.loops += total // per_loop
        self._offset = (total % per_loop) * self._chunk
        self.frames_sent += n
        self._seq = (self._seq + n) & 0x3FFF
        return n

    def step(self, dt: float, laser_emitting: bool) -> np.ndarray:
        """CADUs modulated onto the beam during the next ``dt`` seconds: none unless the laser
        emits (the physical sense, not the command), whole CADUs at the link bit rate."""
        return self.next_cadus(self._due(dt, laser_emitting))
