"""Run a job: every work unit is scanned (filters pushed into Parquet), passed through the chain of
modifying maps in trusted code, then handed to the analyst's code in a sandbox. Units run in a
local process pool (embedded) or on a Dask distributed cluster; both return the same bytes, and
the driver assembles them in unit order, so results do not depend on the engine.

Job kinds: ``mapreduce`` — ``map(record) -> iterable of (key, value)`` per unit, then one
sandboxed ``reduce(key, values)`` over the grouped pairs (keys sorted by their JSON text);
``batches`` — ``map(batch) -> table`` per unit, results concatenated as an Arrow IPC stream.
"""
from __future__ import annotations

import concurrent.futures as cf
import json
import multiprocessing
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence

import pyarrow as pa
import pyarrow.ipc

from ground.share.chain import ChainPlan
from ground.share.sandbox import SandboxLimits, prepare_job_dir, run_sandboxed
from ground.share.scan import WorkUnit, scan_unit

JOB_KINDS = ("mapreduce", "batches")
RESULT_FILES = {"mapreduce": "result.jsonl", "batches": "result.arrows"}
MEDIA_TYPES = {"mapreduce": "application/x-ndjson", "batches": "application/vnd.apache.arrow.stream"}


class JobFailed(RuntimeError):
    """The job cannot complete; the message is the reason reported to its submitter."""


@dataclass(frozen=True)
class JobCode:
    kind: str
    code: str


@dataclass(frozen=True)
class UnitOutcome:
    index: int
    records: int
    ok: bool
    reason: str
    output: bytes
    cpu_seconds: float = 0.0  # trusted side (scan + maps) + sandbox (self-reported)


@dataclass(frozen=True)
class JobStats:
    units: int
    records: int
    result_bytes: int
    cpu_seconds: float = 0.0

    def __eq__(self, other: object) -> bool:  # CPU time is a measurement, not part of the result
        return isinstance(other, JobStats) and (self.units, self.records, self.result_bytes) == \
            (other.units, other.records, other.result_bytes)


def _write_input(table: pa.Table, path: Path) -> None:
    with pa.OSFile(str(path), "wb") as sink:
        with pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)


def run_unit(index: int, plan: ChainPlan, unit: WorkUnit, job: JobCode, limits: SandboxLimits) -> UnitOutcome:
    """One unit end to end; runs in a pool process or on a Dask worker. Returns the sandbox's
    output bytes (no shared filesystem needed besides the archive itself)."""
    cpu0 = time.process_time()
    batches = list(scan_unit(unit, plan.raw_schema, list(plan.scan_columns), plan.scan_filter()))
    table = pa.Table.from_batches(batches) if batches else plan.scan_schema().empty_table()
    table = plan.apply(table)
    if table.num_rows == 0:
        return UnitOutcome(index, 0, True, "", b"", time.process_time() - cpu0)
    work = Path(tempfile.mkdtemp(prefix="opals-share-"))
    try:
        prepare_job_dir(work / "job", job.code)
        _write_input(table, work / "job" / "data.arrow")
        mode = "map_records" if job.kind == "mapreduce" else "map_batches"
        result = run_sandboxed(work / "job", work / "out", mode, limits)
        cpu = time.process_time() - cpu0 + result.cpu_seconds
        if not result.ok:
            last = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else ""
            return UnitOutcome(index, table.num_rows, False, f"{result.reason}: {last}".rstrip(": "), b"")
        return UnitOutcome(index, table.num_rows, True, "",
                           result.output.read_bytes() if result.output.exists() else b"", cpu)
    finally:
        shutil.rmtree(work, ignore_errors=True)


class Engine(Protocol):
    def run(self, fn: Callable[..., UnitOutcome], calls: Sequence[tuple]) -> list[UnitOutcome]: ...
    def close(self) -> None: ...


class LocalEngine:
    """A process pool on this machine (forkserver: the service has threads)."""

    def __init__(self, workers: int = 2) -> None:
        self.workers = workers
        self._pool: cf.ProcessPoolExecutor | None = None

    def run(self, fn: Callable[..., UnitOutcome], calls: Sequence[tuple]) -> list[UnitOutcome]:
        if self._pool is None:
            self._pool = cf.ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("forkserver"))
        try:
            return list(self._pool.map(fn, *zip(*calls))) if calls else []
        except cf.process.BrokenProcessPool:
            self.close()  # the next job gets a fresh pool
            raise JobFailed("a worker process died while running the job") from None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


