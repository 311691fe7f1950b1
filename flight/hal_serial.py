"""flight.hal over a serial device bus (HIL): every device call is a request/response on the
line to the payload electronics (or to sim/device_server.py behind a pseudo-terminal).

A device that does not answer raises BusError; the flight application treats a dead bus like
any hardware fault (the laser chain's own watchdog cuts emission if flight stops kicking it).

The optical modulator is a FrameCounter: the bench has no optical head and 50 Mbit/s of coded
frames would not fit the device bus, so flight's playout runs and its frames are only counted.
"""
from __future__ import annotations

import struct

import numpy as np

from flight import device_bus as bus
from flight.hal import FrameCounter, Frame, Hal, Window


class _Dev:
    def __init__(self, client: bus.DeviceBusClient):
        self.c = client


class SerialGimbal(_Dev):
    def command(self, az_deg: float, el_deg: float) -> None:
        self.c.call(bus.OP_GIMBAL_CMD, struct.pack(">dd", az_deg, el_deg))

    def read(self) -> tuple[float, float]:
        return struct.unpack(">dd", self.c.call(bus.OP_GIMBAL_READ))


class SerialRelays(_Dev):
    def arm(self, window_s: float) -> None:
        self.c.call(bus.OP_RELAY_ARM, struct.pack(">d", window_s))

    def fire(self) -> None:
        self.c.call(bus.OP_RELAY_FIRE)

    def open(self) -> None:
        self.c.call(bus.OP_RELAY_OPEN)

    def read(self) -> tuple[bool, bool]:
        a, b = struct.unpack(">BB", self.c.call(bus.OP_RELAY_READ))
        return bool(a), bool(b)


class SerialLaser(_Dev):
    def set_driver(self, on: bool) -> None:
        self.c.call(bus.OP_LASER_DRIVER, struct.pack(">B", 1 if on else 0))

    def photodiode_mw(self) -> float:
        return struct.unpack(">d", self.c.call(bus.OP_PHOTODIODE))[0]

    def current_a(self) -> float:
        return struct.unpack(">d", self.c.call(bus.OP_LASER_CURRENT))[0]

    def kick_watchdog(self) -> None:
        self.c.call(bus.OP_WATCHDOG)

    def interlock_ok(self) -> bool:
        return bool(self.c.call(bus.OP_INTERLOCK)[0])


class SerialCamera(_Dev):
    def __init__(self, client: bus.DeviceBusClient):
        super().__init__(client)
        self.width, self.height, self.ifov_urad = struct.unpack(">HHd", client.call(bus.OP_CAMERA_INFO))

    def grab(self, window: Window | None) -> Frame:
        w = window or Window(0, 0, 0, 0)
        reply = self.c.call(bus.OP_CAMERA_GRAB, struct.pack(">hhhh", w.x0, w.y0, w.width, w.height))
        count, x0, y0, width, height = struct.unpack_from(">Ihhhh", reply)
        pixels = np.frombuffer(reply, ">u2", width * height, 12).astype(np.uint16).reshape(height, width)
        return Frame(pixels, Window(x0, y0, width, height), count)


class SerialSwitches(_Dev):
    def read(self) -> tuple[bool, bool, bool, bool]:
        return tuple(bool(b) for b in self.c.call(bus.OP_SWITCHES)[:4])  # type: ignore[return-value]


class SerialThermal(_Dev):
    def read(self) -> tuple[float, float, float]:
        return struct.unpack(">ddd", self.c.call(bus.OP_THERMAL))


class SerialPower(_Dev):
    def read(self) -> tuple[float, float]:
        return struct.unpack(">dd", self.c.call(bus.OP_POWER))


def serial_hal(client: bus.DeviceBusClient) -> Hal:
    return Hal(SerialGimbal(client), SerialRelays(client), SerialLaser(client), SerialCamera(client),
               SerialSwitches(client), SerialThermal(client), SerialPower(client), FrameCounter())


def step_devices(client: bus.DeviceBusClient) -> float:
    """Lockstep HIL: advance the device simulation one period; returns its TAI."""
    return struct.unpack(">d", client.call(bus.OP_STEP))[0]
