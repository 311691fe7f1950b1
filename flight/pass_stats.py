"""Onboard tracking statistics of one pass (what PASS_SUMMARY reports)."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass


@dataclass
class PassSummary:
    acquisition_ms: int
    lock_fraction: float
    err_mean: float
    err_rms: float
    err_3sigma: float
    err_max: float
    samples: int
    emit_s: float

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class PassStats:
    """Accumulates the measured radial error of every locked frame (streaming, O(1) memory)."""

    settle_s: float = 1.0                # pull-in after the first lock, left out of the error statistics
    first_detect: float | None = None
    first_lock: float | None = None
    frames_after_lock: int = 0
    locked_frames: int = 0
    _sum: float = 0.0
    _sum2: float = 0.0
    _max: float = 0.0

    def frame(self, now: float, found: bool, locked: bool, err_x: float, err_y: float) -> None:
        if found and self.first_detect is None:
            self.first_detect = now
        if locked and self.first_lock is None:
            self.first_lock = now
        if self.first_lock is None:
            return
        self.frames_after_lock += 1
        if locked and found and now >= self.first_lock + self.settle_s:
            e = math.hypot(err_x, err_y)
            self.locked_frames += 1
            self._sum += e
            self._sum2 += e * e
            self._max = max(self._max, e)

    def summary(self, emit_s: float) -> PassSummary:
        n = self.locked_frames
        acq = -1
        if self.first_lock is not None and self.first_detect is not None:
            acq = int(round((self.first_lock - self.first_detect) * 1000))
        mean = self._sum / n if n else 0.0
        rms = math.sqrt(self._sum2 / n) if n else 0.0
        frac = n / self.frames_after_lock if self.frames_after_lock else 0.0
        return PassSummary(acq, frac, mean, rms, 3.0 * rms, self._max, n, emit_s)
