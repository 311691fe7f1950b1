"""HAPI datasets derived from the dictionary: one per fixed-size telemetry packet, each
parameter with the units, description and fill of its dictionary field.

How the dictionary's richer types appear in HAPI (the conventions this server documents):

* the primary time parameter ``Time`` is the packet's CUC time code as UTC (leap seconds
  applied by the archive), written ``yyyy-mm-ddThh:mm:ss.nnnnnnnnnZ``;
* ``tai`` (double, s) and ``seq`` (integer) are the archive's header columns;
* integer fields that fit a signed 32-bit integer (u8/i8/u16/i16/i32) are HAPI ``integer``;
  u32/u64/i64 fields and all floats are ``double`` (a u32 is exact in a double);
* an enumerated field (``states``) is its raw ``integer`` (the description lists the states)
  plus a derived ``<field>_name`` string holding the state name (``UNDEFINED`` for a value the
  dictionary does not know);
* a status word (``bits``) is its raw ``integer`` plus one derived 0/1 ``integer`` parameter per
  named bit, ``<field>_<bit>``;
* fixed-length byte fields are lowercase hex strings; variable-length fields (FILE_PDU) have no
  HAPI representation, so that packet is not a dataset;
* a field's valid range and yellow/red limits are ``x_validRange``, ``x_yellowLimits`` and
  ``x_redLimits`` (``[low, high]``) on its parameter;
* EVENT adds ``event_name`` and ``message``: the event's name and its message rendered with the
  dictionary's format and argument states (rendered once per distinct event, not per row).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np
import pyarrow as pa

from ground.hapi.timefmt import TIME_LENGTH, format_times
from protocol.model import Field, TelemetryPacket
from protocol.registry import Dictionary

UNDEFINED = "UNDEFINED"
INT_FILL = -2_147_483_648  # for integer values the archive lacks (a column older segments do not have)
_INTEGER_TYPES = {"u1", "i1", "u2", "i2", "i4"}

# A parameter's values for one Arrow record batch, as a numpy array in the parameter's HAPI
# representation: int32 (integer), float64 (double) or fixed-width bytes ``S<length>``.
Compute = Callable[[pa.RecordBatch], np.ndarray]


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str  # isotime | double | integer | string
    compute: Compute
    sources: tuple[str, ...]  # archive columns the values are computed from
    units: str | None = None
    description: str = ""
    fill: str | None = None
    length: int | None = None
    extra: tuple[tuple[str, object], ...] = ()  # x_ keys (dictionary facts HAPI has no name for)

    def metadata(self) -> dict:
        meta: dict = {"name": self.name, "type": self.type, "units": self.units, "fill": self.fill}
        if self.length is not None:
            meta["length"] = self.length
        if self.description:
            meta["description"] = self.description
        meta.update(self.extra)
        return meta

    @property
    def numpy_dtype(self) -> np.dtype:
        if self.type in ("isotime", "string"):
            return np.dtype(f"S{self.length}")
        return np.dtype("<i4" if self.type == "integer" else "<f8")


@dataclass(frozen=True)
class Dataset:
    id: str
    packet: str  # the archive's packet directory under parquet/
    title: str
    description: str
    parameters: tuple[Parameter, ...]
    cadence: str | None = None
    # Derived products: ``derive(archive_batches, start_ns, stop_ns)`` turns the packet's batches
    # (columns ``derive_columns``, scanned to ``lookahead_ns`` past stop) into the parameters' batches.
    derive: Callable[[Iterator[pa.RecordBatch], int, int], Iterator[pa.RecordBatch]] | None = None
    derive_columns: tuple[str, ...] = ()
    lookahead_ns: int = 0
    _by_name: dict[str, Parameter] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        """HAPI parameter names are unique, even ignoring case (a derived ``<field>_name`` must
        not shadow a dictionary field): refuse to build a dataset that breaks this."""
        folded = [p.name.casefold() for p in self.parameters]
        if len(set(folded)) != len(folded):
            dupes = sorted({n for n in folded if folded.count(n) > 1})
            raise ValueError(f"dataset {self.id}: parameter names clash: {dupes}")
        self._by_name.update({p.name: p for p in self.parameters})

    def parameter(self, name: str) -> Parameter | None:
        return self._by_name.get(name)


# ---------------------------------------------------------------- per-batch value computations

def _column(batch: pa.RecordBatch, name: str, missing: int = -1) -> np.ndarray:
    """An integer column as int64, a missing value (null) as ``missing``."""
    col = batch.column(name)
    if col.null_count:
        col = col.cast(pa.int64()).fill_null(missing)
    return col.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)


def _time(batch: pa.RecordBatch) -> np.ndarray:
    ns = batch.column("time").cast(pa.int64()).to_numpy(zero_copy_only=False)
    return format_times(ns)


def _numeric(name: str, dtype: str) -> Compute:
    """A column as int32/float64; nulls (missing values) become the declared fill, never 0."""
    def compute(batch: pa.RecordBatch) -> np.ndarray:
        col = batch.column(name)
        if col.null_count:
            if dtype == "<f8":
                return col.cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False)
            return col.cast(pa.int64()).fill_null(INT_FILL).to_numpy(zero_copy_only=False).astype(dtype)
        return col.to_numpy(zero_copy_only=False).astype(dtype, copy=False)
    return compute


def _lookup(name: str, table: np.ndarray) -> Compute:
    """Values -> names through a dense lookup table (the last entry is the UNDEFINED name)."""
    def compute(batch: pa.RecordBatch) -> np.ndarray:
        raw = _column(batch, name)
        idx = np.where((raw >= 0) & (raw < len(table) - 1), raw, len(table) - 1)
        return table[idx]
    return compute


def _bit(name: str, bit: int) -> Compute:
    def compute(batch: pa.RecordBatch) -> np.ndarray:
        raw = _column(batch, name)
        return np.where(raw >= 0, (raw >> bit) & 1, INT_FILL).astype("<i4")
    return compute


def _hex(name: str, size: int) -> Compute:
    def compute(batch: pa.RecordBatch) -> np.ndarray:
        col = batch.column(name)
        raw = np.frombuffer(col.buffers()[1], dtype=np.uint8)[col.offset * size:(col.offset + len(col)) * size]
        digits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
        out = np.empty((len(col), 2 * size), dtype=np.uint8)
        raw = raw.reshape(len(col), size)
        out[:, 0::2] = digits[raw >> 4]
        out[:, 1::2] = digits[raw & 15]
        return out.view(f"S{2 * size}").reshape(len(col))
    return compute


def _names_table(states: dict[int, str]) -> np.ndarray:
    size = max(states) + 2
    names = [UNDEFINED] * size
    for value, name in states.items():
        names[value] = name
    width = max(len(n) for n in names)
    return np.array([n.encode() for n in names], dtype=f"S{width}")


def _state_description(f: Field) -> str:
    states = ", ".join(f"{k}={v}" for k, v in sorted(f.states.items()))
    return f"{f.description}. States: {states}" if f.description else f"States: {states}"


def _bits_description(f: Field) -> str:
    bits = ", ".join(f"bit {b}={n}" for n, b in sorted(f.bits.items(), key=lambda kv: kv[1]))
    return f"{f.description}. Bits: {bits}" if f.description else f"Bits: {bits}"


def _fill(f: Field, kind: str) -> str:
    """The dictionary's fill, else the one the server writes for a missing value."""
    if f.fill is not None:
        return repr(float(f.fill)) if kind == "double" else str(int(f.fill))
    return "NaN" if kind == "double" else str(INT_FILL)


