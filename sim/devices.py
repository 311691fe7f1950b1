"""flight.hal implemented by the simulated world (in-process devices)."""
from __future__ import annotations

import numpy as np

from flight.hal import Frame, Hal, Window
from sim.world import World


class SimGimbal:
    def __init__(self, world: World):
        self.w = world

    def command(self, az_deg: float, el_deg: float) -> None:
        self.w.gimbal.command(az_deg, el_deg)

    def read(self) -> tuple[float, float]:
        return self.w.gimbal.read()


class SimRelays:
    def __init__(self, world: World):
        self.w = world

    def arm(self, window_s: float) -> None:
        self.w.laser.relay_a.arm(window_s)
        self.w.laser.relay_b.arm(window_s)

    def fire(self) -> None:
        self.w.laser.relay_a.fire()
        self.w.laser.relay_b.fire()

    def open(self) -> None:
        self.w.laser.relay_a.open()
        self.w.laser.relay_b.open()

    def read(self) -> tuple[bool, bool]:
        return self.w.laser.relay_a.contact, self.w.laser.relay_b.contact


class SimLaser:
    def __init__(self, world: World):
        self.w = world

    def set_driver(self, on: bool) -> None:
        self.w.laser.driver_on = bool(on)

    def photodiode_mw(self) -> float:
        return self.w.laser.photodiode_mw()

    def current_a(self) -> float:
        return 3.2 if self.w.laser.emitting else 0.0

    def kick_watchdog(self) -> None:
        self.w.laser.kick()

    def interlock_ok(self) -> bool:
        return self.w.laser.interlock_ok()


class SimCamera:
    def __init__(self, world: World):
        self.w = world
        cam = world.camera
        self.width, self.height, self.ifov_urad = cam.width, cam.height, cam.ifov_urad

    def grab(self, window: Window | None) -> Frame:
        w = self.w
        beacon = None
        if w.beacon_visible:
            beacon = (w.err_x_urad, w.err_y_urad, w.camera.beacon_signal(w.look.range_km))
        return w.camera.render(window, beacon)


class SimSwitches:
    def __init__(self, world: World):
        self.w = world

    def read(self) -> tuple[bool, bool, bool, bool]:
        return self.w.switches.tripped()


class SimThermal:
    def __init__(self, world: World):
        self.w = world

    def read(self) -> tuple[float, float, float]:
        return self.w.thermal.read()


class SimPower:
    def __init__(self, world: World):
        self.w = world

    def read(self) -> tuple[float, float]:
        i = 1.4 + (3.6 if self.w.laser.emitting else 0.0)
        return 28.0 - 0.05 * i, i


class SimModulator:
    """The modulator ahead of the laser: holds what flight handed it during one control cycle
    until the world's next step, when the optical link (sim/optical_link.py) puts it on the beam
    if, and only if, the laser physically emits. Frame level unless a bit recording is wanted."""

    def __init__(self) -> None:
        self.bit_level = False
        self.frames_in = 0
        self._cadus: list[np.ndarray] = []
        self._count = 0

    def modulate(self, cadus: np.ndarray) -> None:
        self._cadus.append(cadus)
        self._count += int(cadus.shape[0])
        self.frames_in += int(cadus.shape[0])

    def advance(self, frames: int) -> None:
        self._count += int(frames)
        self.frames_in += int(frames)

    def drain(self) -> tuple[np.ndarray | None, int]:
        """(CADUs with bits or None, how many frames) since the last drain."""
        cadus = None
        if self._cadus:
            cadus = self._cadus[0] if len(self._cadus) == 1 else np.concatenate(self._cadus)
        n, self._cadus, self._count = self._count, [], 0
        return cadus, n


def sim_hal(world: World) -> Hal:
    return Hal(SimGimbal(world), SimRelays(world), SimLaser(world), SimCamera(world), SimSwitches(world),
               SimThermal(world), SimPower(world), SimModulator())
