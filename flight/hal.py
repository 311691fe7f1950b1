"""Device interfaces the flight software drives: the only way flight touches hardware.

The simulator (sim/devices.py) implements them in-process; flight/hal_serial.py implements them
across a serial line (HIL). Flight code never imports sim: it is handed a ``Hal``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True, slots=True)
class Window:
    """A camera region of interest in full-frame pixel coordinates."""

    x0: int
    y0: int
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class Frame:
    pixels: np.ndarray      # uint16, shape (height, width)
    window: Window          # where the pixels sit in the full frame
    count: int              # camera frame counter


class GimbalDevice(Protocol):
    def command(self, az_deg: float, el_deg: float) -> None:
        """Position set-point for the servo (called every control cycle)."""

    def read(self) -> tuple[float, float]:
        """Encoder angles (az, el), degrees from nadir."""


class RelayDevice(Protocol):
    """The two laser power relays A and B. Each has its own hardware driver: ARM opens a
    hardware window; FIRE closes (and latches) a relay only inside its window; OPEN opens both."""

    def arm(self, window_s: float) -> None: ...

    def fire(self) -> None: ...

    def open(self) -> None: ...

    def read(self) -> tuple[bool, bool]:
        """Contact read-back (a_closed, b_closed)."""


class LaserDevice(Protocol):
    def set_driver(self, on: bool) -> None:
        """Software enable of the laser driver (the software inhibit of H1)."""

    def photodiode_mw(self) -> float:
        """Optical power sensed at the output tap: the independent check of emission."""

    def current_a(self) -> float: ...

    def kick_watchdog(self) -> None:
        """Hardware watchdog: without a kick for a few cycles it cuts laser power by itself."""

    def interlock_ok(self) -> bool:
        """Read-back of the hardware interlock chain (limit switches and watchdog)."""


class CameraDevice(Protocol):
    width: int
    height: int
    ifov_urad: float

    def grab(self, window: Window | None) -> Frame:
        """The next frame, only the requested window (None: full frame)."""


class SwitchDevice(Protocol):
    def read(self) -> tuple[bool, bool, bool, bool]:
        """Limit microswitches tripped? (AZ_LOW, AZ_HIGH, EL_LOW, EL_HIGH)."""


class ThermalDevice(Protocol):
    def read(self) -> tuple[float, float, float]:
        """Temperatures (laser, gimbal, electronics), degC."""


class PowerDevice(Protocol):
    def read(self) -> tuple[float, float]:
        """Bus (volts, amps)."""


class ModulatorDevice(Protocol):
    """The laser's data modulator: flight hands it the coded frames (CADUs) to put on the beam.
    It only shapes the light: a laser that is off transmits nothing whatever it is given."""

    bit_level: bool
    """True when the device needs the frames' bits; False when it only needs how many frames were
    played (frame-level simulation of whole passes, or a bench with no optical head)."""

    def modulate(self, cadus: np.ndarray) -> None:
        """CADUs (n, cadu_len) uint8 to send next, in order."""

    def advance(self, frames: int) -> None:
        """``frames`` CADUs played out without their bits (``bit_level`` False)."""


@dataclass
class FrameCounter:
    """A modulator that only counts: the HIL bench has no optical head (a 50 Mbit/s stream does
    not fit the serial device bus), so flight's playout is exercised and the frames counted."""

    bit_level: bool = False
    frames: int = 0
    bits: int = 0

    def modulate(self, cadus: np.ndarray) -> None:
        self.frames += int(cadus.shape[0])
        self.bits += 8 * int(cadus.size)

    def advance(self, frames: int) -> None:
        self.frames += int(frames)


class CommPort(Protocol):
    """The RF link to ground: one CCSDS packet per call (links.Link satisfies it)."""

    def send(self, packet: bytes) -> bool: ...

    def recv(self, timeout: float = 0.0) -> list[bytes]: ...


@dataclass
class Hal:
    gimbal: GimbalDevice
    relays: RelayDevice
    laser: LaserDevice
    camera: CameraDevice
    switches: SwitchDevice
    thermal: ThermalDevice
    power: PowerDevice
    modulator: ModulatorDevice | None = None      # None: no optical downlink on this payload
