"""Rate-group executive on an injected clock.

The clock is whatever the caller hands in: simulated TAI for faster-than-real-time runs, wall
time for HIL. ``tick`` runs every base cycle that has come due since the last call (bounded
catch-up, overruns counted), so the same flight code runs at any simulation speed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable


@dataclass
class RateGroup:
    name: str
    divisor: int                       # runs every ``divisor`` base cycles
    run: Callable[[float], None]        # called with the cycle's scheduled time
    runs: int = 0


@dataclass
class Executive:
    clock: Callable[[], float]
    base_hz: float
    max_catch_up: int = 5
    groups: list[RateGroup] = field(default_factory=list)
    cycle: int = 0
    overruns: int = 0
    _t0: float | None = None

    @property
    def period(self) -> float:
        return 1.0 / self.base_hz

    def add(self, name: str, hz: float, run: Callable[[float], None]) -> RateGroup:
        divisor = max(1, round(self.base_hz / hz))
        g = RateGroup(name, divisor, run)
        self.groups.append(g)
        return g

    def tick(self) -> int:
        """Run the cycles now due; returns how many ran (0 when the clock has not advanced)."""
        now = self.clock()
        if self._t0 is None:
            self._t0 = now
        due = math.floor((now - self._t0) * self.base_hz + 1e-3) + 1 - self.cycle
        if due <= 0:
            return 0
        if due > self.max_catch_up:
            self.overruns += due - 1
            self.cycle += due - 1
            due = 1
        for _ in range(due):
            t = self._t0 + self.cycle * self.period
            for g in self.groups:
                if self.cycle % g.divisor == 0:
                    g.run(t)
                    g.runs += 1
            self.cycle += 1
        return due
