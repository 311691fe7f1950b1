"""Pure-Python references the C kernels are held to, byte for byte, in tests."""
from __future__ import annotations

import binascii
import struct

import crcmod.predefined

SYNC_MARKER = b"\x1a\xcf\xfc\x1d"
_crcmod_ccitt = crcmod.predefined.mkCrcFun("crc-ccitt-false")


def crc16(data: bytes, init: int = 0xFFFF) -> int:
    return binascii.crc_hqx(bytes(data), init)


def crc16_crcmod(data: bytes) -> int:
    return _crcmod_ccitt(bytes(data))


def find_marker(data: bytes, start: int = 0) -> int:
    return bytes(data).find(SYNC_MARKER, start)


def deframe(data: bytes, max_len: int = 65542) -> tuple[list[bytes], int]:
    """All valid framed packets in a complete stream, and the bytes discarded."""
    data = bytes(data)
    out, pos, discarded = [], 0, 0
    while True:
        p = data.find(SYNC_MARKER, pos)
        if p < 0:
            discarded += len(data) - pos
            return out, discarded
        discarded += p - pos
        h = data[p + 4:p + 10]
        if len(h) < 6:
            discarded += len(data) - p
            return out, discarded
        plen = 7 + ((h[4] << 8) | h[5])
        pk = data[p + 4:p + 4 + plen]
        if (h[0] >> 5) != 0 or plen < 8 or plen > max_len or len(pk) < plen \
                or crc16(pk[:-2]) != struct.unpack(">H", pk[-2:])[0]:
            discarded += 1
            pos = p + 1
            continue
        out.append(pk)
        pos = p + 4 + plen
