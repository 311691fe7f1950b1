"""Persistent command history (who, what, when, result) in SQLite in the session's data dir.

Every command attempt is recorded, including the ones the ground refused before sending
(unconfirmed hazardous commands, invalid arguments): an audit trail is only useful if the
refusals are in it too.
"""
from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS commands (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sent_utc TEXT NOT NULL,
    operator TEXT NOT NULL,
    name TEXT NOT NULL,
    args TEXT NOT NULL,
    seq INTEGER,
    status TEXT NOT NULL,
    reason TEXT,
    done_utc TEXT
)"""


@dataclass(frozen=True)
class HistoryEntry:
    id: int
    sent_utc: str
    operator: str
    name: str
    args: dict[str, Any]
    seq: int | None
    status: str
    reason: str | None
    done_utc: str | None


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")


def _jsonable(v: Any) -> Any:
    if isinstance(v, (bytes, bytearray)):
        return v.hex()
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    return v


class CommandHistory:
    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(SCHEMA)

    def record(self, operator: str, name: str, args: dict[str, Any], seq: int | None, status: str,
               reason: str | None = None) -> int:
        with self._lock:
            cur = self._db.execute(
                "INSERT INTO commands (sent_utc, operator, name, args, seq, status, reason) VALUES (?,?,?,?,?,?,?)",
                (_now(), operator, name, json.dumps(_jsonable(args)), seq, status, reason))
            return int(cur.lastrowid)

    def update(self, entry_id: int, status: str, reason: str | None = None) -> None:
        with self._lock:
            self._db.execute("UPDATE commands SET status=?, reason=?, done_utc=? WHERE id=?",
                             (status, reason, _now(), entry_id))

    def entries(self, limit: int | None = None, name: str | None = None) -> list[HistoryEntry]:
        q = "SELECT id, sent_utc, operator, name, args, seq, status, reason, done_utc FROM commands"
        params: list[Any] = []
        if name:
            q += " WHERE name = ?"
            params.append(name)
        q += " ORDER BY id DESC"
        if limit:
            q += " LIMIT ?"
            params.append(limit)
        with self._lock:
            rows = self._db.execute(q, params).fetchall()
        return [HistoryEntry(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5], r[6], r[7], r[8]) for r in reversed(rows)]

    def close(self) -> None:
        with self._lock:
            self._db.close()
