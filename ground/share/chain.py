"""Compose a chain of modifying maps (provider first, then each reseller) into one plan, and run
it over Arrow tables.

Chaining can only narrow: each map sees only what the previous one let through, so filters are
AND-ed, column sets intersect and transforms apply in order. A filter that is still a predicate
on a raw archive column (no earlier map transformed that column or averaged rows) is pushed
into the Parquet scan; the rest run in memory at their own stage. Column selections never widen:
a reseller naming a withheld column simply does not get it.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import importlib
from dataclasses import dataclass
from functools import reduce
from typing import Any, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from ground.share.maps import MapError, ModifyingMap, Predicate, Transform

COUNT_COLUMN = "n"
TIME = "time"


def _scalar(value: Any, typ: pa.DataType) -> pa.Scalar:
    if pa.types.is_timestamp(typ) and isinstance(value, str):
        try:
            when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise MapError(f"value {value!r} does not fit column type {typ}: not an ISO-8601 time") from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.timezone.utc)
        return pa.scalar(when, type=typ)
    if pa.types.is_binary(typ) or pa.types.is_fixed_size_binary(typ):
        return pa.scalar(value.encode() if isinstance(value, str) else value, type=typ)
    if (pa.types.is_integer(typ) or pa.types.is_floating(typ)) and isinstance(value, (int, float)) \
            and not isinstance(value, bool):
        return pa.scalar(value)  # compared in a common wider type: out-of-range values are fine
    try:
        return pa.scalar(value).cast(typ)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, TypeError) as exc:
        raise MapError(f"value {value!r} does not fit column type {typ}: {exc}") from None


def predicate_expression(p: Predicate, schema: pa.Schema) -> pc.Expression:
    """The Arrow expression of ``p`` against ``schema`` (MapError if the column is not there)."""
    if p.column not in schema.names:
        raise MapError(f"filter on column {p.column!r}, which is not in the data this party receives")
    typ = schema.field(p.column).type
    col = pc.field(p.column)
    if p.op in ("in", "not_in"):
        values = pa.array([_scalar(v, typ).as_py() for v in p.value], type=typ)
        expr = col.isin(values)
        return ~expr if p.op == "not_in" else expr
    s = _scalar(p.value, typ)
    return {"==": col == s, "!=": col != s, "<": col < s, "<=": col <= s, ">": col > s,
            ">=": col >= s}[p.op]


def _and(exprs: Sequence[pc.Expression]) -> pc.Expression | None:
    return reduce(lambda a, b: a & b, exprs) if exprs else None


def _hash(arr: pa.Array, salt: str) -> pa.Array:
    def one(v: Any) -> str | None:
        if v is None:
            return None
        raw = v if isinstance(v, bytes) else repr(v).encode()
        return hashlib.sha256(salt.encode() + raw).hexdigest()[:16]
    return pa.array([one(v) for v in arr.to_pylist()], type=pa.string())


def apply_transform(t: Transform, arr: pa.Array) -> pa.Array:
    typ = arr.type
    if t.kind == "null":
        return pa.nulls(len(arr), typ)
    if t.kind == "redact":
        fill = t.value if t.value is not None else (b"" if pa.types.is_binary(typ) else
                                                     b"\0" * typ.byte_width if pa.types.is_fixed_size_binary(typ) else 0)
        if pa.types.is_timestamp(typ) and t.value is None:
            fill = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
        scalar = _scalar(fill, typ)
        try:
            scalar = scalar.cast(typ)  # same type as the column, always
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise MapError(f"redact value {fill!r} does not fit column type {typ}: {exc}") from None
        filled = pa.repeat(scalar, len(arr))
        return pc.if_else(pc.is_valid(arr), filled, pa.nulls(len(arr), typ)) if arr.null_count else filled
    if t.kind == "hash":
        return _hash(arr, t.salt)
    if t.kind == "round_time":
        if pa.types.is_timestamp(typ):
            ms = int(round(t.seconds * 1000))
            return pc.floor_temporal(arr, multiple=ms, unit="millisecond")
        return pc.multiply(pc.floor(pc.divide(pc.cast(arr, pa.float64()), t.seconds)), t.seconds)
    if t.kind == "round":
        if pa.types.is_integer(typ):  # rounding 250 (uint8) to tens gives 250 -> 250, 255 -> 260: widen first
            return pc.round(pc.cast(arr, pa.int64()), ndigits=t.digits)
        return pc.round(arr, ndigits=t.digits) if pa.types.is_floating(typ) else arr
    if t.kind == "scale":
        return pc.add(pc.multiply(pc.cast(arr, pa.float64()), t.factor), t.offset)
    if t.kind == "custom":
        module, _, name = t.function.partition(":")
        out = getattr(importlib.import_module(module), name)(arr)
        return out if isinstance(out, pa.Array) else pa.array(out)
    raise MapError(f"unknown transform {t.kind}")


def average(table: pa.Table, seconds: float) -> pa.Table:
    """Mean of every numeric column per ``seconds`` bucket of ``time``, plus the row count."""
    if TIME not in table.column_names:
        raise MapError("averaging needs the time column, which this party does not receive")
    numeric = [c for c, f in zip(table.column_names, table.schema)
               if c not in (TIME, "seq", COUNT_COLUMN) and (pa.types.is_integer(f.type) or pa.types.is_floating(f.type))]
    bucket = pc.floor_temporal(table[TIME], multiple=int(round(seconds * 1000)), unit="millisecond")
    counts = table[COUNT_COLUMN] if COUNT_COLUMN in table.column_names else pa.repeat(pa.scalar(1, pa.int64()), len(table))
    work = pa.table({TIME: bucket, COUNT_COLUMN: counts, **{c: table[c] for c in numeric}})
    aggs = [(c, "mean") for c in numeric] + [(COUNT_COLUMN, "sum")]
    out = work.group_by(TIME, use_threads=False).aggregate(aggs)
    names = {f"{c}_mean": c for c in numeric} | {f"{COUNT_COLUMN}_sum": COUNT_COLUMN}
    out = out.rename_columns([names.get(c, c) for c in out.column_names])
    out = out.select([TIME] + numeric + [COUNT_COLUMN]).sort_by(TIME)
    fields = [table.schema.field(TIME)] + [pa.field(c, pa.float64(), metadata=table.schema.field(c).metadata)
                                           for c in numeric] + [pa.field(COUNT_COLUMN, pa.int64())]
    return out.cast(pa.schema(fields))


@dataclass(frozen=True)
class ChainPlan:
    """A chain compiled against the archive's schema: what the scan does and what stays in memory."""

    raw_schema: pa.Schema
    stages: tuple[ModifyingMap, ...]
    pushed: tuple[Predicate, ...]
    residual: tuple[tuple[Predicate, ...], ...]  # per stage, run in memory
    scan_columns: tuple[str, ...]
    output_schema: pa.Schema

    @property
    def aggregates(self) -> bool:
        return any(m.average_seconds for m in self.stages)

    def scan_schema(self) -> pa.Schema:
        return pa.schema([self.raw_schema.field(c) for c in self.scan_columns], metadata=self.raw_schema.metadata)

    def scan_filter(self) -> pc.Expression | None:
        return _and([predicate_expression(p, self.raw_schema) for p in self.pushed])

    def apply_all(self, table: pa.Table) -> pa.Table:
        """The whole chain over an unfiltered table (what the scan would have pushed, then ``apply``)."""
        expr = self.scan_filter()
        return self.apply(table.filter(expr) if expr is not None else table)

    def apply(self, table: pa.Table) -> pa.Table:
        """Run every stage's in-memory part over a table scanned with ``scan_filter``."""
        for stage, residual in zip(self.stages, self.residual):
            table = _run_stage(table, stage, residual)
        return table


