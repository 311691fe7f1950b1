"""The pre-pass health check: gimbal homed (to stow) and settled, temperatures in range, every
limit switch and the hardware interlock closed, no light at the photodiode, both relays open.
Runs across control cycles; reports the first failed item as HEALTH_CHECK_FAILED(what, value)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from flight.hal import Hal
from flight.safety import EMISSION_SENSED_MW

WHAT = {"TEMPERATURE": 0, "GIMBAL_HOME": 1, "LIMIT_SWITCH": 2, "LASER_NOT_OFF": 3, "RELAY": 4}
TEMP_RANGE_C = (-10.0, 45.0)


@dataclass
class HealthCheck:
    hal: Hal
    event: Callable[..., None]
    home: tuple[float, float]
    at_target_deg: float = 0.05
    settle_s: float = 0.5
    timeout_s: float = 60.0
    _started: float = 0.0
    _settled: float = 0.0

    def start(self, now: float) -> None:
        self._started, self._settled = now, 0.0

    def step(self, now: float, dt: float, az: float, el: float) -> bool | None:
        """None while running; True (passed) or False (failed, event sent) when done."""
        at_home = abs(az - self.home[0]) <= self.at_target_deg and abs(el - self.home[1]) <= self.at_target_deg
        self._settled = self._settled + dt if at_home else 0.0
        if now - self._started > self.timeout_s:
            return self.fail("GIMBAL_HOME", int(az * 1000))
        if self._settled < self.settle_s:
            return None
        h = self.hal
        temps = h.thermal.read()
        if not all(TEMP_RANGE_C[0] <= t <= TEMP_RANGE_C[1] for t in temps):
            return self.fail("TEMPERATURE", int(max(temps) * 100))
        switches = h.switches.read()
        if any(switches) or not h.laser.interlock_ok():
            return self.fail("LIMIT_SWITCH", sum(1 << i for i, s in enumerate(switches) if s))
        light = h.laser.photodiode_mw()
        if light > EMISSION_SENSED_MW:
            return self.fail("LASER_NOT_OFF", int(light))
        relays = h.relays.read()
        if relays != (False, False):
            return self.fail("RELAY", sum(1 << i for i, r in enumerate(relays) if r))
        self.event("HEALTH_CHECK_PASSED")
        return True

    def fail(self, what: str, value: int = 0) -> bool:
        self.event("HEALTH_CHECK_FAILED", WHAT[what], value)
        return False
