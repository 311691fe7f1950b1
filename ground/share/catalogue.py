"""Catalogue entries (the marketplace): for each source a user may see, the chain of parties
behind it, the attributes it requires, its approximate size, the exact schema the analyst's code
receives (also as a serialized Arrow schema, so a reseller can build on it) and a small synthetic
sample with that schema, to test code against before sending it."""
from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import pyarrow as pa

from ground.share.synthetic import synthetic_table

SAMPLE_ROWS = 5


def schema_to_b64(schema: pa.Schema) -> str:
    return base64.b64encode(schema.serialize().to_pybytes()).decode()


def schema_from_b64(text: str) -> pa.Schema:
    return pa.ipc.read_schema(pa.py_buffer(base64.b64decode(text)))


def jsonable(v: Any) -> Any:
    if isinstance(v, bytes):
        return v.hex()
    if isinstance(v, (dt.datetime, dt.date)):
        return v.isoformat()
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return v


def describe_schema(schema: pa.Schema) -> list[dict[str, str]]:
    out = []
    for f in schema:
        md = f.metadata or {}
        out.append({"name": f.name, "type": str(f.type), "units": md.get(b"units", b"").decode(),
                    "description": md.get(b"description", b"").decode()})
    return out


def sample_rows(schema: pa.Schema, n: int = SAMPLE_ROWS) -> list[dict[str, Any]]:
    return [{k: jsonable(v) for k, v in row.items()} for row in synthetic_table(schema, n, seed=7).to_pylist()]


def entry(name: str, description: str, chain: list[str], see_attrs: tuple[str, ...], run_attrs: tuple[str, ...],
          rows_at_most: int, schema: pa.Schema) -> dict[str, Any]:
    return {"name": name, "description": description, "chain": chain,
            "required": {"see": list(see_attrs), "run": list(run_attrs)},
            "rows_at_most": rows_at_most, "schema": describe_schema(schema),
            "arrow_schema": schema_to_b64(schema), "sample": sample_rows(schema)}
