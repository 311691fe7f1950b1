"""Two-axis gimbal with its mechanical hardstops and the four limit microswitches.

The hardstops bound the approved field of regard; the switches trip at the edge of the derated
range of motion, just inside them. Each is a separate component a fault can break."""
from __future__ import annotations

from dataclasses import dataclass

from protocol.opals import AZ_RANGE_DEG, EL_RANGE_DEG

# Hardstops (= the approved field of regard) one degree beyond the derated range of motion.
HARDSTOP_AZ = (AZ_RANGE_DEG[0] - 1.0, AZ_RANGE_DEG[1] + 1.0)
HARDSTOP_EL = (EL_RANGE_DEG[0] - 1.0, EL_RANGE_DEG[1] + 1.0)


@dataclass
class GimbalModel:
    az: float = 0.0
    el: float = 10.0
    az_cmd: float = 0.0
    el_cmd: float = 10.0
    max_rate_dps: float = 5.0          # motor limit (flight limits itself well below)
    hardstops_intact: bool = True
    runaway_dps: tuple[float, float] | None = None   # fault: motor drives regardless of command
    encoder_bias_deg: tuple[float, float] = (0.0, 0.0)

    def command(self, az: float, el: float) -> None:
        self.az_cmd, self.el_cmd = az, el

    def read(self) -> tuple[float, float]:
        return self.az + self.encoder_bias_deg[0], self.el + self.encoder_bias_deg[1]

    def step(self, dt: float) -> None:
        if self.runaway_dps is not None:
            self.az += self.runaway_dps[0] * dt
            self.el += self.runaway_dps[1] * dt
        else:
            lim = self.max_rate_dps * dt
            self.az += min(max(self.az_cmd - self.az, -lim), lim)
            self.el += min(max(self.el_cmd - self.el, -lim), lim)
        if self.hardstops_intact:
            self.az = min(max(self.az, HARDSTOP_AZ[0]), HARDSTOP_AZ[1])
            self.el = min(max(self.el, HARDSTOP_EL[0]), HARDSTOP_EL[1])


@dataclass
class LimitSwitches:
    """AZ_LOW, AZ_HIGH, EL_LOW, EL_HIGH: trip at the derated range of motion. A tripped switch
    opens the laser interlock in hardware (LaserChain), whatever the software does."""

    gimbal: GimbalModel
    never_trip: bool = False           # fault: contacts welded in the "OK" state
    stuck_tripped: bool = False        # fault: reads (and acts) tripped all the time

    def tripped(self) -> tuple[bool, bool, bool, bool]:
        if self.stuck_tripped:
            return True, True, True, True
        if self.never_trip:
            return False, False, False, False
        g = self.gimbal
        return (g.az <= AZ_RANGE_DEG[0], g.az >= AZ_RANGE_DEG[1], g.el <= EL_RANGE_DEG[0], g.el >= EL_RANGE_DEG[1])
