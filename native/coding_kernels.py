"""Python face of the CCSDS channel-coding kernels in rs.c (reference: native/coding_reference.py)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from native._coding import ffi, lib

lib.opals_coding_init()

RS_N, RS_K, RS_E = 255, 223, 16
ASM = b"\x1a\xcf\xfc\x1d"


def _u8(buf) -> object:
    return ffi.from_buffer("uint8_t[]", buf)


def _writable(buf: bytearray | np.ndarray | memoryview, ctype: str = "uint8_t[]"):
    return ffi.from_buffer(ctype, buf, require_writable=True)


def dual_tables() -> tuple[bytes, bytes]:
    """(conventional -> dual, dual -> conventional) symbol maps, 256 bytes each."""
    return (bytes(ffi.buffer(lib.opals_dual_from_conv(), 256)),
            bytes(ffi.buffer(lib.opals_conv_from_dual(), 256)))


def pn_sequence(n: int) -> bytes:
    """First n bytes of the TM pseudo-randomizer (period 255 bytes)."""
    full = bytes(ffi.buffer(lib.opals_pn_sequence(), RS_N * 8))
    return (full * (n // len(full) + 1))[:n]


def randomize(buf: bytearray | np.ndarray) -> None:
    """XOR buf in place with the randomizer sequence from its first byte (its own inverse)."""
    lib.opals_randomize(_writable(buf), len(buf) if not isinstance(buf, np.ndarray) else buf.nbytes)


def rs_encode_blocks(frames: bytes | np.ndarray, depth: int, shorten: int = 0, dual: bool = True) -> np.ndarray:
    """Codeblocks (n, (255-shorten)*depth) for n frames of (223-shorten)*depth bytes each."""
    k = (RS_K - shorten) * depth
    src = np.frombuffer(frames, dtype=np.uint8) if not isinstance(frames, np.ndarray) else frames.reshape(-1)
    if src.size % k:
        raise ValueError(f"frames must be a multiple of {k} bytes, got {src.size}")
    n = src.size // k
    src = np.ascontiguousarray(src)
    out = np.empty((n, (RS_N - shorten) * depth), dtype=np.uint8)
    lib.opals_rs_encode_blocks(_u8(src), _writable(out), n, depth, shorten, int(dual))
    return out


def rs_decode_blocks(codeblocks: np.ndarray, depth: int, shorten: int = 0, dual: bool = True) -> np.ndarray:
    """Decode (n, (255-shorten)*depth) codeblocks in place; returns corrected symbols per codeword
    (n, depth), -1 where a codeword was uncorrectable (and left as received)."""
    if not codeblocks.flags.c_contiguous or codeblocks.dtype != np.uint8:
        raise ValueError("codeblocks must be a C-contiguous uint8 array")
    blen = (RS_N - shorten) * depth
    if codeblocks.size % blen:
        raise ValueError(f"codeblocks must be a multiple of {blen} bytes, got {codeblocks.size}")
    n = codeblocks.size // blen
    corrected = np.empty((n, depth), dtype=np.int32)
    lib.opals_rs_decode_blocks(_writable(codeblocks), n, depth, shorten, int(dual), _writable(corrected, "int32_t[]"))
    return corrected


def rs_decode_conventional(codeword: bytearray, shorten: int = 0) -> int:
    """Decode one conventional-basis codeword in place: symbols corrected, or -1 if uncorrectable."""
    if len(codeword) != RS_N - shorten:
        raise ValueError(f"codeword must be {RS_N - shorten} symbols")
    return int(lib.opals_rs_decode_conv(_writable(codeword), shorten))


def extract_bytes(buf: bytes | np.ndarray, bitpos: int, n: int) -> bytes:
    """n bytes starting at bit offset bitpos (MSB first)."""
    need = (bitpos + 8 * n + 7) // 8
    if need > len(buf):
        raise ValueError("extract past the end of the buffer")
    src = bytes(buf) + b"\x00"
    out = bytearray(n)
    lib.opals_extract_bytes(_u8(src), bitpos, _writable(out), n)
    return bytes(out)


def coding_crc16(data: bytes | np.ndarray) -> int:
    return int(lib.opals_coding_crc16(_u8(data), len(data)))


@dataclass
class SyncStats:
    acquisitions: int
    lock_losses: int
    slips: int
    flywheel_frames: int
    marker_bit_errors: int
    locked: bool


class FrameSynchronizer:
    """Bit-level ASM synchroniser with search / lock / flywheel states, kept across calls.

    search: correlate the 32-bit marker at every bit offset, accept <= search_tol bit errors and
    confirm with a second marker one CADU later (<= lock_tol); lock: expect the marker every
    CADU, accept <= lock_tol errors, re-align within +-slip_window bits after a clock slip, and
    coast (flywheel) over up to ``flywheel`` missing markers before searching again.
    """

    def __init__(self, cadu_bits: int, search_tol: int = 2, lock_tol: int = 5, flywheel: int = 2,
                 slip_window: int = 4, batch: int = 4096):
        self.cadu_bits = cadu_bits
        self.search_tol, self.lock_tol = search_tol, lock_tol
        self.flywheel, self.slip_window = flywheel, slip_window
        self._st = ffi.new("opals_sync_state *")
        self._pos = ffi.new("uint64_t *")
        self._out_pos = np.empty(batch, dtype=np.uint64)
        self._out_flag = np.empty(batch, dtype=np.uint8)

    def scan(self, buf: bytes | bytearray | np.ndarray, start_bit: int, final: bool = False) -> tuple[np.ndarray, np.ndarray, int]:
        """CADU marker bit offsets and flags (0 marker, 1 slip, 2 flywheel) from start_bit, and the
        bit offset to resume from. Call again (with more data appended) until it returns none."""
        self._pos[0] = start_bit
        cbuf = _u8(buf)
        n = lib.opals_sync_scan(cbuf, len(cbuf), self._pos, self.cadu_bits, self.search_tol, self.lock_tol,
                                self.flywheel, self.slip_window, int(final), self._st,
                                _writable(self._out_pos, "uint64_t[]"), _writable(self._out_flag), len(self._out_pos))
        return self._out_pos[:n], self._out_flag[:n], int(self._pos[0])

    @property
    def batch(self) -> int:
        return len(self._out_pos)

    def stats(self) -> SyncStats:
        s = self._st
        return SyncStats(int(s.acquisitions), int(s.lock_losses), int(s.slips), int(s.flywheel_frames),
                         int(s.marker_bit_errors), bool(s.locked))


def cadu_decode(buf: bytes | bytearray | np.ndarray, positions: np.ndarray, depth: int, shorten: int = 0,
                derandomize: bool = True, dual: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Extract, de-randomize and RS-decode the CADUs whose markers sit at ``positions`` (bits).

    Returns (frames (n, (223-shorten)*depth) uint8, corrected (n, depth) int32 with -1 = failed,
    crc_ok (n,) bool from the frame's last two bytes)."""
    positions = np.ascontiguousarray(positions, dtype=np.uint64)
    n = len(positions)
    cadu_bits = 8 * (4 + (RS_N - shorten) * depth)
    if n and int(positions.max()) + cadu_bits > 8 * memoryview(buf).nbytes:
        raise ValueError("a CADU position runs past the end of the buffer")
    flen = (RS_K - shorten) * depth
    frames = np.empty((n, flen), dtype=np.uint8)
    corrected = np.empty((n, depth), dtype=np.int32)
    crc_ok = np.empty(n, dtype=np.uint8)
    if n:
        lib.opals_cadu_decode(_u8(buf), ffi.from_buffer("uint64_t[]", positions), n, depth, shorten,
                              int(derandomize), int(dual), _writable(frames), _writable(corrected, "int32_t[]"),
                              _writable(crc_ok))
    return frames, corrected, crc_ok.astype(bool)
