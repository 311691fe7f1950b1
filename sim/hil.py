"""Hardware-in-the-loop: the flight software driving its devices across a serial line.

``run_flight_hil`` is the flight computer's main loop in lockstep HIL: each control period it
steps the devices (OP_STEP), takes the device time as its clock, and runs its cycle. The same
plan (TIMETAG packets) as the pure simulation drives it, so the two runs can be compared."""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import serial

from flight.app import FlightConfig, FlightSoftware
from flight.device_bus import OP_QUIT, DeviceBusClient, encode_frame
from flight.hal_serial import serial_hal, step_devices
from sim.simulation import UplinkPort


@dataclass
class HilRun:
    flight: FlightSoftware
    port: UplinkPort
    client: DeviceBusClient


def run_flight_hil(device: str, packets: list[bytes], until_tai: float, config: FlightConfig,
                   link=None, store_dir: Path | None = None) -> HilRun:
    dev = serial.serial_for_url(device, baudrate=115200, timeout=0.05)
    client = DeviceBusClient(dev)
    hal = serial_hal(client)
    now = [step_devices(client)]
    port = UplinkPort(link)
    store = store_dir or Path(tempfile.mkdtemp(prefix="opals-hil-store-"))
    flight = FlightSoftware(hal, port, lambda: now[0], store, config)
    for p in packets:
        port.ground(p)
    flight.step()
    while now[0] < until_tai - 1e-9:
        now[0] = step_devices(client)
        flight.step()
    try:
        dev.write(encode_frame(bytes([OP_QUIT, 0, 0])))
        dev.flush()
    finally:
        dev.close()
    return HilRun(flight, port, client)
