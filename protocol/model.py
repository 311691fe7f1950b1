"""The dictionary's record types: telemetry packets, commands, events and their fields.

Each field's wire type is a Construct format field (``Int16ub``, ``Float32b``...), so the
dictionary is written once, with Construct, and everything else is derived from it.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

import construct as cs


class Severity(enum.IntEnum):
    """F Prime's event severities, so operators from that world read ours without a table."""

    DIAGNOSTIC = 0
    ACTIVITY_LO = 1
    ACTIVITY_HI = 2
    COMMAND = 3
    WARNING_LO = 4
    WARNING_HI = 5
    FATAL = 6


@dataclass(frozen=True)
class Limits:
    """Yellow and red bands as (low, high); a value outside a band is in that alarm."""

    yellow: tuple[float, float] | None = None
    red: tuple[float, float] | None = None


_FMT_ALIASES = {"L": "I", "l": "i"}


@dataclass(frozen=True)
class Field:
    name: str
    type: cs.FormatField
    units: str = ""
    description: str = ""
    valid_range: tuple[float, float] | None = None
    limits: Limits | None = None
    states: dict[int, str] | None = None
    bits: dict[str, int] | None = None  # name -> bit number, for status words
    fill: float | int | None = None

    @property
    def is_bytes(self) -> bool:
        """A fixed-length byte string (``construct.Bytes(n)``), e.g. an embedded command."""
        return isinstance(self.type, cs.Bytes)

    @property
    def fmt(self) -> str:
        """struct format without byte order (derived from the Construct type)."""
        if self.type is None:
            return ""
        if self.is_bytes:
            return f"{self.type.length}s"
        # Construct spells 32-bit integers "L"/"l"; in standard sizes they are "I"/"i".
        return _FMT_ALIASES.get(code := self.type.fmtstr.lstrip("<>=!"), code)

    @property
    def size(self) -> int:
        return 0 if self.type is None else self.type.sizeof()

    @property
    def is_float(self) -> bool:
        return self.fmt in "efd"

    @property
    def is_variable(self) -> bool:
        return self.type is None

    @property
    def numpy_type(self) -> str:
        if self.is_bytes:
            return f"V{self.size}"
        return {"B": "u1", "b": "i1", "H": "u2", "h": "i2", "I": "u4", "i": "i4",
                "Q": "u8", "q": "i8", "f": "f4", "d": "f8", "e": "f2"}[self.fmt]

    def construct(self) -> cs.Construct:
        if self.type is None:
            return self.name / cs.GreedyBytes
        return self.name / self.type

    def check(self, value: Any) -> str | None:
        """Why ``value`` is not acceptable for this field, or None when it is."""
        if self.type is None:
            if not isinstance(value, (bytes, bytearray, memoryview)):
                return f"{self.name}: expected bytes"
            return None
        if self.is_bytes:
            if not isinstance(value, (bytes, bytearray)) or len(value) > self.size:
                return f"{self.name}: expected at most {self.size} bytes"
            return None
        if isinstance(value, str) and self.states:
            if value not in self.states.values():
                return f"{self.name}: unknown state {value!r} (one of {sorted(self.states.values())})"
            return None
        if isinstance(value, bool):
            value = int(value)
        if not isinstance(value, (int, float)):
            return f"{self.name}: expected a number, got {type(value).__name__}"
        if not self.is_float:
            if isinstance(value, float) and not value.is_integer():
                return f"{self.name}: expected an integer, got {value!r}"
            lo, hi = _int_bounds(self.fmt)
            if not lo <= value <= hi:
                return f"{self.name}: {value} does not fit {self.fmt!r}"
            if self.states is not None and int(value) not in self.states:
                return f"{self.name}: {value} is not one of the states {sorted(self.states)}"
        elif value != value:  # NaN
            return f"{self.name}: NaN"
        if self.valid_range is not None:
            lo, hi = self.valid_range
            if not lo <= value <= hi:
                return f"{self.name}: {value} outside valid range [{lo}, {hi}] {self.units}".rstrip()
        return None

    def raw(self, value: Any) -> Any:
        """Engineering value (state name or number) -> wire value."""
        if self.is_bytes:
            return bytes(value).ljust(self.size, b"\0")
        if isinstance(value, str) and self.states:
            return {v: k for k, v in self.states.items()}[value]
        if not self.is_float and isinstance(value, float):
            return int(value)
        return value


def _int_bounds(fmt: str) -> tuple[int, int]:
    bits = {"B": 8, "b": 8, "H": 16, "h": 16, "I": 32, "i": 32, "Q": 64, "q": 64}[fmt]
    if fmt.isupper():
        return 0, (1 << bits) - 1
    return -(1 << (bits - 1)), (1 << (bits - 1)) - 1


def bytes_field(name: str, description: str = "") -> Field:
    """A variable-length trailing byte field (file PDU containers)."""
    return Field(name=name, type=None, description=description)  # type: ignore[arg-type]


@dataclass(frozen=True)
class TelemetryPacket:
    name: str
    apid: int
    fields: tuple[Field, ...]
    description: str = ""
    rate_hz: float | None = None

    @property
    def is_variable(self) -> bool:
        return any(f.is_variable for f in self.fields)

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.name} has no field {name!r}")


@dataclass(frozen=True)
class Command:
    name: str
    opcode: int
    args: tuple[Field, ...] = ()
    description: str = ""
    hazardous: bool = False
    requires_arm: bool = False
    allowed_modes: tuple[str, ...] = ()  # empty: any mode
    preconditions: tuple[str, ...] = ()  # human-readable conditions flight checks

    def arg(self, name: str) -> Field:
        for a in self.args:
            if a.name == name:
                return a
        raise KeyError(f"{self.name} has no argument {name!r}")

    def validate(self, values: dict[str, Any]) -> list[str]:
        """Every reason the arguments are unacceptable (empty when they are fine)."""
        errors = []
        names = {a.name for a in self.args}
        for extra in sorted(set(values) - names):
            errors.append(f"{self.name}: unknown argument {extra!r}")
        for a in self.args:
            if a.name not in values:
                errors.append(f"{self.name}: missing argument {a.name!r}")
                continue
            why = a.check(values[a.name])
            if why:
                errors.append(f"{self.name}: {why}")
        return errors


@dataclass(frozen=True)
class Event:
    name: str
    event_id: int
    severity: Severity
    format: str
    args: tuple[str, ...] = ()  # names of the (up to four) int32 arguments, in order
    states: dict[str, dict[int, str]] = field(default_factory=dict)  # arg -> enum states
    description: str = ""

    def render(self, values: tuple[int, ...] | list[int]) -> str:
        named = {}
        for i, a in enumerate(self.args):
            v = int(values[i]) if i < len(values) else 0
            st = self.states.get(a)
            named[a] = st.get(v, str(v)) if st else v
        try:
            return self.format.format(**named)
        except (KeyError, IndexError, ValueError):
            return f"{self.name} {named}"
