"""Gimbal set-point generation: open-loop along the predicts or closed-loop on the beacon
error, always through rate and acceleration limits and clamped to the software pointing limit."""
from __future__ import annotations

import math
from dataclasses import dataclass

from flight.pointing import PointingLimit

URAD_PER_DEG = math.pi / 180.0 * 1e6


@dataclass
class GimbalController:
    limit: PointingLimit
    max_rate_dps: float = 1.5          # tracking (the ISS line of sight moves up to ~1 deg/s)
    slew_rate_dps: float = 3.0         # slews with the laser off (pre-pass, stow): stow within 30 s
    max_accel_dps2: float = 4.0
    track_accel_dps2: float = 30.0     # closed loop: enough to follow ISS jitter, bounded all the same
    gain: float = 0.6                  # fraction of the measured error removed per frame
    az_cmd: float = 0.0
    el_cmd: float = 0.0
    _az_rate: float = 0.0
    _el_rate: float = 0.0

    def reset(self, az: float, el: float) -> None:
        self.az_cmd, self.el_cmd = az, el
        self._az_rate = self._el_rate = 0.0

    def _limited(self, cur: float, target: float, rate: float, dt: float, vmax: float) -> tuple[float, float]:
        want = (target - cur) / dt
        a = self.max_accel_dps2 * dt
        # Never command a rate we could not stop from before reaching the target (the braking
        # curve of a discrete decelerating profile), nor more than the rate limit...
        stop = -a / 2 + math.sqrt(a * a / 4 + 2 * self.max_accel_dps2 * abs(target - cur))
        want = min(max(want, -stop, -vmax), stop, vmax)
        # ...and never change the rate faster than the acceleration limit, even when the target
        # jumps (new predicts, a slew redirected): then the set-point overshoots and comes back.
        want = min(max(want, rate - a), rate + a)
        return cur + want * dt, want

    def toward(self, az: float, el: float, dt: float, slew: bool = False) -> tuple[float, float]:
        """Step the set-point toward a target direction (open-loop along the predicts; with
        ``slew`` at the faster laser-off slew rate: pre-pass slew, stow)."""
        az, el = self.limit.clamp(az, el)
        vmax = self.slew_rate_dps if slew else self.max_rate_dps
        self.az_cmd, self._az_rate = self._limited(self.az_cmd, az, self._az_rate, dt, vmax)
        self.el_cmd, self._el_rate = self._limited(self.el_cmd, el, self._el_rate, dt, vmax)
        self.az_cmd, self.el_cmd = self.limit.clamp(self.az_cmd, self.el_cmd)
        return self.az_cmd, self.el_cmd

    def track(self, err_x_urad: float, err_y_urad: float, az_rate_ff: float, el_rate_ff: float,
              dt: float) -> tuple[float, float]:
        """Closed loop: predicted rate feed-forward plus a proportional correction of the error."""
        az = self.az_cmd + az_rate_ff * dt + self.gain * err_x_urad / URAD_PER_DEG
        el = self.el_cmd + el_rate_ff * dt + self.gain * err_y_urad / URAD_PER_DEG
        rate_az = (az - self.az_cmd) / dt
        rate_el = (el - self.el_cmd) / dt
        a = self.track_accel_dps2 * dt
        rate_az = min(max(rate_az, self._az_rate - a, -self.max_rate_dps), self._az_rate + a, self.max_rate_dps)
        rate_el = min(max(rate_el, self._el_rate - a, -self.max_rate_dps), self._el_rate + a, self.max_rate_dps)
        self._az_rate, self._el_rate = rate_az, rate_el
        self.az_cmd, self.el_cmd = self.limit.clamp(self.az_cmd + rate_az * dt, self.el_cmd + rate_el * dt)
        return self.az_cmd, self.el_cmd
