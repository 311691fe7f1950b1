"""Limit checking: yellow/red bands from the dictionary, persistence, and separate limit sets.

A value must stay in a new band for ``persistence`` consecutive samples before the state
changes (one noisy sample is not an alarm). Each ``LimitChecker`` keeps its own state, so the
playback of stored data runs through its own checker ("playback" set) and never raises or
clears a live alarm.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace

import numpy as np

from protocol.model import Limits
from protocol.registry import Dictionary


class Level(enum.IntEnum):
    GREEN = 0
    YELLOW = 1
    RED = 2


@dataclass(frozen=True)
class LimitDef:
    packet: str
    field: str
    yellow: tuple[float, float] | None
    red: tuple[float, float] | None
    persistence: int = 1

    def level(self, value: float) -> Level:
        if self.red is not None and not self.red[0] <= value <= self.red[1]:
            return Level.RED
        if self.yellow is not None and not self.yellow[0] <= value <= self.yellow[1]:
            return Level.YELLOW
        return Level.GREEN

    def levels(self, values: np.ndarray) -> np.ndarray:
        v = np.asarray(values, dtype=np.float64)
        out = np.zeros(len(v), dtype=np.int8)
        if self.yellow is not None:
            out[(v < self.yellow[0]) | (v > self.yellow[1])] = Level.YELLOW
        if self.red is not None:
            out[(v < self.red[0]) | (v > self.red[1]) | np.isnan(v)] = Level.RED
        return out


@dataclass
class LimitSet:
    name: str
    defs: dict[tuple[str, str], LimitDef] = field(default_factory=dict)

    @classmethod
    def from_dictionary(cls, dictionary: Dictionary, name: str = "live", persistence: int = 1) -> "LimitSet":
        defs = {}
        for p in dictionary.telemetry.values():
            for f in p.fields:
                lim: Limits | None = f.limits
                if lim is not None and (lim.yellow or lim.red):
                    defs[(p.name, f.name)] = LimitDef(p.name, f.name, lim.yellow, lim.red, persistence)
        return cls(name, defs)

    def override(self, packet: str, field_name: str, **changes) -> "LimitSet":
        """A copy with one limit changed (yellow=, red=, persistence=)."""
        defs = dict(self.defs)
        defs[(packet, field_name)] = replace(defs[(packet, field_name)], **changes)
        return LimitSet(self.name, defs)


@dataclass(frozen=True)
class LimitTransition:
    limit_set: str
    packet: str
    field: str
    old: Level
    new: Level
    value: float
    tai: float


class LimitChecker:
    def __init__(self, limit_set: LimitSet):
        self.limit_set = limit_set
        self._by_packet: dict[str, list[LimitDef]] = {}
        for d in limit_set.defs.values():
            self._by_packet.setdefault(d.packet, []).append(d)
        self.state: dict[tuple[str, str], Level] = {k: Level.GREEN for k in limit_set.defs}
        self._pending: dict[tuple[str, str], tuple[Level, int]] = {}
        self.violations: dict[tuple[str, str], int] = {k: 0 for k in limit_set.defs}

    def level(self, packet: str, field_name: str) -> Level:
        return self.state.get((packet, field_name), Level.GREEN)

    def check(self, packet: str, values: dict, tai: float = 0.0) -> list[LimitTransition]:
        """One sample; returns the state changes it caused (after persistence)."""
        out = []
        for d in self._by_packet.get(packet, ()):
            if d.field not in values:
                continue
            v = float(values[d.field])
            lvl = d.level(v)
            key = (packet, d.field)
            if lvl != Level.GREEN:
                self.violations[key] += 1
            old = self.state[key]
            if self._step(key, lvl, 1, d.persistence) is not None:
                out.append(LimitTransition(self.limit_set.name, packet, d.field, old, lvl, v, tai))
        return out

    def check_batch(self, packet: str, records: np.ndarray, tai: np.ndarray | None = None) -> list[LimitTransition]:
        """Many samples of one packet at once (ingest's vectorised path), same semantics as check."""
        out = []
        n = len(records)
        if n == 0:
            return out
        names = records.dtype.names or ()
        for d in self._by_packet.get(packet, ()):
            if d.field not in names:
                continue
            values = records[d.field]
            levels = d.levels(values)
            key = (packet, d.field)
            self.violations[key] += int(np.count_nonzero(levels))
            # Walk runs of equal level, not samples: a pass has few changes.
            change = np.flatnonzero(np.diff(levels)) + 1
            starts = np.concatenate(([0], change))
            ends = np.concatenate((change, [n]))
            for s, e in zip(starts.tolist(), ends.tolist()):
                lvl, old = Level(int(levels[s])), self.state[key]
                k = self._step(key, lvl, e - s, d.persistence)
                if k is not None:
                    i = s + k
                    out.append(LimitTransition(self.limit_set.name, packet, d.field, old, lvl, float(values[i]),
                                               float(tai[i]) if tai is not None else 0.0))
        return out

    def _step(self, key, lvl: Level, count: int, persistence: int) -> int | None:
        """Feed ``count`` samples at ``lvl``; the index (within them) where the state changes, if it does."""
        cur = self.state[key]
        if lvl == cur:
            self._pending.pop(key, None)
            return None
        plvl, pcount = self._pending.get(key, (lvl, 0))
        before = pcount if plvl == lvl else 0
        if before + count >= persistence:
            self._pending.pop(key, None)
            self.state[key] = lvl
            return max(0, persistence - before - 1)
        self._pending[key] = (lvl, before + count)
        return None