class DaskEngine:
    """The same units on a Dask distributed cluster; the client belongs to the service."""

    def __init__(self, address: str) -> None:
        from distributed import Client
        self.address = address.replace("dask://", "tcp://", 1)
        self._client = Client(self.address, set_as_default=False)

    def run(self, fn: Callable[..., UnitOutcome], calls: Sequence[tuple]) -> list[UnitOutcome]:
        if not calls:
            return []
        futures = self._client.map(fn, *zip(*calls), pure=False)
        return self._client.gather(futures)

    def close(self) -> None:
        self._client.close()


def open_engine(spec: str | None, workers: int = 2) -> Engine:
    """``None``/``local`` -> process pool; ``dask://host:port`` -> Dask cluster."""
    if not spec or spec == "local":
        return LocalEngine(workers)
    if spec.startswith(("dask://", "tcp://")):
        return DaskEngine(spec)
    raise ValueError(f"unknown engine {spec!r} (use local or dask://host:port)")


def _merge_batches(outcomes: Sequence[UnitOutcome], result: Path) -> None:
    writer = schema = None
    with open(result, "wb") as sink:
        for o in outcomes:
            if not o.output:
                continue
            reader = pa.ipc.open_stream(o.output)
            if writer is None:
                schema = reader.schema
                writer = pa.ipc.new_stream(sink, schema)
            elif reader.schema != schema:
                raise JobFailed(f"unit {o.index}: map returned schema {reader.schema} after {schema}")
            for batch in reader:
                writer.write_batch(batch)
        if writer is not None:
            writer.close()


def _group_pairs(outcomes: Sequence[UnitOutcome]) -> list[tuple[str, Any, list]]:
    groups: dict[str, tuple[Any, list]] = {}
    for o in outcomes:
        for line in o.output.decode("utf-8").splitlines():
            key, value = json.loads(line)
            text = json.dumps(key, sort_keys=True)
            groups.setdefault(text, (key, []))[1].append(value)
    return [(text, key, values) for text, (key, values) in sorted(groups.items())]


def _reduce(groups: list[tuple[str, Any, list]], job: JobCode, limits: SandboxLimits, result: Path) -> None:
    if not groups:
        result.write_bytes(b"")
        return
    work = Path(tempfile.mkdtemp(prefix="opals-share-reduce-"))
    try:
        prepare_job_dir(work / "job", job.code)
        with open(work / "job" / "groups.jsonl", "w", encoding="utf-8") as out:
            for _, key, values in groups:
                out.write(json.dumps([key, values]) + "\n")
        (work / "job" / "groups.jsonl").chmod(0o644)
        outcome = run_sandboxed(work / "job", work / "out", "reduce", limits)
        if not outcome.ok:
            last = outcome.stderr.strip().splitlines()[-1] if outcome.stderr.strip() else ""
            raise JobFailed(f"reduce: {outcome.reason}: {last}".rstrip(": "))
        shutil.copyfile(outcome.output, result)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def execute(plan: ChainPlan, units: Sequence[WorkUnit], job: JobCode, engine: Engine, result: Path,
            limits: SandboxLimits = SandboxLimits()) -> JobStats:
    """Run ``job`` over ``units`` through ``plan``; writes ``result`` atomically (tmp + rename)."""
    if job.kind not in JOB_KINDS:
        raise JobFailed(f"unknown job kind {job.kind!r} (use {' or '.join(JOB_KINDS)})")
    outcomes = sorted(engine.run(run_unit, [(i, plan, u, job, limits) for i, u in enumerate(units)]),
                      key=lambda o: o.index)
    failed = [o for o in outcomes if not o.ok]
    if failed:
        raise JobFailed(f"unit {failed[0].index}: {failed[0].reason}")
    tmp = result.with_name(result.name + ".partial")
    if job.kind == "batches":
        _merge_batches(outcomes, tmp)
    else:
        _reduce(_group_pairs(outcomes), job, limits, tmp)
    tmp.replace(result)
    return JobStats(len(units), sum(o.records for o in outcomes), result.stat().st_size,
                    sum(o.cpu_seconds for o in outcomes))
