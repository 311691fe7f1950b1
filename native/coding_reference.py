"""Pure-Python references for the channel-coding kernels (rs.c), written from CCSDS 131.0-B.

Tests hold the C kernels to these byte for byte. The RS *decoder* reference is the external
``reedsolo`` package (conventional basis with generator=173, fcr=112, prim=0x187), wrapped in
``rs_decode_conventional``; everything else is written out here.
"""
from __future__ import annotations

RS_N, RS_K, NROOTS, FCR, PRIM, GF_POLY = 255, 223, 32, 112, 11, 0x187
ASM_WORD = 0x1ACFFC1D
# CCSDS 131.0-B Annex F: T_alpha-to-l rows (conventional bit k contributes row 7-k to the dual symbol).
TAL_ROWS = (0x8D, 0xEF, 0xEC, 0x86, 0xFA, 0x99, 0xAF, 0x7B)


def gf_tables() -> tuple[list[int], list[int]]:
    exp, log = [0] * 510, [0] * 256
    x = 1
    for i in range(255):
        exp[i] = x
        log[x] = i
        x <<= 1
        if x & 0x100:
            x ^= GF_POLY
    for i in range(255, 510):
        exp[i] = exp[i - 255]
    return exp, log


EXP, LOG = gf_tables()


def gf_mul(a: int, b: int) -> int:
    return 0 if a == 0 or b == 0 else EXP[LOG[a] + LOG[b]]


def generator_poly() -> list[int]:
    """g(x) = prod_{j=112}^{143} (x - alpha^(11 j)), highest degree first."""
    g = [1]
    for j in range(FCR, FCR + NROOTS):
        r = EXP[(PRIM * j) % 255]
        g = [a ^ gf_mul(b, r) for a, b in zip(g + [0], [0] + g)]
    return g


GEN = generator_poly()


def rs_encode_conventional(msg: bytes) -> bytes:
    """Systematic codeword msg || parity (conventional basis); len(msg) <= 223 (shortened code)."""
    rem = [0] * NROOTS
    for m in msg:
        fb = m ^ rem[0]
        rem = rem[1:] + [0]
        if fb:
            rem = [r ^ gf_mul(fb, g) for r, g in zip(rem, GEN[1:])]
    return bytes(msg) + bytes(rem)


def syndromes(cw: bytes) -> list[int]:
    out = []
    for j in range(FCR, FCR + NROOTS):
        r, s = EXP[(PRIM * j) % 255], 0
        for c in cw:
            s = gf_mul(s, r) ^ c
        out.append(s)
    return out


def dual_tables() -> tuple[bytes, bytes]:
    to_dual = bytearray(256)
    for v in range(256):
        out = 0
        for k in range(8):
            if v >> k & 1:
                out ^= TAL_ROWS[7 - k]
        to_dual[v] = out
    to_conv = bytearray(256)
    for v, d in enumerate(to_dual):
        to_conv[d] = v
    return bytes(to_dual), bytes(to_conv)


TO_DUAL, TO_CONV = dual_tables()


def rs_encode_block(frame: bytes, depth: int, shorten: int = 0, dual: bool = True) -> bytes:
    """Interleaved codeblock: frame symbol k belongs to codeword k % depth; parity interleaved after."""
    k = RS_K - shorten
    assert len(frame) == k * depth
    out = bytearray(frame) + bytearray(NROOTS * depth)
    for w in range(depth):
        msg = bytes(frame[w::depth])
        if dual:
            msg = bytes(TO_CONV[b] for b in msg)
        par = rs_encode_conventional(msg)[k:]
        for i, p in enumerate(par):
            out[(k + i) * depth + w] = TO_DUAL[p] if dual else p
    return bytes(out)


def rs_decode_conventional(codeword: bytes, shorten: int = 0) -> tuple[bytes, int] | None:
    """reedsolo oracle: (corrected codeword, symbols corrected) or None when it gives up."""
    import reedsolo

    codec = reedsolo.RSCodec(NROOTS, nsize=RS_N, fcr=FCR, prim=GF_POLY, generator=EXP[PRIM], c_exp=8)
    try:
        _, full, errata = codec.decode(bytes(codeword))
    except reedsolo.ReedSolomonError:
        return None
    return bytes(full), len(errata)


def pn_sequence(n: int) -> bytes:
    """TM randomizer bytes: a(n+8) = a(n+7)+a(n+5)+a(n+3)+a(n), seeded with eight ones."""
    bits = [1] * 8
    while len(bits) < 8 * n:
        i = len(bits) - 8
        bits.append(bits[i + 7] ^ bits[i + 5] ^ bits[i + 3] ^ bits[i])
    return bytes(int("".join(map(str, bits[8 * k:8 * k + 8])), 2) for k in range(n))


def randomize(data: bytes) -> bytes:
    return bytes(a ^ b for a, b in zip(data, pn_sequence(len(data))))


def extract_bytes(buf: bytes, bitpos: int, n: int) -> bytes:
    value = int.from_bytes(buf, "big")
    total = 8 * len(buf)
    return ((value >> (total - bitpos - 8 * n)) & ((1 << (8 * n)) - 1)).to_bytes(n, "big")


def marker_offsets(buf: bytes, tolerance: int) -> list[int]:
    """Every bit offset where the 32-bit ASM matches with at most ``tolerance`` bit errors."""
    value, total = int.from_bytes(buf, "big"), 8 * len(buf)
    return [p for p in range(total - 31)
            if bin(((value >> (total - p - 32)) & 0xFFFFFFFF) ^ ASM_WORD).count("1") <= tolerance]


def crc16(data: bytes) -> int:
    import binascii

    return binascii.crc_hqx(bytes(data), 0xFFFF)
