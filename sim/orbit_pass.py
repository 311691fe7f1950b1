"""A real ISS pass over a station (protocol.geometry, SGP4), sampled once and interpolated.

The simulator steps at 100 Hz; propagating SGP4 per step would dominate the run, so the look
angles are computed once on a 0.25 s grid (vectorised) and interpolated linearly per step."""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field

import numpy as np

from protocol.geometry import OCTL, Orbit, Pass, Station, find_passes, load_tle, look_angles
from sim.pass_geometry import Look

GRID_S = 0.25


@dataclass
class OrbitPass:
    orbit: Orbit
    station: Station
    start_tai: float
    stop_tai: float
    threshold_elev_deg: float = 25.0
    _t: list[float] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        t = np.arange(self.start_tai, self.stop_tai + GRID_S, GRID_S)
        la = look_angles(self.orbit, self.station, t)
        self._t = t.tolist()
        self._az, self._el = la.az.tolist(), la.el.tolist()
        self._range, self._elev = la.range_km.tolist(), la.elevation.tolist()
        self._north = la.iss_north_of_station.tolist()
        up = np.nonzero(la.elevation >= self.threshold_elev_deg)[0]
        self.rise_tai = float(t[up[0]]) if len(up) else self.stop_tai
        self.set_tai = float(t[up[-1]]) if len(up) else self.stop_tai

    def look(self, tai: float) -> Look:
        t = self._t
        i = min(max(bisect.bisect_right(t, tai) - 1, 0), len(t) - 2)
        f = min(max((tai - t[i]) / GRID_S, 0.0), 1.0)

        def lerp(a: list[float]) -> float:
            return a[i] + f * (a[i + 1] - a[i])
        return Look(lerp(self._az), lerp(self._el), lerp(self._range), lerp(self._elev),
                    bool(self._north[i if f < 0.5 else i + 1]))


def iss_orbit(tle_path: str | None = None) -> Orbit:
    return Orbit(*load_tle(tle_path))


def passes_between(orbit: Orbit, start_tai: float, stop_tai: float, min_elevation_deg: float = 25.0,
                   station: Station = OCTL) -> list[Pass]:
    return find_passes(orbit, station, start_tai, stop_tai, min_elevation_deg)


def orbit_pass(orbit: Orbit, p: Pass, pad_s: float = 300.0, threshold_elev_deg: float = 25.0) -> OrbitPass:
    return OrbitPass(orbit, p.station, p.rise_tai - pad_s, p.set_tai + pad_s, threshold_elev_deg)