def field_parameters(f: Field) -> list[Parameter]:
    """The HAPI parameters one dictionary field becomes (see the module docstring)."""
    units = f.units or None
    if f.is_bytes:
        return [Parameter(f.name, "string", _hex(f.name, f.size), (f.name,), None,
                          f.description or "Raw bytes as hex", None, 2 * f.size)]
    kind = "integer" if f.numpy_type in _INTEGER_TYPES else "double"
    dtype = "<i4" if kind == "integer" else "<f8"
    description = _state_description(f) if f.states else _bits_description(f) if f.bits else f.description
    extra: list[tuple[str, object]] = []
    if f.valid_range:
        extra.append(("x_validRange", list(f.valid_range)))
    if f.limits and f.limits.yellow:
        extra.append(("x_yellowLimits", list(f.limits.yellow)))
    if f.limits and f.limits.red:
        extra.append(("x_redLimits", list(f.limits.red)))
    params = [Parameter(f.name, kind, _numeric(f.name, dtype), (f.name,), units, description, _fill(f, kind),
                        extra=tuple(extra))]
    if f.states:
        table = _names_table(f.states)
        params.append(Parameter(f"{f.name}_name", "string", _lookup(f.name, table), (f.name,), None,
                                f"State name of {f.name}", UNDEFINED, table.dtype.itemsize))
    if f.bits:
        for bit_name, bit in sorted(f.bits.items(), key=lambda kv: kv[1]):
            params.append(Parameter(f"{f.name}_{bit_name}", "integer", _bit(f.name, bit), (f.name,), None,
                                    f"Bit {bit} of {f.name}: {bit_name} (1 = set)", str(INT_FILL)))
    return params


