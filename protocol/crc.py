"""CRC-16-CCITT (poly 0x1021, init 0xFFFF, no reflection, no final xor): the Packet Error Control.

The native slicing-by-8 kernel is the hot path; ``binascii.crc_hqx`` is the reference it is held to.
"""
from __future__ import annotations

import binascii

from native import crc16 as _native_crc16

CRC_INIT = 0xFFFF
CHECK_VALUE = 0x29B1  # crc16(b"123456789")


def crc16(data: bytes | bytearray | memoryview, init: int = CRC_INIT) -> int:
    return _native_crc16(data, init)


def crc16_reference(data: bytes | bytearray | memoryview, init: int = CRC_INIT) -> int:
    return binascii.crc_hqx(bytes(data), init)
