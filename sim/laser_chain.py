"""The laser power chain: relays A and B (each with its own hardware ARM window), the software
driver enable, the hardware interlock (limit switches and watchdog) and the photodiode.

Photons leave only when every element of the series chain passes power:
relay A closed AND relay B closed AND driver enabled AND interlock closed."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from sim.gimbal import LimitSwitches

LASER_POWER_MW = 2500.0


@dataclass
class RelayDriver:
    """ARM opens a hardware window; FIRE closes and latches the contact only inside it."""

    now: Callable[[], float]
    closed: bool = False
    window_end: float | None = None
    stuck_closed: bool = False         # fault: contacts welded

    def arm(self, window_s: float) -> None:
        self.window_end = self.now() + window_s

    def fire(self) -> None:
        if self.window_end is not None and self.now() <= self.window_end:
            self.closed = True
        self.window_end = None

    def open(self) -> None:
        self.closed = False
        self.window_end = None

    @property
    def contact(self) -> bool:
        return self.closed or self.stuck_closed


@dataclass
class LaserChain:
    switches: LimitSwitches
    watchdog_timeout_s: float
    now: Callable[[], float]
    relay_a: RelayDriver = field(init=False)
    relay_b: RelayDriver = field(init=False)
    driver_on: bool = False
    driver_stuck_on: bool = False      # fault: driver enabled whatever software says
    photodiode_blind: bool = False     # fault
    last_kick: float | None = None
    emitting: bool = False

    def __post_init__(self) -> None:
        self.relay_a = RelayDriver(self.now)
        self.relay_b = RelayDriver(self.now)

    def kick(self) -> None:
        self.last_kick = self.now()

    def watchdog_ok(self) -> bool:
        return self.last_kick is not None and self.now() - self.last_kick <= self.watchdog_timeout_s + 1e-9

    def interlock_ok(self) -> bool:
        return not any(self.switches.tripped()) and self.watchdog_ok()

    def step(self) -> None:
        self.emitting = (self.relay_a.contact and self.relay_b.contact
                         and (self.driver_on or self.driver_stuck_on) and self.interlock_ok())

    def photodiode_mw(self) -> float:
        return 0.0 if self.photodiode_blind or not self.emitting else LASER_POWER_MW * 0.01
