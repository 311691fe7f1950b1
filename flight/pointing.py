"""Open-loop pointing: the predict table uplinked by ground, interpolated in time, and the
software pointing limit (the software inhibit of hazard H2)."""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from protocol.opals import AZ_RANGE_DEG, EL_RANGE_DEG

# Software limits sit one degree inside the derated range of motion, where the microswitches
# trip; the hardstops (the approved field of regard) sit one degree beyond that.
SOFT_AZ_DEG = (AZ_RANGE_DEG[0] + 1.0, AZ_RANGE_DEG[1] - 1.0)
SOFT_EL_DEG = (EL_RANGE_DEG[0] + 1.0, EL_RANGE_DEG[1] - 1.0)


@dataclass
class PointingLimit:
    """Is a direction inside the software limits, and the nearest one that is."""

    az: tuple[float, float] = SOFT_AZ_DEG
    el: tuple[float, float] = SOFT_EL_DEG

    def inside(self, az: float, el: float) -> bool:
        return self.az[0] <= az <= self.az[1] and self.el[0] <= el <= self.el[1]

    def clamp(self, az: float, el: float) -> tuple[float, float]:
        return min(max(az, self.az[0]), self.az[1]), min(max(el, self.el[0]), self.el[1])


@dataclass
class PredictTable:
    """Rows (tai, az, el) loaded one LOAD_PREDICT at a time, kept in time order."""

    rows: dict[int, tuple[float, float, float]] = field(default_factory=dict)
    _t: list[float] = field(default_factory=list)
    _az: list[float] = field(default_factory=list)
    _el: list[float] = field(default_factory=list)

    def load(self, index: int, tai: float, az: float, el: float) -> None:
        self.rows[index] = (tai, az, el)
        ordered = sorted(self.rows.values())
        self._t = [r[0] for r in ordered]
        self._az = [r[1] for r in ordered]
        self._el = [r[2] for r in ordered]

    def clear(self) -> None:
        self.rows.clear()
        self._t, self._az, self._el = [], [], []

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def start(self) -> float:
        return self._t[0]

    @property
    def stop(self) -> float:
        return self._t[-1]

    def at(self, tai: float) -> tuple[float, float, float, float]:
        """(az, el, az_rate, el_rate) at ``tai``, linear between rows, held outside the table."""
        t = self._t
        if tai <= t[0] or len(t) == 1:
            return self._az[0], self._el[0], 0.0, 0.0
        if tai >= t[-1]:
            return self._az[-1], self._el[-1], 0.0, 0.0
        i = bisect.bisect_right(t, tai) - 1
        dt = t[i + 1] - t[i]
        f = (tai - t[i]) / dt
        daz = self._az[i + 1] - self._az[i]
        del_ = self._el[i + 1] - self._el[i]
        return self._az[i] + f * daz, self._el[i] + f * del_, daz / dt, del_ / dt
