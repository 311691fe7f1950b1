"""HIL: the flight software drives the simulated devices across a pseudo-terminal (device bus
over a serial line, separate processes), from the same command script as the pure simulation,
and flies the same pass: same modes, same onboard tracking summary."""
from __future__ import annotations

import subprocess
import sys

from flight.app import FlightConfig
from protocol.codec import make_codec
from sim.hil import run_flight_hil
from sim.pass_geometry import FlyoverPass
from sim.pass_plan import plan_pass, timetag_packets
from sim.simulation import Simulation
from sim.world import WorldConfig

START = "2026-01-01T00:00:00"
ARGS = ["--start", START, "--pass-offset", "155", "--seed", "4", "--control-hz", "20", "--stow", "62,14",
        "--camera", "160x128@200"]


def _plan(start: float):
    geometry = FlyoverPass(tca_tai=start + 155.0)
    items, times = plan_pass(geometry, start, stow=(62.0, 14.0), transmit_s=6.0)
    return geometry, timetag_packets(make_codec(), items), times


def _devices(*extra: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "sim.cli", "devices", "--pty", "--idle-timeout", "20", *ARGS,
                             *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    path = proc.stdout.readline().strip()
    assert path.startswith("/dev/"), proc.stderr.read()
    return proc, path


def test_hil_over_pty_flies_the_same_pass_as_the_pure_simulation():
    from sim.cli_run import _parse_time
    start = _parse_time(START)
    geometry, packets, times = _plan(start)
    cfg = FlightConfig(control_hz=20.0, stow=(62.0, 14.0))
    proc, path = _devices()
    try:
        hil = run_flight_hil(path, packets, times.end + 5.0, cfg)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    sim = Simulation(geometry, start, seed=4, flight_config=FlightConfig(control_hz=20.0, stow=(62.0, 14.0)),
                     world_config=WorldConfig(camera={"width": 160, "height": 128, "ifov_urad": 200.0}))
    for p in packets:
        sim.port.ground(p)
    sim.run_until(times.end + 5.0)
    assert hil.client.timeouts == 0 and hil.client.requests > 1000
    assert hil.flight.modes.history == sim.flight.modes.history
    assert ("TRACK", "TRANSMIT") in hil.flight.modes.history
    assert hil.flight.last_summary == sim.flight.last_summary
    assert hil.flight.last_summary["emit_s"] > 5.0
    # No optical head on the bench: flight's playout runs and the FrameCounter modulator counts
    # exactly the frames the pure simulation's modulator was handed.
    counted = hil.flight.hal.modulator.frames
    assert counted == hil.flight.optical.playout.frames_sent == sim.modulator.frames_in > 5.0 * 4000


def test_hil_hardware_fault_is_caught_across_the_line():
    """Relay B welded from power-on: the health check reads it back over the bus and fails."""
    from sim.cli_run import _parse_time
    start = _parse_time(START)
    _, packets, times = _plan(start)
    proc, path = _devices("--fault", "relay_b_stuck_closed")
    try:
        hil = run_flight_hil(path, packets, start + 10.0, FlightConfig(control_hz=20.0, stow=(62.0, 14.0)))
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert hil.flight.mode == "SAFE"
    assert not hil.flight.health_ok
    codec = make_codec()
    events = [codec.dictionary.event_by_id(codec.decode(p).values["event_id"]).name
              for p in hil.port.sent if p[1] == 0x24]
    assert "RELAY_MISMATCH" in events and "SAFE_MODE" in events


def test_hil_in_real_time_on_the_wall_clock():
    """Devices stepping on their own wall clock, flight on the wall clock: boot and health check
    across the line in real time (about 3 s)."""
    from sim.cli_run import _parse_time
    start = _parse_time(START)
    _, packets, _ = _plan(start)
    proc, path = _devices("--realtime")
    try:
        hil = run_flight_hil(path, packets, start + 3.0, FlightConfig(control_hz=20.0, stow=(62.0, 14.0)),
                             realtime=True)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert hil.client.timeouts == 0
    assert ("HEALTH_CHECK", "READY") in hil.flight.modes.history and hil.flight.health_ok
    assert 50 <= hil.flight.executive.cycle <= 70          # about 3 s of 20 Hz cycles


def _kill_after(proc: subprocess.Popen, seconds: float):
    import threading
    t = threading.Timer(seconds, proc.kill)
    t.start()
    return t


def test_hil_devices_dying_mid_run_safe_the_flight_software_which_still_reports():
    """Real time: the device server dies (a cable pulled); flight counts device faults, goes
    SAFE and the run ends with its report instead of a crash on the way out."""
    from sim.cli_run import _parse_time
    start = _parse_time(START)
    proc, path = _devices("--realtime")
    timer = _kill_after(proc, 1.5)
    try:
        hil = run_flight_hil(path, [], start + 3.5, FlightConfig(control_hz=20.0, stow=(62.0, 14.0)), realtime=True)
    finally:
        timer.cancel()
        proc.kill()
        proc.wait(timeout=10)
    assert hil.flight.device_faults > 0 and hil.flight.mode == "SAFE"
    assert hil.flight.executive.cycle >= 60     # it kept cycling after the devices went


def test_hil_lockstep_devices_dying_is_a_clear_bus_error():
    """Lockstep: the devices are the clock, so their loss ends the run with a BusError that says so."""
    import pytest

    from flight.device_bus import BusError
    from sim.cli_run import _parse_time
    start = _parse_time(START)
    proc, path = _devices()
    timer = _kill_after(proc, 1.0)
    try:
        with pytest.raises(BusError, match="devices lost"):
            run_flight_hil(path, [], start + 1e6, FlightConfig(control_hz=20.0, stow=(62.0, 14.0)))
    finally:
        timer.cancel()
        proc.kill()
        proc.wait(timeout=10)
