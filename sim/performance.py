"""Tracking performance measured against physical truth (the simulator's view of a pass).

Acquisition time runs from the moment the beacon is on and inside the camera's field of view
to flight's first lock; the error statistics use the true angle between boresight and station
over every step flight reports lock (after pull-in)."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Callable

from sim.world import WorldSample


@dataclass
class TrackingPerformance:
    locked: Callable[[], bool]
    settle_s: float = 1.0                     # pull-in after lock, excluded from the statistics
    beacon_in_view: float | None = None
    elevation_at_view: float | None = None
    first_lock: float | None = None
    errors: list[float] = field(default_factory=list)
    locked_time_s: float = 0.0
    track_time_s: float = 0.0
    emit_time_s: float = 0.0

    def observe(self, s: WorldSample) -> None:
        if s.laser_emitting:
            self.emit_time_s += s.dt
        if self.beacon_in_view is None and s.beacon_visible:
            self.beacon_in_view = s.tai
            self.elevation_at_view = s.station_elevation_deg
        locked = self.locked()
        if locked and self.first_lock is None:
            self.first_lock = s.tai
        if self.first_lock is None or not s.beacon_visible:
            return
        self.track_time_s += s.dt
        if locked:
            self.locked_time_s += s.dt
            if s.tai >= self.first_lock + self.settle_s:
                self.errors.append(s.pointing_error_urad)

    def summary(self) -> dict:
        e = sorted(self.errors)
        n = len(e)
        rms = math.sqrt(sum(x * x for x in e) / n) if n else 0.0
        acq = None
        if self.first_lock is not None and self.beacon_in_view is not None:
            acq = self.first_lock - self.beacon_in_view
        return {
            "acquisition_s": acq,
            "elevation_at_view_deg": self.elevation_at_view,
            "tracked_s": round(self.track_time_s, 3),
            "lock_fraction": self.locked_time_s / self.track_time_s if self.track_time_s else 0.0,
            "err_mean_urad": sum(e) / n if n else 0.0,
            "err_rms_urad": rms,
            "err_3sigma_urad": 3.0 * rms,
            "err_p9973_urad": e[min(n - 1, int(0.9973 * n))] if n else 0.0,
            "err_max_urad": e[-1] if n else 0.0,
            "samples": n,
            "emit_s": round(self.emit_time_s, 3),
        }
