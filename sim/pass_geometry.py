"""Where the ground station is, seen from the payload, over a pass.

``FlyoverPass`` is a closed-form straight-line flyover (flat Earth, constant speed): no orbit
propagation, just enough geometry for fast, repeatable tests and the default CLI pass. Real
passes come from protocol.geometry (SGP4) through ``OrbitPass`` when that module is installed.
Angles are in the gimbal frame: az from nadir toward ram, el from nadir toward starboard.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple, Protocol


class Look(NamedTuple):
    az: float                 # deg
    el: float                 # deg
    range_km: float
    elevation_deg: float      # of the payload above the station's horizon
    north: bool               # payload north of the station (links only then)


class PassGeometry(Protocol):
    rise_tai: float           # station elevation crosses the beacon threshold (rising)
    set_tai: float

    def look(self, tai: float) -> Look: ...

    def time_at_az(self, az_deg: float) -> float: ...


@dataclass(frozen=True)
class FlyoverPass:
    tca_tai: float
    altitude_km: float = 410.0
    cross_track_km: float = 250.0       # positive: the ISS passes north of the station
    speed_kms: float = 7.66
    threshold_elev_deg: float = 25.0

    def look(self, tai: float) -> Look:
        h, d = self.altitude_km, self.cross_track_km
        x = self.speed_kms * (self.tca_tai - tai)        # station ahead of the ISS (km along track)
        az = math.degrees(math.atan2(x, h))
        el = math.degrees(math.atan2(d, math.hypot(h, x)))
        ground = math.hypot(x, d)
        return Look(az, el, math.sqrt(x * x + d * d + h * h), math.degrees(math.atan2(h, ground)), d > 0)

    def _half_width_s(self, elev_deg: float) -> float:
        ground = self.altitude_km / math.tan(math.radians(elev_deg))
        if ground <= abs(self.cross_track_km):
            return 0.0
        return math.sqrt(ground ** 2 - self.cross_track_km ** 2) / self.speed_kms

    @property
    def rise_tai(self) -> float:
        return self.tca_tai - self._half_width_s(self.threshold_elev_deg)

    @property
    def set_tai(self) -> float:
        return self.tca_tai + self._half_width_s(self.threshold_elev_deg)

    def time_at_az(self, az_deg: float) -> float:
        return self.tca_tai - self.altitude_km * math.tan(math.radians(az_deg)) / self.speed_kms