def _run_stage(table: pa.Table, m: ModifyingMap, filters: Sequence[Predicate]) -> pa.Table:
    expr = _and([predicate_expression(p, table.schema) for p in filters])
    if expr is not None:
        table = table.filter(expr)
    for t in m.transforms:
        if t.column in table.column_names:
            i = table.column_names.index(t.column)
            old = table.schema.field(i)
            try:
                new = apply_transform(t, table.column(i).combine_chunks())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError, TypeError) as exc:
                raise MapError(f"transform {t.kind} on {t.column} failed: {exc}") from None
            md = dict(old.metadata or {})
            if t.kind == "scale" and t.units is not None:
                md[b"units"] = t.units.encode()
            table = table.set_column(i, pa.field(old.name, new.type, metadata=md or None), new)
    if m.columns is not None:
        table = table.select([c for c in table.column_names if c in m.columns])
    if m.average_seconds:
        table = average(table, m.average_seconds)
    return table


def compose(raw_schema: pa.Schema, stages: Sequence[ModifyingMap]) -> ChainPlan:
    """Compile ``stages`` (provider's map first); MapError if a map asks for what it cannot see."""
    stages = tuple(stages)
    pushed: list[Predicate] = []
    residual: list[tuple[Predicate, ...]] = []
    touched: set[str] = set()
    aggregated = False
    schema = raw_schema
    empty = raw_schema.empty_table()
    for m in stages:
        keep: list[Predicate] = []
        for p in m.filters:
            predicate_expression(p, schema)  # validates against what this stage receives
            if not aggregated and p.column not in touched:
                pushed.append(p)
            else:
                keep.append(p)
        residual.append(tuple(keep))
        touched |= {t.column for t in m.transforms}
        empty = _run_stage(empty, m, keep)
        schema = empty.schema
        aggregated = aggregated or bool(m.average_seconds)
    if not empty.column_names:
        raise MapError("the chain leaves no columns: its column selections do not intersect")
    needed = {c for c in empty.column_names if c in raw_schema.names}
    needed |= {p.column for r in residual for p in r if p.column in raw_schema.names}
    if aggregated:
        needed.add(TIME)
    scan_columns = tuple(c for c in raw_schema.names if c in needed)
    return ChainPlan(raw_schema, stages, tuple(pushed), tuple(residual), scan_columns, empty.schema)
