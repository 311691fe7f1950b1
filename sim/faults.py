"""The fault catalogue: each entry is ONE component failing, selectable on the CLI and in tests.

Hardware faults change a simulated device; software faults replace one flight component with a
broken wrapper (never an edit of flight logic). Onset "start" faults are present from power-on;
"transmit" faults strike two seconds into the first laser transmission (or at the scenario's
fallback time when the pass never gets there), which is when they can do the most harm.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from flight.tracker import BeaconFix

if TYPE_CHECKING:
    from sim.simulation import Simulation


@dataclass(frozen=True)
class Fault:
    name: str
    description: str
    inhibit: str            # the inhibit (or function) the failure defeats
    onset: str              # "start" | "transmit"
    apply: Callable[["Simulation"], None]

    def install(self, sim: "Simulation") -> None:
        def act() -> None:
            sim.active_faults.append(self.name)
            self.apply(sim)
        if self.onset == "start":
            act()
        else:
            sim.on_transmit(act)


class _AlwaysInside:
    """Broken software pointing limit: every direction passes, nothing is clamped."""

    def __init__(self, real):
        self.az, self.el = real.az, real.el

    def inside(self, az: float, el: float) -> bool:
        return True

    def clamp(self, az: float, el: float) -> tuple[float, float]:
        return az, el


class _NeverExpires:
    """Broken ARM window: the software timer never runs out."""

    def __init__(self, real):
        self.real = real

    def start(self, now: float, window_s: float) -> None:
        self.real.start(now, window_s)

    def clear(self) -> None:
        self.real.clear()

    def expired(self, now: float) -> bool:
        return False

    def remaining(self, now: float) -> float:
        return self.real.remaining(now)

    @property
    def deadline(self):
        return self.real.deadline


class _LyingCentroid:
    """Broken centroid: always reports a bright beacon dead centre (lock never lost)."""

    def __init__(self, width: int, height: int):
        self.x, self.y = (width - 1) / 2, (height - 1) / 2

    def __call__(self, frame) -> BeaconFix:
        return BeaconFix(True, 0.0, 0.0, 50000.0, self.x, self.y)


def _soft_limit_disabled(sim: "Simulation") -> None:
    broken = _AlwaysInside(sim.flight.limit)
    sim.flight.safety.limit = broken
    sim.flight.controller.limit = broken


def _arm_window_ignored(sim: "Simulation") -> None:
    sim.flight.safety.arm_timer = _NeverExpires(sim.flight.safety.arm_timer)


def _centroid_lies(sim: "Simulation") -> None:
    cam = sim.world.camera
    sim.flight.tracker.estimator = _LyingCentroid(cam.width, cam.height)


def _spurious_fire(sim: "Simulation") -> None:
    pkt = sim.codec.encode_cmd("LASER_FIRE", {}, seq=0x3FFF)

    def again() -> None:
        sim.port.inject(pkt)
        sim.at(sim.world.tai + 0.5, again)
    again()


def _clock_stall(sim: "Simulation") -> None:
    sim.clock.stalled_at = sim.world.tai


def _set(path: str, value) -> Callable[["Simulation"], None]:
    def apply(sim: "Simulation") -> None:
        obj = sim.world
        *parts, last = path.split(".")
        for p in parts:
            obj = getattr(obj, p)
        setattr(obj, last, value)
    return apply


_FAULTS = (
    Fault("relay_a_stuck_closed", "Laser power relay A welds closed", "H1 relay A", "transmit",
          _set("laser.relay_a.stuck_closed", True)),
    Fault("relay_b_stuck_closed", "Laser power relay B welds closed", "H1 relay B", "transmit",
          _set("laser.relay_b.stuck_closed", True)),
    Fault("laser_driver_stuck_on", "Laser driver enabled whatever software commands", "H1 software driver enable",
          "start", _set("laser.driver_stuck_on", True)),
    Fault("arm_window_ignored", "Software ARM window never expires", "H1 software arm/fire", "start",
          _arm_window_ignored),
    Fault("spurious_fire", "A LASER_FIRE command appears on the uplink every 0.5 s", "H1 command path", "start",
          _spurious_fire),
    Fault("hardstop_broken", "Mechanical hardstops missing", "H2 hardstops", "start",
          _set("gimbal.hardstops_intact", False)),
    Fault("switch_never_trips", "Limit microswitches failed closed (never trip)", "H2 microswitches", "start",
          _set("switches.never_trip", True)),
    Fault("switch_stuck_tripped", "Limit microswitches failed open (always tripped)", "H2 microswitches",
          "transmit", _set("switches.stuck_tripped", True)),
    Fault("soft_limit_disabled", "Software pointing-limit check always passes", "H2 software limit", "start",
          _soft_limit_disabled),
    Fault("encoder_bias", "Azimuth encoder reads 2 degrees low", "H2 software limit input", "start",
          _set("gimbal.encoder_bias_deg", (-2.0, 0.0))),
    Fault("gimbal_runaway", "Azimuth motor runs away at 5 deg/s", "gimbal control", "transmit",
          _set("gimbal.runaway_dps", (5.0, 0.0))),
    Fault("centroid_lies", "Centroid reports a perfect beacon whatever the camera sees", "tracking", "transmit",
          _centroid_lies),
    Fault("clock_stall", "Flight computer clock stops (software freezes)", "executive", "transmit", _clock_stall),
    Fault("photodiode_blind", "Emission photodiode reads zero", "H1 emission sensing", "start",
          _set("laser.photodiode_blind", True)),
    Fault("over_temperature", "Laser heats at 3 degC/s", "thermal", "transmit",
          _set("thermal.heating_fault_cps", 3.0)),
)
CATALOGUE: dict[str, Fault] = {f.name: f for f in _FAULTS}
