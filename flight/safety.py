"""Laser safety: the software inhibits of hazards H1 and H2 and the per-cycle monitor.

H1 (emission not authorised) has three inhibits: relay A, relay B (each with its own hardware
ARM window, see ``RelayDevice``) and this module's two-step ARM/FIRE protection, which is the
only thing that enables the laser driver. H2 (emission outside the field of regard) has the
hardstops and the limit microswitches (hardware, in the device) and this module's software
pointing limit. Nothing here assumes another inhibit works: relay contacts are read back, and
an independent photodiode that senses emission the software did not ask for sends flight SAFE.
Every check runs every control cycle and safes the laser in that same cycle.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from flight.hal import Hal
from flight.pointing import PointingLimit
from protocol.opals import LASER_STATES, SAFETY_BITS

LASER_STATE_IDS = {v: k for k, v in LASER_STATES.items()}
EMISSION_SENSED_MW = 5.0          # photodiode level that means the laser is emitting
LASER_MAX_TEMP_C = 45.0


@dataclass
class ArmTimer:
    """The software ARM window. A separate component so a fault can break it on its own."""

    deadline: float | None = None

    def start(self, now: float, window_s: float) -> None:
        self.deadline = now + window_s

    def clear(self) -> None:
        self.deadline = None

    def expired(self, now: float) -> bool:
        return self.deadline is not None and now > self.deadline

    def remaining(self, now: float) -> float:
        return 0.0 if self.deadline is None else max(0.0, self.deadline - now)


@dataclass
class SafetyInputs:
    """What the monitor is told each cycle by the rest of flight."""

    az: float
    el: float
    locked: bool


# Reasons after which flight must not stay in a pass: it goes SAFE.
SAFE_MODE_REASONS = frozenset({"POINTING_LIMIT", "SWITCH_TRIP", "OVER_TEMPERATURE", "RELAY_MISMATCH",
                               "EMISSION_UNEXPECTED", "WATCHDOG", "FAULT"})


@dataclass
class LaserSafety:
    hal: Hal
    event: Callable[..., None]
    limit: PointingLimit = field(default_factory=PointingLimit)
    arm_timer: ArmTimer = field(default_factory=ArmTimer)
    armed: bool = False
    firing: bool = False                # software has enabled the driver
    last_safing: str = "NONE"
    safing_count: int = 0
    emit_time: float = 0.0              # seconds of sensed emission (for the pass summary)
    switches: tuple[bool, bool, bool, bool] = (False, False, False, False)
    relays: tuple[bool, bool] = (False, False)
    emitting: bool = False              # photodiode
    over_temp: bool = False
    pointing_ok: bool = True
    interlock_ok: bool = True
    locked: bool = False
    _fired_prev: bool = False

    # ------------------------------------------------------------------ commands
    def arm(self, now: float, window_s: float, inputs: SafetyInputs) -> str | None:
        """First step. Returns a reason name when refused."""
        why = self._preconditions(inputs)
        if why:
            return why
        self.armed = True
        self.arm_timer.start(now, window_s)
        self.hal.relays.arm(window_s)
        self.event("LASER_ARMED", int(window_s * 1000))
        return None

    def fire(self, now: float, inputs: SafetyInputs) -> str | None:
        """Second step: refused unless armed inside the window, locked and inside the limits."""
        if not self.armed:
            return "NOT_ARMED"
        if self.arm_timer.expired(now):
            self.safe("ARM_TIMEOUT")
            return "ARM_EXPIRED"
        why = self._preconditions(inputs)
        if why:
            return why
        self.armed = False
        self.arm_timer.clear()
        self.hal.relays.fire()
        self.hal.laser.set_driver(True)
        self.firing = True
        self.event("LASER_FIRED")
        return None

    def _preconditions(self, inputs: SafetyInputs) -> str | None:
        if not inputs.locked:
            return "NOT_LOCKED"
        if not self.limit.inside(inputs.az, inputs.el):
            return "POINTING_OUTSIDE_LIMITS"
        if any(self.switches) or self.over_temp or not self.interlock_ok:
            return "INHIBITED"
        return None

    def safe(self, reason: str) -> None:
        """Driver off and both relays open, whatever state we think we are in."""
        was_active = self.armed or self.firing
        self.hal.laser.set_driver(False)
        self.hal.relays.open()
        self.armed = self.firing = False
        self._fired_prev = was_active or self._fired_prev
        self.arm_timer.clear()
        if was_active or reason not in ("COMMANDED", "PASS_END"):
            self.last_safing = reason
            self.safing_count += 1
            self.event("LASER_SAFED", _SAFING_IDS[reason])

    # ------------------------------------------------------------------ every cycle
    def monitor(self, now: float, dt: float, inputs: SafetyInputs) -> str | None:
        """Read every sensor, safe the laser on any violation; returns a reason that needs
        SAFE mode (or LOSS_OF_LOCK / ARM_TIMEOUT, which only safe the laser), else None."""
        hal = self.hal
        hal.laser.kick_watchdog()
        self.locked = inputs.locked
        switches = hal.switches.read()
        relays = hal.relays.read()
        self.emitting = hal.laser.photodiode_mw() > EMISSION_SENSED_MW
        self.interlock_ok = hal.laser.interlock_ok()
        t_laser = hal.thermal.read()[0]
        pointing_ok = self.limit.inside(inputs.az, inputs.el)
        if self.emitting:
            self.emit_time += dt
        reason = None
        for i, (new, old) in enumerate(zip(switches, self.switches)):
            if new and not old:
                self.event("LIMIT_SWITCH_TRIP", i)
        self.switches = switches
        if pointing_ok != self.pointing_ok and not pointing_ok:
            self.event("SOFT_LIMIT", int(inputs.az * 1000), int(inputs.el * 1000))
        self.pointing_ok = pointing_ok
        over = t_laser > LASER_MAX_TEMP_C
        if over and not self.over_temp:
            self.event("OVER_TEMPERATURE", 0, int(t_laser * 100))
        self.over_temp = over
        expected = self.firing
        if relays != (expected, expected):
            if relays != self.relays:
                for name, got in zip((0, 1), relays):
                    if got != expected:
                        self.event("RELAY_MISMATCH", name, int(got), int(expected))
            reason = "RELAY_MISMATCH"
        self.relays = relays
        if self.emitting and not self.firing and not self._fired_prev:
            # (one cycle of grace: light from before a safing this cycle is still in the sample)
            self.event("EMISSION_UNEXPECTED")
            reason = "EMISSION_UNEXPECTED"
        elif any(switches):
            reason = "SWITCH_TRIP"
        elif not pointing_ok:
            reason = "POINTING_LIMIT"
        elif over:
            reason = "OVER_TEMPERATURE"
        elif self.firing and not self.interlock_ok:
            reason = "FAULT"
        elif self.firing and not inputs.locked:
            reason = reason or "LOSS_OF_LOCK"
        elif self.armed and self.arm_timer.expired(now):
            self.event("ARM_TIMEOUT")
            reason = reason or "ARM_TIMEOUT"
        if reason and (self.armed or self.firing or reason in SAFE_MODE_REASONS):
            if self.armed or self.firing or relays != (False, False) or self.emitting:
                self.safe(reason)
        self._fired_prev = self.firing
        return reason

    # ------------------------------------------------------------------ telemetry
    @property
    def laser_state(self) -> str:
        if self.emitting or self.firing:
            return "EMITTING"
        if self.armed:
            return "ARMED"
        return "OFF"

    def signature(self) -> tuple:
        """Everything the SAFETY packet reports as state (cheap to compare every cycle)."""
        return (self.relays, self.armed, self.firing, self.pointing_ok, self.locked, self.switches,
                self.emitting, self.interlock_ok, self.over_temp, self.last_safing, self.safing_count)

    @property
    def watchdog_ok(self) -> bool:
        """The interlock chain is limit switches + watchdog and reads back as one line, so an open
        chain that no tripped switch explains is the watchdog."""
        return self.interlock_ok or any(self.switches)

    def status_word(self) -> int:
        b = SAFETY_BITS
        bits = {
            "relay_a_closed": self.relays[0], "relay_b_closed": self.relays[1],
            "sw_armed": self.armed, "sw_fire_enabled": self.firing, "sw_pointing_ok": self.pointing_ok,
            "track_locked": self.locked, "switch_az_low": self.switches[0], "switch_az_high": self.switches[1],
            "switch_el_low": self.switches[2], "switch_el_high": self.switches[3],
            "laser_emitting": self.emitting, "hw_interlock_ok": self.interlock_ok,
            "over_temperature": self.over_temp, "watchdog_ok": self.watchdog_ok, "relay_commanded": self.firing,
        }
        return sum(1 << b[k] for k, v in bits.items() if v)

    def h1_inhibits(self) -> int:
        return int(not self.relays[0]) + int(not self.relays[1]) + int(not self.firing)

    def h2_inhibits(self) -> int:
        # Hardstops are passive; switches count when none is tripped; software limit when in force.
        return 1 + int(not any(self.switches)) + int(self.pointing_ok)


_SAFING_IDS = {
    "NONE": 0, "COMMANDED": 1, "LOSS_OF_LOCK": 2, "POINTING_LIMIT": 3, "SWITCH_TRIP": 4, "ARM_TIMEOUT": 5,
    "OVER_TEMPERATURE": 6, "WATCHDOG": 7, "RELAY_MISMATCH": 8, "FAULT": 9, "PASS_END": 10,
    "EMISSION_UNEXPECTED": 11,
}
