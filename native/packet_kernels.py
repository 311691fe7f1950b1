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

    def __init__(self, max_packet_len: int = 65542, apids: set[int] | None = None, batch: int = 65536):
        self._st = ffi.new("opals_deframe_stats *")
        for i in range(2048):
            self._st.last_seq[i] = -1
        self.max_packet_len = max_packet_len
        self._mask = None
        if apids is not None:
            self._mask = ffi.new("uint8_t[2048]")
            for a in apids:
                self._mask[a] = 1
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

    def __init__(self, layouts: dict[int, tuple[int, list[int], np.dtype]], capacity: int = 65536):
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
        self._capacity = capacity
        self._st = ffi.new("opals_batch_stats *")
        self._reset_outputs(capacity)

    def _reset_outputs(self, capacity: int, only_used: bool = False) -> None:
        for i, apid in enumerate(self._apids):
            L = self._c_layouts[i]
            if only_used and L.count == 0:
                continue  # untouched output: keep it rather than allocate again
            arr = np.empty(capacity, dtype=self._dtypes[apid])
            self._arrays[apid] = arr
            L.out = ffi.cast("uint8_t *", ffi.from_buffer(arr))
            L.capacity = capacity
            L.count = 0

    def _take(self) -> dict[int, np.ndarray]:
        """Hand out what was written (the caller owns those arrays) and give the C fresh outputs."""
        out = {}
        for i, apid in enumerate(self._apids):
            n = self._c_layouts[i].count
            if n:
                out[apid] = self._arrays[apid][:n]
        self._reset_outputs(self._capacity, only_used=True)
        return out

    def decode(self, buf: bytes | bytearray | memoryview) -> tuple[dict[int, np.ndarray], int]:
        """Decode back-to-back packets; returns (arrays per APID, bytes consumed).

        Unconsumed bytes at the end are a truncated packet the caller keeps for the next call.
        """
        cbuf = ffi.from_buffer(buf)
        parts: list[dict[int, np.ndarray]] = []
        pos = 0
        while True:
            self._st.full = 0
            used = lib.opals_batch_decode(cbuf + pos, len(cbuf) - pos, self._c_layouts, self._index, self._st)
            pos += used
            if not self._st.full:
                break
            parts.append(self._take())
        parts.append(self._take())
        return _concat(parts), pos

    def decode_at(self, buf, offsets: np.ndarray, lengths: np.ndarray) -> dict[int, np.ndarray]:
        """Decode the packets a StreamScanner located in ``buf``."""
        cbuf = ffi.from_buffer(buf)
        parts = []
        done, n = 0, len(offsets)
        off = np.ascontiguousarray(offsets, dtype=np.uint32)
        ln = np.ascontiguousarray(lengths, dtype=np.uint32)
        while True:
            self._st.full = 0
            done += lib.opals_batch_decode_at(
                cbuf, ffi.from_buffer("uint32_t[]", off[done:]), ffi.from_buffer("uint32_t[]", ln[done:]), n - done,
                self._c_layouts, self._index, self._st)
            if not self._st.full:
                break
            parts.append(self._take())
        parts.append(self._take())
        return _concat(parts)

    def stats(self) -> BatchStats:
        st = self._st
        return BatchStats(st.packets, st.crc_failures, st.unknown_apid, st.bad_length, st.truncated_bytes,
                          st.bad_header)


def _concat(parts: list[dict[int, np.ndarray]]) -> dict[int, np.ndarray]:
    if len(parts) == 1:
        return parts[0]  # arrays handed out by _take are never written again
    keys = {a for p in parts for a in p}
    return {a: np.concatenate([p[a] for p in parts if a in p]) for a in keys}
