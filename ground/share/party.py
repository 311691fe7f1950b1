"""A party of the marketplace: a provider (sources over its own archive) or a reseller (sources
chained after another party's source), or both. It verifies every assertion itself, keeps its own
jobs, runs provider jobs through the chain and the sandbox, and forwards reseller jobs upstream
under its own identity, wrapped with its own map, so the upstream never learns who the analyst is.
"""
from __future__ import annotations

import ast
import logging
import queue
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from ground.share import catalogue
from ground.share.attributes import Assertion, TrustStore
from ground.share.chain import compose
from ground.share.engine import JOB_KINDS, RESULT_FILES, Engine, JobCode, JobFailed, LocalEngine, execute
from ground.share.maps import MapError, ModifyingMap
from ground.share.sandbox import SandboxLimits
from ground.share.scan import approximate_rows, packet_schema, work_units
from ground.share.store import TERMINAL, JobRecord, SourceDef, Store
from protocol.registry import Dictionary

log = logging.getLogger(__name__)
INTERRUPTED = "interrupted: the service restarted while the job was executing"


class NotFound(LookupError):
    """No such source or job, as far as this caller may know."""


@dataclass
class Party:
    name: str
    store: Store
    results_dir: Path
    trust: TrustStore
    dictionary: Dictionary
    archive_root: Path | None = None
    engine: Engine = field(default_factory=LocalEngine)
    engine_name: str = "local"
    upstream_tokens: dict[str, str] = field(default_factory=dict)  # upstream URL -> our assertion there
    limits: SandboxLimits = field(default_factory=SandboxLimits)
    poll_seconds: float = 0.2

    def __post_init__(self) -> None:
        self.results_dir = Path(self.results_dir)
        self.results_dir.mkdir(parents=True, exist_ok=True)
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    # ---- lifecycle -------------------------------------------------------------------------
    def publish(self, source: SourceDef) -> None:
        """Record a source after checking its map against what it is built on."""
        if source.is_reseller:
            if source.map.has_custom:
                raise MapError("a reseller's map cannot use custom transforms (they run at the provider)")
        else:
            if not source.packet or source.packet not in self.dictionary.telemetry:
                raise MapError(f"unknown packet {source.packet!r}")
            compose(packet_schema(self.dictionary, source.packet), [source.map])
        self.store.put_source(source)

    def start(self) -> None:
        self.recover()
        self._thread = threading.Thread(target=self._work, name=f"share-{self.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.engine.close()

    def recover(self) -> None:
        """After a restart: finished results are kept; interrupted provider jobs are reported
        failed (never silently dropped); forwarded jobs resume following their upstream job;
        pending jobs are queued again."""
        for job in self.store.jobs(states=("executing",)):
            if self.result_path(job).exists():
                self.store.update_job(job.id, state="completed", result_bytes=self.result_path(job).stat().st_size)
            elif job.upstream_job:
                self._queue.put(job.id)
            else:
                self.store.update_job(job.id, state="failed", reason=INTERRUPTED)
        for job in self.store.jobs(states=("pending",)):
            self._queue.put(job.id)

    # ---- catalogue -------------------------------------------------------------------------
    def visible_sources(self, who: Assertion) -> list[SourceDef]:
        return [s for s in self.store.sources() if who.satisfies(s.see_attrs)]

    def _source_for(self, who: Assertion, name: str) -> SourceDef:
        s = self.store.source(name)
        if s is None or not who.satisfies(s.see_attrs):
            raise NotFound(f"no source {name!r}")
        return s

    def catalogue_entry(self, who: Assertion, name: str) -> dict[str, Any]:
        s = self._source_for(who, name)
        if s.is_reseller:
            up = self._upstream_entry(s)
            schema = compose(catalogue.schema_from_b64(up["arrow_schema"]), [s.map]).output_schema
            return catalogue.entry(s.name, s.description, up["chain"] + [self.name], s.see_attrs, s.run_attrs,
                                   up["rows_at_most"], schema)
        raw = packet_schema(self.dictionary, s.packet)
        rows = approximate_rows(self.archive_root, s.packet) if self.archive_root else 0
        return catalogue.entry(s.name, s.description, [self.name], s.see_attrs, s.run_attrs, rows,
                               compose(raw, [s.map]).output_schema)

    def catalogue(self, who: Assertion) -> list[dict[str, Any]]:
        out = []
        for s in self.visible_sources(who):
            try:
                out.append(self.catalogue_entry(who, s.name))
            except (NotFound, httpx.HTTPError, MapError, KeyError) as exc:
                log.warning("source %s not listed: %s", s.name, exc)
        return out

    def _upstream(self, s: SourceDef) -> httpx.Client:
        token = self.upstream_tokens.get(s.upstream_url, "")
        return httpx.Client(base_url=s.upstream_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)

    def _upstream_entry(self, s: SourceDef) -> dict[str, Any]:
        with self._upstream(s) as client:
            r = client.get(f"/catalogue/{s.upstream_source}")
            if r.status_code != 200:
                raise NotFound(f"upstream source {s.upstream_source!r} unavailable ({r.status_code})")
            return r.json()

    # ---- jobs ------------------------------------------------------------------------------
    def submit(self, who: Assertion, source: str, kind: str, code: str, wrap: list[dict] | None = None) -> JobRecord:
        """Record the job: pending if acceptable, otherwise rejected with the reason."""
        s = self._source_for(who, source)
        maps: list[ModifyingMap] = []
        reason = ""
        try:
            maps = [ModifyingMap.from_dict(m) for m in (wrap or [])]
        except MapError as exc:
            reason = f"invalid map: {exc}"
        if not reason:
            reason = self._rejection(who, s, kind, code, maps)
        state = "rejected" if reason else "pending"
        job = self.store.add_job(who.holder, source, kind, code, maps, self.engine_name, state, reason)
        if state == "pending":
            self._queue.put(job.id)
        return job

    def _rejection(self, who: Assertion, s: SourceDef, kind: str, code: str, maps: list[ModifyingMap]) -> str:
        if not who.satisfies(s.run_attrs):
            return f"running jobs on {s.name} requires attributes: {', '.join(who.missing(s.run_attrs))}"
        if kind not in JOB_KINDS:
            return f"unknown job kind {kind!r} (use {' or '.join(JOB_KINDS)})"
        if any(m.has_custom for m in maps):
            return "custom transforms run only in the provider's own maps"
        try:
            tree = ast.parse(code, "job.py")
        except SyntaxError as exc:
            return f"code does not parse: {exc.msg} (line {exc.lineno})"
        defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        needed = {"map", "reduce"} if kind == "mapreduce" else {"map"}
        if needed - defined:
            return f"code must define {' and '.join(sorted(needed))} at top level"
        if not s.is_reseller:
            try:
                compose(packet_schema(self.dictionary, s.packet), [s.map, *maps])
            except MapError as exc:
                return f"invalid map: {exc}"
        return ""

    def job_for(self, who: Assertion, job_id: str) -> JobRecord:
        job = self.store.job(job_id)
        if job is None or job.owner != who.holder:
            raise NotFound(f"no job {job_id}")
        return job

    def jobs_for(self, who: Assertion) -> list[JobRecord]:
        return self.store.jobs(owner=who.holder)

    def result_path(self, job: JobRecord) -> Path:
        return self.results_dir / f"{job.id}.{RESULT_FILES.get(job.kind, 'result.bin')}"

    # ---- execution -------------------------------------------------------------------------
    def _work(self) -> None:
        while not self._stopping.is_set():
            job_id = self._queue.get()
            if job_id is None:
                return
            job = self.store.job(job_id)
            if job is None or job.state in TERMINAL:
                continue
            self.store.update_job(job.id, state="executing")
            try:
                source = self.store.source(job.source)
                if source is None:
                    raise JobFailed(f"source {job.source} is no longer published")
                if source.is_reseller:
                    records = self._forward(job, source)
                else:
                    records = self._run_local(job, source)
                self.store.update_job(job.id, state="completed", records=records,
                                      result_bytes=self.result_path(job).stat().st_size)
            except (JobFailed, MapError) as exc:
                if self._stopping.is_set():
                    return  # left executing: a restart reports it interrupted or resumes following upstream
                self.store.update_job(job.id, state="failed", reason=str(exc))
            except httpx.HTTPError as exc:
                self.store.update_job(job.id, state="failed", reason=f"upstream unreachable: {exc}")
            except Exception as exc:  # never lose a job to an unexpected error: report it
                if self._stopping.is_set():
                    return  # shutting down under it: left executing, so a restart reports it interrupted
                log.exception("job %s", job.id)
                self.store.update_job(job.id, state="failed", reason=f"internal error: {type(exc).__name__}: {exc}")

    def _run_local(self, job: JobRecord, source: SourceDef) -> int:
        if self.archive_root is None:
            raise JobFailed("this party has no archive")
        plan = compose(packet_schema(self.dictionary, source.packet), [source.map, *job.wrap])
        units = work_units(self.archive_root, source.packet, whole_files=plan.aggregates)
        stats = execute(plan, units, JobCode(job.kind, job.code), self.engine, self.result_path(job), self.limits)
        return stats.records

    def _forward(self, job: JobRecord, source: SourceDef) -> int:
        with self._upstream(source) as client:
            upstream_id = job.upstream_job
            if not upstream_id:
                r = client.post("/jobs", json={"source": source.upstream_source, "kind": job.kind, "code": job.code,
                                               "wrap": [source.map.to_dict()] + [m.to_dict() for m in job.wrap]})
                if r.status_code >= 400:
                    raise JobFailed(f"upstream refused the job: {r.status_code} {r.text[:200]}")
                up = r.json()
                if up["state"] == "rejected":
                    raise JobFailed(f"upstream rejected the job: {up['reason']}")
                upstream_id = up["id"]
                self.store.update_job(job.id, upstream_job=upstream_id)
            while True:
                r = client.get(f"/jobs/{upstream_id}")
                if r.status_code != 200:
                    raise JobFailed(f"upstream lost the job: {r.status_code}")
                up = r.json()
                if up["state"] in TERMINAL:
                    break
                if self._stopping.wait(self.poll_seconds):
                    raise JobFailed("service stopping")
            if up["state"] != "completed":
                raise JobFailed(f"upstream job {up['state']}: {up['reason']}")
            dest = self.result_path(job)
            tmp = dest.with_name(dest.name + ".partial")
            with client.stream("GET", f"/jobs/{upstream_id}/result") as resp, open(tmp, "wb") as out:
                if resp.status_code != 200:
                    raise JobFailed(f"upstream result unavailable: {resp.status_code}")
                for chunk in resp.iter_bytes():
                    out.write(chunk)
            tmp.replace(dest)
            return int(up.get("records", 0))

