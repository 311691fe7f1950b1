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
from flight.device_bus import OP_QUIT, BusError, DeviceBusClient, encode_frame
from flight.hal_serial import serial_hal, step_devices
from sim.simulation import UplinkPort


@dataclass
class HilRun:
    flight: FlightSoftware
    port: UplinkPort
    client: DeviceBusClient


def run_flight_hil(device: str, packets: list[bytes], until_tai: float, config: FlightConfig,
                   link=None, store_dir: Path | None = None, realtime: bool = False) -> HilRun:
    """Lockstep: each cycle steps the devices and uses their time as the clock. ``realtime``:
    the devices run on their own; flight's clock is the wall clock (set once from the devices)."""
    import time
    dev = serial.serial_for_url(device, baudrate=115200, timeout=0.05)
    client = DeviceBusClient(dev)
    hal = serial_hal(client)
    now = [step_devices(client)]
    port = UplinkPort(link)
    store = store_dir or Path(tempfile.mkdtemp(prefix="opals-hil-store-"))
    if realtime:
        tai0, wall0 = now[0], time.monotonic()

        def clock() -> float:
            return tai0 + (time.monotonic() - wall0)
    else:
        def clock() -> float:
            return now[0]
    flight = FlightSoftware(hal, port, clock, store, config)
    for p in packets:
        port.ground(p)
    flight.step()
    while clock() < until_tai - 1e-9:
        if realtime:
            nxt = flight.executive.next_due()
            if nxt is not None:
                time.sleep(max(0.0, nxt - clock()))
        else:
            try:
                now[0] = step_devices(client)
            except OSError as exc:   # pyserial's SerialException is an OSError
                raise BusError(f"devices lost at TAI {now[0]:.2f} (in lockstep they are the clock): {exc}") from exc
        flight.step()
    try:
        dev.write(encode_frame(bytes([OP_QUIT, 0, 0])))
        dev.flush()
    except OSError:
        pass   # the devices are gone already: flight has safed itself, the run still reports
    finally:
        dev.close()
    return HilRun(flight, port, client)
