"""One party's durable state in an embedded SQLite database: its published sources (with the
chain behind them) and every job submitted to it, with state, reason and result location.
Each state change is its own committed transaction, so a restart sees exactly what happened."""
from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from ground.share.maps import ModifyingMap

STATES = ("rejected", "pending", "executing", "completed", "failed")
TERMINAL = ("rejected", "completed", "failed")

SCHEMA = """
CREATE TABLE IF NOT EXISTS sources (
    name TEXT PRIMARY KEY,
    description TEXT NOT NULL DEFAULT '',
    packet TEXT,                 -- provider sources: the archive's packet
    upstream_url TEXT,           -- reseller sources: where the upstream party is
    upstream_source TEXT,
    map TEXT NOT NULL,           -- this party's modifying map (JSON)
    see_attrs TEXT NOT NULL,     -- attributes needed to see it in the catalogue (JSON list)
    run_attrs TEXT NOT NULL      -- attributes needed to run a job on it (JSON list)
);
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,         -- holder of the assertion that submitted it (a reseller, for forwarded jobs)
    source TEXT NOT NULL,
    kind TEXT NOT NULL,
    code TEXT NOT NULL,
    wrap TEXT NOT NULL,          -- downstream resellers' maps, applied after ours, in order (JSON)
    engine TEXT NOT NULL DEFAULT 'local',
    state TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    records INTEGER NOT NULL DEFAULT 0,
    result_bytes INTEGER NOT NULL DEFAULT 0,
    upstream_job TEXT,
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_owner ON jobs(owner);
"""


@dataclass(frozen=True)
class SourceDef:
    name: str
    map: ModifyingMap = field(default_factory=ModifyingMap)
    packet: str | None = None
    upstream_url: str | None = None
    upstream_source: str | None = None
    see_attrs: tuple[str, ...] = ()
    run_attrs: tuple[str, ...] = ()
    description: str = ""

    @property
    def is_reseller(self) -> bool:
        return self.upstream_url is not None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "SourceDef":
        return cls(name=d["name"], map=ModifyingMap.from_dict(d.get("map")), packet=d.get("packet"),
                   upstream_url=d.get("upstream_url"), upstream_source=d.get("upstream_source"),
                   see_attrs=tuple(d.get("see_attrs", ())), run_attrs=tuple(d.get("run_attrs", ())),
                   description=d.get("description", ""))


@dataclass(frozen=True)
class JobRecord:
    id: str
    owner: str
    source: str
    kind: str
    code: str
    wrap: tuple[ModifyingMap, ...]
    engine: str
    state: str
    reason: str
    records: int
    result_bytes: int
    upstream_job: str | None
    created: float
    updated: float

    def public(self) -> dict[str, Any]:
        """What the submitter may see (not the code or the maps behind it)."""
        d = asdict(self)
        for k in ("code", "wrap", "upstream_job", "owner"):
            d.pop(k)
        return d


class Store:
    """Thread-safe access to one party's SQLite file."""

    def __init__(self, path: Path | str, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # sources
    def put_source(self, s: SourceDef) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO sources VALUES (?,?,?,?,?,?,?,?)",
                (s.name, s.description, s.packet, s.upstream_url, s.upstream_source, json.dumps(s.map.to_dict()),
                 json.dumps(list(s.see_attrs)), json.dumps(list(s.run_attrs))))

    def sources(self) -> list[SourceDef]:
        with self._lock:
            rows = self._db.execute("SELECT name, description, packet, upstream_url, upstream_source, map, "
                                    "see_attrs, run_attrs FROM sources ORDER BY name").fetchall()
        return [SourceDef(r[0], ModifyingMap.from_dict(json.loads(r[5])), r[2], r[3], r[4], tuple(json.loads(r[6])),
                          tuple(json.loads(r[7])), r[1]) for r in rows]

    def source(self, name: str) -> SourceDef | None:
        return next((s for s in self.sources() if s.name == name), None)

    # jobs
    def add_job(self, owner: str, source: str, kind: str, code: str, wrap: list[ModifyingMap], engine: str,
                state: str, reason: str = "") -> JobRecord:
        now = self.clock()
        job_id = uuid.uuid4().hex
        with self._lock:
            self._db.execute(
                "INSERT INTO jobs (id, owner, source, kind, code, wrap, engine, state, reason, created, updated) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (job_id, owner, source, kind, code, json.dumps([m.to_dict() for m in wrap]), engine, state, reason,
                 now, now))
        return self.job(job_id)

    def update_job(self, job_id: str, **changes: Any) -> None:
        if "state" in changes and changes["state"] not in STATES:
            raise ValueError(changes["state"])
        changes["updated"] = self.clock()
        cols = ", ".join(f"{k} = ?" for k in changes)
        with self._lock:
            self._db.execute(f"UPDATE jobs SET {cols} WHERE id = ?", (*changes.values(), job_id))

    def job(self, job_id: str) -> JobRecord | None:
        rows = self._select("WHERE id = ?", (job_id,))
        return rows[0] if rows else None

    def jobs(self, owner: str | None = None, states: tuple[str, ...] | None = None) -> list[JobRecord]:
        where, args = [], []
        if owner is not None:
            where.append("owner = ?")
            args.append(owner)
        if states:
            where.append(f"state IN ({','.join('?' * len(states))})")
            args.extend(states)
        return self._select(("WHERE " + " AND ".join(where)) if where else "", tuple(args))

    def _select(self, where: str, args: tuple) -> list[JobRecord]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, owner, source, kind, code, wrap, engine, state, reason, records, result_bytes, "
                f"upstream_job, created, updated FROM jobs {where} ORDER BY created", args).fetchall()
        return [JobRecord(r[0], r[1], r[2], r[3], r[4], tuple(ModifyingMap.from_dict(m) for m in json.loads(r[5])),
                          *r[6:]) for r in rows]
