"""CCSDS Space Packet Protocol (133.0-B-2) headers, defined with Construct.

This is the declarative source of the bytes. The fast codec in ``fast_codec`` derives its
struct layouts from the same constants and is proven byte-identical by property tests.
"""
from __future__ import annotations

import construct as cs

from protocol.time_codes import CUC

PRIMARY_HEADER_LEN = 6
CUC_LEN = 6
TC_HEADER_LEN = 2  # the opcode
CRC_LEN = 2
SYNC_MARKER = b"\x1a\xcf\xfc\x1d"
IDLE_APID = 0x7FF
SEQ_UNSEGMENTED = 0b11
SEQ_COUNT_MODULO = 1 << 14
PACKET_TYPE_TM = 0
PACKET_TYPE_TC = 1
MAX_PACKET_LEN = 65542  # 6-octet header + 65536 octets of data field

PrimaryHeader = cs.BitStruct(
    "version" / cs.Const(0, cs.BitsInteger(3)),
    "type" / cs.BitsInteger(1),
    "sec_hdr_flag" / cs.BitsInteger(1),
    "apid" / cs.BitsInteger(11),
    "seq_flags" / cs.BitsInteger(2),
    "seq_count" / cs.BitsInteger(14),
    "data_length" / cs.BitsInteger(16),
)

TmSecondaryHeader = CUC
TcSecondaryHeader = cs.Struct("opcode" / cs.Int16ub)


def primary_words(packet_type: int, apid: int, seq_count: int, total_len: int) -> tuple[int, int, int]:
    """The three big-endian 16-bit words of a primary header (for the fast codec)."""
    return (
        (packet_type << 12) | (1 << 11) | (apid & 0x7FF),
        (SEQ_UNSEGMENTED << 14) | (seq_count & 0x3FFF),
        total_len - PRIMARY_HEADER_LEN - 1,
    )
