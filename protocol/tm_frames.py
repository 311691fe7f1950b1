"""CCSDS 132.0-B TM transfer frames of fixed length: primary header, data field, FECF (CRC-16).

The optical downlink uses one spacecraft ID and one virtual channel; every frame carries a master
and a virtual-channel frame count (8 bits each, wrapping) so the ground can count lost frames.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

from protocol.crc import crc16

PRIMARY_HEADER_LEN = 6
FECF_LEN = 2
FHP_NO_PACKET_START = 0x7FF
FHP_IDLE = 0x7FE
OPALS_SCID = 0x1A5  # assumed: OPALS had no published TM spacecraft ID
_HDR = struct.Struct(">HBBH")


@dataclass(frozen=True)
class TmFrameFormat:
    """Fixed-length frame layout (no OCF, no secondary header, FECF present)."""

    length: int
    scid: int = OPALS_SCID
    vcid: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.scid < 1024 or not 0 <= self.vcid < 8:
            raise ValueError("SCID is 10 bits, VCID 3 bits")
        if self.length <= PRIMARY_HEADER_LEN + FECF_LEN:
            raise ValueError("frame too short")

    @property
    def data_field_len(self) -> int:
        return self.length - PRIMARY_HEADER_LEN - FECF_LEN


@dataclass(frozen=True)
class TmFrame:
    scid: int
    vcid: int
    mc_count: int
    vc_count: int
    first_header_pointer: int
    data: bytes


class FrameError(ValueError):
    """A frame that fails its CRC or header checks; ``reason`` is a short machine-readable code."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def build_frame(fmt: TmFrameFormat, data: bytes, mc_count: int, vc_count: int,
                first_header_pointer: int = 0) -> bytes:
    if len(data) != fmt.data_field_len:
        raise ValueError(f"data field must be {fmt.data_field_len} bytes, got {len(data)}")
    w0 = (fmt.scid << 4) | (fmt.vcid << 1)           # version 00, OCF flag 0
    status = (0b00011 << 11) | (first_header_pointer & 0x7FF)  # no sec hdr, sync 0, order 0, seg id 11
    head = _HDR.pack(w0, mc_count & 0xFF, vc_count & 0xFF, status) + data
    return head + crc16(head).to_bytes(2, "big")


def parse_frame(frame: bytes, fmt: TmFrameFormat | None = None) -> TmFrame:
    """Header fields and data field of a frame whose FECF is correct; raises FrameError otherwise."""
    frame = bytes(frame)
    if fmt is not None and len(frame) != fmt.length:
        raise FrameError("BAD_LENGTH", f"{len(frame)} bytes, expected {fmt.length}")
    if len(frame) <= PRIMARY_HEADER_LEN + FECF_LEN:
        raise FrameError("BAD_LENGTH", f"{len(frame)} bytes")
    if crc16(frame[:-2]) != int.from_bytes(frame[-2:], "big"):
        raise FrameError("BAD_CRC")
    w0, mc, vc, status = _HDR.unpack_from(frame)
    if w0 >> 14:
        raise FrameError("BAD_HEADER", f"transfer frame version {w0 >> 14}")
    scid, vcid = (w0 >> 4) & 0x3FF, (w0 >> 1) & 0x7
    if fmt is not None and (scid, vcid) != (fmt.scid, fmt.vcid):
        raise FrameError("BAD_HEADER", f"SCID/VCID {scid}/{vcid}")
    return TmFrame(scid, vcid, mc, vc, status & 0x7FF, frame[PRIMARY_HEADER_LEN:-FECF_LEN])
