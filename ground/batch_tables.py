"""Located packets -> one Arrow table per telemetry packet, in the archive layout's schema.

The hot path of ingest: the native batch decoder fills numpy records for every fixed-length
packet; only variable-length packets (CFDP PDU containers) go through the per-packet codec.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from ground.archive_layout import arrow_schema
from protocol.codec import Codec, PacketError
from protocol.dtypes import make_batch_decoder
from protocol.registry import Dictionary
from protocol.time_codes import EPOCH_1958_TO_1970, tai_minus_utc_at_tai


def tai_to_unix_ns(tai: np.ndarray) -> np.ndarray:
    """Vectorised TAI (s since 1958) -> UTC Unix nanoseconds, leap seconds applied."""
    if len(tai) == 0:
        return np.zeros(0, dtype=np.int64)
    lo, hi = float(tai.min()), float(tai.max())
    off_lo, off_hi = tai_minus_utc_at_tai(max(lo, 4.5e8)), tai_minus_utc_at_tai(max(hi, 4.5e8))
    if off_lo == off_hi:
        offs: np.ndarray | int = off_lo
    else:  # the batch straddles a leap second: look each second up (rare)
        secs = np.floor(tai).astype(np.int64)
        uniq, inv = np.unique(secs, return_inverse=True)
        offs = np.array([tai_minus_utc_at_tai(max(float(s), 4.5e8)) for s in uniq])[inv]
    unix = tai - EPOCH_1958_TO_1970 - offs
    return np.round(unix * 1e9).astype(np.int64)


@dataclass
class DecodeCounts:
    packets: int = 0
    rejected: int = 0
    per_packet: dict[str, int] = field(default_factory=dict)


class BatchTables:
    """Decodes located packets into per-packet Arrow tables (and keeps the numpy records)."""

    def __init__(self, dictionary: Dictionary, codec: Codec | None = None):
        self.dictionary = dictionary
        self.codec = codec or Codec(dictionary)
        self.decoder = make_batch_decoder(dictionary)
        self.schemas = {p.name: arrow_schema(p) for p in dictionary.telemetry.values()}
        self.variable_apids = {p.apid for p in dictionary.telemetry.values() if p.is_variable}
        self.counts = DecodeCounts()

    def decode(self, buf: bytes, offsets: np.ndarray, lengths: np.ndarray
               ) -> tuple[dict[str, pa.Table], dict[int, np.ndarray]]:
        """Tables by packet name, and the fixed-length numpy records by APID (for limits)."""
        if len(offsets) == 0:
            return {}, {}
        b = np.frombuffer(buf, dtype=np.uint8)
        apids = ((b[offsets].astype(np.uint16) & 0x07) << 8) | b[offsets + 1]
        is_tm = (b[offsets] & 0x10) == 0
        var_mask = np.isin(apids, list(self.variable_apids)) & is_tm if self.variable_apids else np.zeros(len(offsets), bool)
        fixed = ~var_mask & is_tm
        records = self.decoder.decode_at(buf, offsets[fixed], lengths[fixed]) if fixed.any() else {}
        tables: dict[str, pa.Table] = {}
        for apid, rec in records.items():
            p = self.dictionary.packet_by_apid(apid)
            tables[p.name] = self._table_from_records(p.name, rec)
        if var_mask.any():
            for name, t in self._variable_tables(buf, offsets[var_mask], lengths[var_mask]).items():
                tables[name] = t
        n = sum(t.num_rows for t in tables.values())
        self.counts.packets += n
        self.counts.rejected += int(is_tm.sum()) - n
        for name, t in tables.items():
            self.counts.per_packet[name] = self.counts.per_packet.get(name, 0) + t.num_rows
        return tables, records

    def _table_from_records(self, name: str, rec: np.ndarray) -> pa.Table:
        schema = self.schemas[name]
        tai = rec["coarse"].astype(np.float64) + rec["fine"] / 65536.0
        cols = [pa.array(tai_to_unix_ns(tai), type=pa.int64()).cast(schema.field("time").type),
                pa.array(tai), pa.array(rec["seq"].astype(np.uint16))]
        for f in list(schema)[3:]:
            col = rec[f.name]
            if pa.types.is_fixed_size_binary(f.type):
                data = np.ascontiguousarray(col).tobytes()
                cols.append(pa.FixedSizeBinaryArray.from_buffers(f.type, len(col), [None, pa.py_buffer(data)]))
            else:
                cols.append(pa.array(np.ascontiguousarray(col), type=f.type))
        return pa.Table.from_arrays(cols, schema=schema)

    def _variable_tables(self, buf: bytes, offsets: np.ndarray, lengths: np.ndarray) -> dict[str, pa.Table]:
        rows: dict[str, list] = {}
        for o, n in zip(offsets.tolist(), lengths.tolist()):
            try:
                pkt = self.codec.decode_tm(buf[o:o + n])
            except PacketError:
                continue
            rows.setdefault(pkt.name, []).append(pkt)
        out = {}
        for name, pkts in rows.items():
            schema = self.schemas[name]
            tai = np.array([p.tai for p in pkts], dtype=np.float64)
            cols = {"time": pa.array(tai_to_unix_ns(tai)).cast(schema.field("time").type), "tai": pa.array(tai),
                    "seq": pa.array(np.array([p.seq for p in pkts], dtype=np.uint16))}
            for f in list(schema)[3:]:
                cols[f.name] = pa.array([p.values[f.name] for p in pkts], type=f.type)
            out[name] = pa.Table.from_pydict(cols, schema=schema)
        return out
