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


def deframe(data: bytes, max_len: int = 65542,
            lengths: dict[int, tuple[int, int]] | None = None) -> tuple[list[bytes], int]:
    """All valid framed packets in a complete stream, and the bytes discarded (``lengths``: the
    accepted APIDs with their (min, max) total length)."""
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
        apid = ((h[0] & 7) << 8) | h[1]
        bounds = (8, max_len) if lengths is None else lengths.get(apid, (1, 0))
        if (h[0] >> 5) != 0 or plen < 8 or plen > max_len or not bounds[0] <= plen <= bounds[1] or len(pk) < plen \
                or crc16(pk[:-2]) != struct.unpack(">H", pk[-2:])[0]:
            discarded += 1
            pos = p + 1
            continue
        out.append(pk)
        pos = p + 4 + plen


def seq_gap(last: int | None, seq: int) -> int:
    """Packets missing between two 14-bit sequence counts; a jump of half the range or more is a
    repeat or a reorder, not a loss (the C deframer applies the same rule)."""
    if last is None:
        return 0
    gap = (seq - last - 1) & 0x3FFF
    return gap if gap < 0x2000 else 0


def batch_decode(buf: bytes, layouts: dict[int, tuple[int, list[int], object]]) -> tuple[dict[int, list[tuple]], dict[str, int], int]:
    """Back-to-back packets -> per-APID rows (seq, coarse, fine, field values as native ints or bytes).

    Field values are the big-endian wire bytes read as unsigned integers of their size (the
    numpy record reinterprets them), so rows compare with the C output field by field.
    Returns (rows per APID, counters, bytes consumed).
    """
    buf = bytes(buf)
    rows: dict[int, list[tuple]] = {}
    counts = {"packets": 0, "crc_failures": 0, "unknown_apid": 0, "bad_length": 0, "bad_header": 0}
    pos = 0
    while pos + 6 <= len(buf):
        plen = 7 + ((buf[pos + 4] << 8) | buf[pos + 5])
        if pos + plen > len(buf):
            break
        pk = buf[pos:pos + plen]
        pos += plen
        if plen < 14:
            counts["bad_length"] += 1
            continue
        apid = ((pk[0] & 7) << 8) | pk[1]
        if pk[0] >> 4:
            counts["bad_header"] += 1
            continue
        if apid not in layouts:
            counts["unknown_apid"] += 1
            continue
        want_len, sizes, _ = layouts[apid]
        if plen != want_len:
            counts["bad_length"] += 1
            continue
        if crc16(pk[:-2]) != struct.unpack(">H", pk[-2:])[0]:
            counts["crc_failures"] += 1
            continue
        row = [((pk[2] << 8) | pk[3]) & 0x3FFF, struct.unpack(">I", pk[6:10])[0], struct.unpack(">H", pk[10:12])[0]]
        at = 12
        for size in sizes:
            raw = pk[at:at + size]
            row.append(int.from_bytes(raw, "big") if size in (1, 2, 4, 8) else raw)
            at += size
        rows.setdefault(apid, []).append(tuple(row))
        counts["packets"] += 1
    return rows, counts, pos
