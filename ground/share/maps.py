"""A modifying map: what one party lets through — a row filter, a column selection and per-column
transforms, plus optional time-bucket averaging. Declarative (JSON), so a reseller's map can be
shipped to its upstream and run there as trusted code without running anyone's Python.

Order inside one map: filter (on the map's input) -> transforms -> column selection -> averaging.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

OPS = ("==", "!=", "<", "<=", ">", ">=", "in", "not_in")
TRANSFORM_KINDS = ("redact", "hash", "null", "round_time", "round", "scale", "custom")


class MapError(ValueError):
    """A map that cannot be accepted, with the reason."""


@dataclass(frozen=True)
class Predicate:
    """``column op value``; all predicates of a map are AND-ed. Times are ISO-8601 strings."""

    column: str
    op: str
    value: Any

    def __post_init__(self) -> None:
        if self.op not in OPS:
            raise MapError(f"unknown filter operator {self.op!r} (use one of {', '.join(OPS)})")
        if self.op in ("in", "not_in") and not isinstance(self.value, (list, tuple)):
            raise MapError(f"operator {self.op} needs a list value")
        if isinstance(self.value, list):
            object.__setattr__(self, "value", tuple(self.value))


@dataclass(frozen=True)
class Transform:
    """One per-column transform.

    redact: replace every value by ``value`` (a constant of the column's type, default 0 / b"");
    hash: salted SHA-256, hex, first 16 characters (joins still work, values do not leak);
    null: all values null; round_time: floor a timestamp (or TAI seconds) to ``seconds``;
    round: round a number to ``digits`` decimals; scale: ``value * factor + offset`` (unit
    conversion, new ``units``); custom: a trusted provider function ``"module:function"``
    taking and returning a pyarrow Array (only in a provider's own maps).
    """

    column: str
    kind: str
    seconds: float | None = None
    digits: int | None = None
    factor: float | None = None
    offset: float = 0.0
    units: str | None = None
    salt: str = ""
    value: Any = None
    function: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in TRANSFORM_KINDS:
            raise MapError(f"unknown transform {self.kind!r} (use one of {', '.join(TRANSFORM_KINDS)})")
        if self.kind == "round_time" and not (self.seconds and self.seconds > 0):
            raise MapError("round_time needs seconds > 0")
        if self.kind == "round" and self.digits is None:
            raise MapError("round needs digits")
        if self.kind == "scale" and self.factor is None:
            raise MapError("scale needs factor")
        if self.kind == "custom" and not (self.function and ":" in self.function):
            raise MapError("custom needs function='module:function'")


@dataclass(frozen=True)
class ModifyingMap:
    """A party's view rule. ``columns=None`` keeps every column it receives."""

    filters: tuple[Predicate, ...] = ()
    columns: tuple[str, ...] | None = None
    transforms: tuple[Transform, ...] = ()
    average_seconds: float | None = None

    def __post_init__(self) -> None:
        if self.columns is not None:
            object.__setattr__(self, "columns", tuple(self.columns))
        object.__setattr__(self, "filters", tuple(self.filters))
        object.__setattr__(self, "transforms", tuple(self.transforms))
        if self.average_seconds is not None and self.average_seconds <= 0:
            raise MapError("average_seconds must be > 0")

    @property
    def has_custom(self) -> bool:
        return any(t.kind == "custom" for t in self.transforms)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["filters"] = [[p.column, p.op, list(p.value) if isinstance(p.value, tuple) else p.value]
                        for p in self.filters]
        defaults = {f.name: f.default for f in fields(Transform)}
        d["transforms"] = [{k: v for k, v in asdict(t).items() if k in ("column", "kind") or v != defaults[k]}
                           for t in self.transforms]
        d["columns"] = list(self.columns) if self.columns is not None else None
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> "ModifyingMap":
        """Parse a map from JSON; any malformed part raises MapError with the reason."""
        if not d:
            return cls()
        if not isinstance(d, dict):
            raise MapError("a map is a JSON object")
        unknown = set(d) - {"filters", "columns", "transforms", "average_seconds"}
        if unknown:
            raise MapError(f"unknown map keys: {', '.join(sorted(unknown))}")
        try:
            filters = []
            for p in d.get("filters") or ():
                if isinstance(p, dict):
                    filters.append(Predicate(p["column"], p["op"], p["value"]))
                else:
                    column, op, value = p
                    filters.append(Predicate(str(column), str(op), value))
            transforms = tuple(Transform(**t) for t in d.get("transforms") or ())
            columns = d.get("columns")
            if columns is not None and not all(isinstance(c, str) for c in columns):
                raise MapError("columns must be names")
            return cls(tuple(filters), tuple(columns) if columns is not None else None, transforms,
                       d.get("average_seconds"))
        except MapError:
            raise
        except (TypeError, ValueError, KeyError) as exc:
            raise MapError(f"malformed map: {exc}") from None


IDENTITY = ModifyingMap()
__all__ = ["MapError", "ModifyingMap", "Predicate", "Transform", "IDENTITY"]
