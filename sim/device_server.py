"""The simulated payload devices served on a serial line (a pseudo-terminal in tests): the far
end of flight/hal_serial.py. Hardware faults from the catalogue can be injected here; the world
steps in lockstep with flight (OP_STEP) so a HIL run is as repeatable as a pure simulation."""
from __future__ import annotations

import os
import select
import struct
import tty
from dataclasses import dataclass

import numpy as np

from flight import device_bus as bus
from flight.hal import Hal, Window
from sim.devices import sim_hal
from sim.world import World

# Faults that are pure hardware (device-side); software faults need the flight computer.
HARDWARE_FAULTS = ("relay_a_stuck_closed", "relay_b_stuck_closed", "relay_a_window_ignored", "relay_b_window_ignored", "laser_driver_stuck_on", "hardstop_broken",
                   "switch_never_trips", "switch_stuck_tripped", "encoder_bias", "photodiode_blind")


@dataclass
class DeviceServer:
    world: World
    hal: Hal
    requests: int = 0
    errors: int = 0

    @classmethod
    def for_world(cls, world: World) -> "DeviceServer":
        return cls(world, sim_hal(world))

    def handle(self, payload: bytes) -> bytes | None:
        """One request -> its response payload (None for QUIT)."""
        if len(payload) < 3:
            self.errors += 1
            return struct.pack(">BH", bus.OP_ERROR, 0) + b"short request"
        op, rid = struct.unpack_from(">BH", payload)
        body = payload[3:]
        self.requests += 1
        h = self.hal
        try:
            if op == bus.OP_STEP:
                out = struct.pack(">d", self.world.step().tai)
            elif op == bus.OP_GIMBAL_CMD:
                h.gimbal.command(*struct.unpack(">dd", body))
                out = b""
            elif op == bus.OP_GIMBAL_READ:
                out = struct.pack(">dd", *h.gimbal.read())
            elif op == bus.OP_RELAY_ARM:
                h.relays.arm(struct.unpack(">d", body)[0])
                out = b""
            elif op == bus.OP_RELAY_FIRE:
                h.relays.fire()
                out = b""
            elif op == bus.OP_RELAY_OPEN:
                h.relays.open()
                out = b""
            elif op == bus.OP_RELAY_READ:
                out = struct.pack(">BB", *h.relays.read())
            elif op == bus.OP_LASER_DRIVER:
                h.laser.set_driver(bool(body[0]))
                out = b""
            elif op == bus.OP_PHOTODIODE:
                out = struct.pack(">d", h.laser.photodiode_mw())
            elif op == bus.OP_LASER_CURRENT:
                out = struct.pack(">d", h.laser.current_a())
            elif op == bus.OP_WATCHDOG:
                h.laser.kick_watchdog()
                out = b""
            elif op == bus.OP_INTERLOCK:
                out = struct.pack(">B", h.laser.interlock_ok())
            elif op == bus.OP_CAMERA_INFO:
                c = h.camera
                out = struct.pack(">HHd", c.width, c.height, c.ifov_urad)
            elif op == bus.OP_CAMERA_GRAB:
                x0, y0, w, hh = struct.unpack(">hhhh", body)
                f = h.camera.grab(Window(x0, y0, w, hh) if w > 0 else None)
                win = f.window
                out = struct.pack(">Ihhhh", f.count, win.x0, win.y0, win.width, win.height) + \
                    np.ascontiguousarray(f.pixels, dtype=">u2").tobytes()
            elif op == bus.OP_SWITCHES:
                out = bytes(int(s) for s in h.switches.read())
            elif op == bus.OP_THERMAL:
                out = struct.pack(">ddd", *h.thermal.read())
            elif op == bus.OP_POWER:
                out = struct.pack(">dd", *h.power.read())
            elif op == bus.OP_QUIT:
                return None
            else:
                raise ValueError(f"unknown op {op:#x}")
        except Exception as exc:  # noqa: BLE001 - a bad request is answered, never fatal
            self.errors += 1
            return struct.pack(">BH", bus.OP_ERROR, rid) + str(exc).encode()[:200]
        return struct.pack(">BH", op, rid) + out


def open_pty() -> tuple[int, str]:
    """(master fd, slave path) of a new raw pseudo-terminal pair."""
    master, slave = os.openpty()
    tty.setraw(slave)
    tty.setraw(master)
    path = os.ttyname(slave)
    return master, path


def serve_fd(server: DeviceServer, fd: int, idle_timeout_s: float = 30.0) -> None:
    """Serve requests on a file descriptor until QUIT, end of file or ``idle_timeout_s`` of silence."""
    reader = bus.FrameReader()
    while True:
        r, _, _ = select.select([fd], [], [], idle_timeout_s)
        if not r:
            return
        try:
            data = os.read(fd, 1 << 16)
        except OSError:
            return
        if not data:
            return
        for payload in reader.feed(data):
            reply = server.handle(payload)
            if reply is None:
                return
            frame = memoryview(bus.encode_frame(reply))
            while frame:
                n = os.write(fd, frame)
                frame = frame[n:]
