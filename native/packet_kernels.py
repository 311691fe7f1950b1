"""Python face of the packet kernels in packets.c (CRC, marker search, deframe, batch decode)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from native._packets import ffi, lib


def crc16(data: bytes | bytearray | memoryview, init: int = 0xFFFF) -> int:
    """CRC-16-CCITT (poly 0x1021, non-reflected), slicing-by-8."""
    buf = ffi.from_buffer(data)
    return lib.opals_crc16(buf, len(buf), init)


def find_marker(data: bytes | bytearray | memoryview, start: int = 0) -> int:
    """Offset of the next 0x1ACFFC1D at or after ``start``, or -1."""
    buf = ffi.from_buffer(data)
    return int(lib.opals_find_marker(buf, len(buf), start))


@dataclass
class DeframeStats:
    bytes_in: int = 0
    bytes_discarded: int = 0
    packets: int = 0
    crc_failures: int = 0
    bad_headers: int = 0
    seq_gaps: int = 0
    per_apid: dict[int, dict[str, int]] = field(default_factory=dict)


class StreamScanner:
    """Finds ASM-framed packets in a byte stream; keeps the C statistics block across calls."""

    def __init__(self, max_packet_len: int = 65542, apids: set[int] | None = None, batch: int = 65536,
                 lengths: dict[int, tuple[int, int]] | None = None):
        """``apids``: accept only these; ``lengths``: accept only these APIDs, each with its
        (min, max) total packet length. Either makes false markers fail at once."""
        self._st = ffi.new("opals_deframe_stats *")
        for i in range(2048):
            self._st.last_seq[i] = -1
        self.max_packet_len = max_packet_len
        if apids is not None:
            lengths = {a: (8, max_packet_len) for a in apids} if lengths is None else \
                {a: lengths[a] for a in apids if a in lengths}
        self._mask = None
        if lengths is not None:
            self._mask = ffi.new("uint32_t[4096]")
            for a, (lo, hi) in lengths.items():
                self._mask[2 * a] = max(8, lo)
                self._mask[2 * a + 1] = min(hi, max_packet_len)
        self._batch = batch
        self._offsets = np.empty(batch, dtype=np.uint32)
        self._lengths = np.empty(batch, dtype=np.uint32)
        self._c_offsets = ffi.from_buffer("uint32_t[]", self._offsets)
        self._c_lengths = ffi.from_buffer("uint32_t[]", self._lengths)
        self._n = ffi.new("size_t *")

    def scan(self, buf: bytearray | bytes | memoryview, final: bool = False) -> tuple[int, np.ndarray, np.ndarray]:
        """Returns (bytes consumed, packet offsets, packet lengths); call again while it fills a batch."""
        cbuf = ffi.from_buffer(buf)
        consumed = lib.opals_deframe(
            cbuf, len(cbuf), 1 if final else 0, self.max_packet_len,
            self._mask if self._mask is not None else ffi.NULL,
            self._c_offsets, self._c_lengths, self._batch, self._n, self._st,
        )
        n = self._n[0]
        return consumed, self._offsets[:n], self._lengths[:n]

    @property
    def batch(self) -> int:
        return self._batch

    def stats(self) -> DeframeStats:
        st = self._st
        packets = np.frombuffer(ffi.buffer(st.apid_packets), dtype=np.uint64)
        gaps = np.frombuffer(ffi.buffer(st.apid_gaps), dtype=np.uint64)
        nbytes = np.frombuffer(ffi.buffer(st.apid_bytes), dtype=np.uint64)
        per = {
            int(a): {"packets": int(packets[a]), "gaps": int(gaps[a]), "bytes": int(nbytes[a])}
            for a in np.flatnonzero(packets)
        }
        return DeframeStats(st.bytes_in, st.bytes_discarded, st.packets, st.crc_failures,
                            st.bad_headers, st.seq_gaps, per)

    def count_in(self, n: int) -> None:
        self._st.bytes_in += n


class OutputPool:
    """Recycles the memory of decoded arrays. Fresh memory costs a page fault per page on first
    write (on this kind of VM, more than the decoding itself), so every array handed out is a
    view of a pooled block; when the caller drops the last view of a block, cffi's gc hook gives
    the block back, already paged in, for the next decode. Callers own what they get: a block
    is reused only after nothing refers to it."""

    def __init__(self, keep_bytes: int = 128 << 20):
        self.keep_bytes = keep_bytes
        self._free: list[np.ndarray] = []
        self._lent: dict[int, np.ndarray] = {}
        self._returned: list[int] = []  # filled by gc hooks; drained by array()

    def array(self, n: int, dtype: np.dtype) -> np.ndarray:
        nbytes = max(n * dtype.itemsize, 1)
        block = self._take(nbytes)
        addr = block.ctypes.data
        self._lent[addr] = block
        ptr = ffi.gc(ffi.cast("uint8_t *", addr), self._on_release)
        return np.frombuffer(ffi.buffer(ptr, nbytes), dtype=dtype, count=n)

    def _on_release(self, ptr) -> None:
        self._returned.append(int(ffi.cast("uintptr_t", ptr)))  # only an append: runs inside gc

    def _take(self, nbytes: int) -> np.ndarray:
        while self._returned:
            block = self._lent.pop(self._returned.pop(), None)
            if block is not None:
                self._free.append(block)
        while sum(b.nbytes for b in self._free) > self.keep_bytes:
            self._free.pop(0)  # the oldest goes back to the allocator
        fits = [i for i, b in enumerate(self._free) if nbytes <= b.nbytes <= 2 * nbytes]
        if fits:
            return self._free.pop(min(fits, key=lambda i: self._free[i].nbytes))
        return np.empty(nbytes, dtype=np.uint8)


@dataclass
class BatchStats:
    packets: int = 0
    crc_failures: int = 0
    unknown_apid: int = 0
    bad_length: int = 0
    truncated_bytes: int = 0
    bad_header: int = 0  # not CCSDS version 0, or a telecommand where telemetry belongs


class BatchDecoder:
    """Decodes many fixed-layout packets into native-endian numpy records, one array per APID.

    ``layouts`` maps APID -> (total packet length, field byte sizes, record dtype); the record
    dtype must be packed: seq u2, coarse u4, fine u2, then the fields in order.
    """

    def __init__(self, layouts: dict[int, tuple[int, list[int], np.dtype]], capacity: int = 1 << 22,
                 pool: OutputPool | None = None):
        """``capacity``: the most records per APID one pass writes (outputs are sized exactly from
        a header walk; a bigger input takes further passes and one concatenation)."""
        self._dtypes = {a: dt for a, (_, _, dt) in layouts.items()}
        self._apids = sorted(layouts)
        self._c_layouts = ffi.new("opals_layout[]", max(1, len(self._apids)))
        self._index = ffi.new("int16_t[2048]")
        for i in range(2048):
            self._index[i] = -1
        self._arrays: dict[int, np.ndarray] = {}
        for i, apid in enumerate(self._apids):
            plen, sizes, dt = layouts[apid]
            if len(sizes) > 64:
                raise ValueError(f"APID {apid:#x}: more than 64 fields")
            if dt.itemsize != 8 + sum(sizes):
                raise ValueError(f"APID {apid:#x}: dtype size {dt.itemsize} != {8 + sum(sizes)}")
            L = self._c_layouts[i]
            L.pkt_len = plen
            L.nfields = len(sizes)
            for j, s in enumerate(sizes):
                L.sizes[j] = s
            L.rec_size = dt.itemsize
            self._index[apid] = i
        self._capacity = max(1, capacity)
        self._pool = pool or OutputPool()
        self._counts = np.zeros(2048, dtype=np.uint64)
        self._st = ffi.new("opals_batch_stats *")

    def _prepare(self, remaining: np.ndarray) -> None:
        """Outputs for at most ``remaining[apid]`` records each (capped), from the pool."""
        for i, apid in enumerate(self._apids):
            L = self._c_layouts[i]
            n = min(int(remaining[apid]), self._capacity)
            L.count = 0
            if n:
                arr = self._pool.array(n, self._dtypes[apid])
                self._arrays[apid] = arr
                L.out = ffi.cast("uint8_t *", ffi.from_buffer(arr))
            else:
                self._arrays.pop(apid, None)
                L.out = ffi.NULL
            L.capacity = n

    def _take(self, remaining: np.ndarray) -> dict[int, np.ndarray]:
        """Hand out what was written (the caller owns those arrays)."""
        out = {}
        for i, apid in enumerate(self._apids):
            L = self._c_layouts[i]
            if L.count:
                out[apid] = self._arrays[apid][:L.count]
                remaining[apid] -= min(int(remaining[apid]), L.count)
            if L.count == L.capacity:
                remaining[apid] = max(int(remaining[apid]), 1)  # it filled up: more may follow
        for apid in list(self._arrays):
            del self._arrays[apid]
        return out

    def decode(self, buf: bytes | bytearray | memoryview) -> tuple[dict[int, np.ndarray], int]:
        """Decode back-to-back packets; returns (arrays per APID, bytes consumed).

        Unconsumed bytes at the end are a truncated packet the caller keeps for the next call.
        """
        cbuf = ffi.from_buffer(buf)
        remaining = self._counts
        remaining[:] = 0
        lib.opals_count_apids(cbuf, len(cbuf), ffi.from_buffer("uint64_t[]", remaining))
        parts: list[dict[int, np.ndarray]] = []
        pos = 0
        while True:
            self._prepare(remaining)
            self._st.full = 0
            pos += lib.opals_batch_decode(cbuf + pos, len(cbuf) - pos, self._c_layouts, self._index, self._st)
            parts.append(self._take(remaining))
            if not self._st.full:
                break
        return _concat(parts), pos

    def decode_at(self, buf, offsets: np.ndarray, lengths: np.ndarray) -> dict[int, np.ndarray]:
        """Decode the packets a StreamScanner located in ``buf``."""
        cbuf = ffi.from_buffer(buf)
        off = np.ascontiguousarray(offsets, dtype=np.uint32)
        ln = np.ascontiguousarray(lengths, dtype=np.uint32)
        b = np.frombuffer(ffi.buffer(cbuf), dtype=np.uint8)
        apids = ((b[off].astype(np.uint16) & 7) << 8) | b[off + 1] if len(off) else np.zeros(0, np.uint16)
        remaining = self._counts
        remaining[:] = np.bincount(apids, minlength=2048)[:2048]
        parts = []
        done, n = 0, len(off)
        while True:
            self._prepare(remaining)
            self._st.full = 0
            done += lib.opals_batch_decode_at(
                cbuf, ffi.from_buffer("uint32_t[]", off[done:]), ffi.from_buffer("uint32_t[]", ln[done:]), n - done,
                self._c_layouts, self._index, self._st)
            parts.append(self._take(remaining))
            if not self._st.full:
                break
        return _concat(parts)

    def stats(self) -> BatchStats:
        st = self._st
        return BatchStats(st.packets, st.crc_failures, st.unknown_apid, st.bad_length, st.truncated_bytes,
                          st.bad_header)


def _concat(parts: list[dict[int, np.ndarray]]) -> dict[int, np.ndarray]:
    if len(parts) == 1:
        return parts[0]  # arrays handed out by _take are never written again by the decoder
    keys = {a for p in parts for a in p}
    return {a: np.concatenate([p[a] for p in parts if a in p]) for a in keys}