def header_parameters() -> list[Parameter]:
    return [
        Parameter("Time", "isotime", _time, ("time",), "UTC", "Packet time (CUC time code) in UTC",
                  None, TIME_LENGTH),
        Parameter("tai", "double", _numeric("tai", "<f8"), ("tai",), "s", "Packet time, TAI seconds since 1958"),
        Parameter("seq", "integer", _numeric("seq", "<i4"), ("seq",), None, "CCSDS packet sequence count"),
    ]


def event_parameters(dictionary: Dictionary) -> list[Parameter]:
    """Derived EVENT parameters: the event's name and its rendered message."""
    events = {e.event_id: e for e in dictionary.events.values()}
    name_width = max((len(e.name) for e in events.values()), default=1)
    names_map = {eid: e.name.encode() for eid, e in events.items()}
    message_width = 160
    args = ("arg0", "arg1", "arg2", "arg3")

    def event_name(batch: pa.RecordBatch) -> np.ndarray:
        ids = _column(batch, "event_id").astype(np.int64)
        uniq, inverse = np.unique(ids, return_inverse=True)
        table = np.array([names_map.get(int(u), UNDEFINED.encode()) for u in uniq] or [b""], dtype=f"S{name_width}")
        return table[inverse] if len(ids) else np.empty(0, dtype=f"S{name_width}")

    def message(batch: pa.RecordBatch) -> np.ndarray:
        rows = np.stack([_column(batch, c).astype(np.int64) for c in ("event_id", *args)], axis=1)
        if len(rows) == 0:
            return np.empty(0, dtype=f"S{message_width}")
        uniq, inverse = np.unique(rows, axis=0, return_inverse=True)
        rendered = []
        for eid, *values in uniq.tolist():
            ev = events.get(eid)
            text = ev.render(values) if ev else f"Unknown event {eid} {values}"
            rendered.append(text.encode("utf-8")[:message_width].decode("utf-8", "ignore").encode("utf-8"))
        return np.array(rendered, dtype=f"S{message_width}")[inverse.reshape(-1)]

    return [
        Parameter("event_name", "string", event_name, ("event_id",), None, "Event name from the dictionary",
                  UNDEFINED, name_width),
        Parameter("message", "string", message, ("event_id", *args), None,
                  "Event message rendered from the dictionary format and argument states", None, message_width),
    ]


def _cadence(rate_hz: float | None) -> str | None:
    if not rate_hz:
        return None
    period = 1.0 / rate_hz
    return f"PT{period:g}S"


def packet_dataset(p: TelemetryPacket, dictionary: Dictionary) -> Dataset:
    params = header_parameters()
    for f in p.fields:
        params.extend(field_parameters(f))
    if p.name == "EVENT":
        params.extend(event_parameters(dictionary))
    return Dataset(id=p.name, packet=p.name, title=f"OPALS {p.name.replace('_', ' ').lower()} telemetry",
                   description=f"{p.description} APID {p.apid:#05x}.", parameters=tuple(params),
                   cadence=_cadence(p.rate_hz))


def datasets_from_dictionary(dictionary: Dictionary) -> dict[str, Dataset]:
    """Every fixed-size telemetry packet of the dictionary as a HAPI dataset, by id."""
    from ground.hapi.passes import passes_dataset

    out = {p.name: packet_dataset(p, dictionary) for p in dictionary.telemetry.values() if not p.is_variable}
    if "EVENT" in dictionary.telemetry and "PASS_STARTED" in dictionary.events:
        out["PASSES"] = passes_dataset(dictionary)
    return out
