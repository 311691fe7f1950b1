"""Shared by the HAPI tests: a small synthetic archive, the official schema validator, and a
real server process on a loopback ephemeral port."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import httpx
import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from ground.archive_layout import arrow_schema, packet_dir
from ground.hapi.synthetic_archive import write_days
from protocol.opals import DICTIONARY

SCHEMA_PATH = Path("/work/shared/hapi/HAPI-data-access-schema-3.3.json")
REPO_SCHEMA_PATH = Path(__file__).parent / "data" / "hapi" / "HAPI-data-access-schema-3.3.json"
FIRST_DAY = "2026-03-01"


def schema_validators() -> dict[str, Draft7Validator]:
    """Validators for the schema's response types; its ``"$ref": "/HAPI"`` style references
    resolve to the top-level definitions carrying that ``id``."""
    path = REPO_SCHEMA_PATH if REPO_SCHEMA_PATH.exists() else SCHEMA_PATH
    schema = json.loads(path.read_text())
    resources = []
    for key, sub in schema.items():
        if isinstance(sub, dict) and "id" in sub:
            resources.append((sub["id"], Resource.from_contents(sub, default_specification=DRAFT7)))
    registry = Registry().with_resources(resources)
    return {name: Draft7Validator(schema[name], registry=registry)
            for name in ("about", "capabilities", "catalog", "info", "error")}


def build_archive(root: Path) -> Path:
    """Two days of HOUSEKEEPING at 1 Hz, one day of SAFETY, EVENT and TRACKING (10 Hz, 2 h)."""
    tm = DICTIONARY.telemetry
    write_days(root, tm["HOUSEKEEPING"], FIRST_DAY, 2, 1.0, seed=1)
    write_days(root, tm["SAFETY"], FIRST_DAY, 1, 1.0, seed=2)
    write_days(root, tm["EVENT"], FIRST_DAY, 1, 0.02, seed=3)
    write_days(root, tm["COMMAND_ACK"], FIRST_DAY, 1, 0.01, seed=4)
    return root


def archive_table(root: Path, packet: str, start: str, stop: str) -> pa.Table:
    """What the archive holds for [start, stop), read independently of the server, time-sorted."""
    dataset = ds.dataset(packet_dir(root, packet), format="parquet", schema=arrow_schema(DICTIONARY.telemetry[packet]),
                         exclude_invalid_files=False)
    ts = pa.timestamp("ns", tz="UTC")
    lo = pa.scalar(int(np.datetime64(start.rstrip("Z"), "ns").astype(np.int64)), ts)
    hi = pa.scalar(int(np.datetime64(stop.rstrip("Z"), "ns").astype(np.int64)), ts)
    table = dataset.to_table(filter=(ds.field("time") >= lo) & (ds.field("time") < hi))
    return table.sort_by("time")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def live_server(archive: Path) -> Iterator[str]:
    """``opals-ground serve`` in a real subprocess; yields its ``http://127.0.0.1:PORT/hapi``."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "ground.cli", "serve", "--archive", str(archive),
                             "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/hapi"
    try:
        for _ in range(200):
            if proc.poll() is not None:
                raise RuntimeError(f"server exited: {proc.stdout.read().decode()}")
            try:
                if httpx.get(f"{url}/capabilities", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        else:
            raise RuntimeError("server did not start")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
