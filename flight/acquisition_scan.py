"""Acquisition search: when the beacon is not in the camera's field of view (attitude knowledge
worse than half the field), walk a square spiral of field-sized steps around the predicted
direction, returning to it between steps, until the beacon shows up; the tracker takes over
from wherever it is found. Each look lasts long enough to get there at the slew rate and see."""
from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field


def square_spiral(rings: int) -> list[tuple[int, int]]:
    """Grid offsets (0,0), (1,0), (1,1), (0,1), (-1,1), ... out to ``rings`` rings."""
    pts = [(0, 0)]
    x = y = 0
    step = 1
    dx, dy = 1, 0
    while len(pts) < (2 * rings + 1) ** 2:
        for _ in range(2):
            for _ in range(step):
                x, y = x + dx, y + dy
                if max(abs(x), abs(y)) <= rings:
                    pts.append((x, y))
            dx, dy = -dy, dx
        step += 1
    return pts


@dataclass
class SpiralScan:
    step_az_deg: float
    step_el_deg: float
    slew_dps: float = 3.0            # laser-off slew rate of the gimbal controller
    look_s: float = 0.4              # settle and look at each point
    start_after_s: float = 5.0       # of ACQUIRE without any detection
    rings: int = 2
    _offsets: list[tuple[float, float]] = field(default_factory=list)
    _starts: list[float] = field(default_factory=list)
    _period: float = 0.0

    def __post_init__(self) -> None:
        # Hub and spokes: back to the predicted direction between spiral points, so a beacon that
        # comes up where predicted is seen within one spoke however far the search has gone.
        spiral = square_spiral(self.rings)[1:]
        grid = [p for pt in spiral for p in ((0, 0), pt)]
        t, prev = 0.0, (0.0, 0.0)
        for i, j in grid:
            off = (i * self.step_az_deg, j * self.step_el_deg)
            self._starts.append(t)
            self._offsets.append(off)
            travel = max(abs(off[0] - prev[0]), abs(off[1] - prev[1])) / self.slew_dps
            t += travel + 2 * math.sqrt(travel / 10.0) + self.look_s   # accel/decel margin
            prev = off
        self._period = t

    @property
    def period_s(self) -> float:
        return self._period

    def offset(self, searching_s: float) -> tuple[float, float]:
        """(d_az, d_el) to add to the predicted direction after ``searching_s`` without the beacon."""
        if searching_s < self.start_after_s:
            return 0.0, 0.0
        t = (searching_s - self.start_after_s) % self._period
        return self._offsets[bisect.bisect_right(self._starts, t) - 1]
