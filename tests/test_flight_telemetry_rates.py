"""The telemetry rates ground relies on, at the flight defaults (100 Hz control): housekeeping at
1 Hz, tracking at 10 Hz, the safety status word at its dictionary rate, and the onboard tracking
log at the control rate (100 Hz)."""
from __future__ import annotations

import numpy as np

from flight.app import FlightConfig
from flight.file_store import TRACKING_LOG_DTYPE
from protocol.codec import make_codec
from protocol.opals import DICTIONARY
from sim.pass_geometry import FlyoverPass
from sim.pass_plan import plan_pass, timetag_packets
from sim.safety_campaign import SHORT_CAMERA, SHORT_TCA_S, START_TAI
from sim.simulation import Simulation
from sim.world import WorldConfig

CODEC = make_codec()


def test_default_rates_are_the_dictionary_rates(tmp_path):
    sim = Simulation(FlyoverPass(tca_tai=START_TAI + SHORT_TCA_S), START_TAI, flight_config=FlightConfig(boot_s=0.5),
                     world_config=WorldConfig(camera=dict(SHORT_CAMERA)), store_dir=tmp_path, codec=CODEC)
    assert sim.flight.config.control_hz == 100.0
    sim.run_until(START_TAI + 2.05)
    sim.port.sent.clear()
    sim.run_until(START_TAI + 12.05)           # ten seconds
    names = [CODEC.decode(p).name for p in sim.port.sent]
    assert DICTIONARY.telemetry["HOUSEKEEPING"].rate_hz == 1.0 and names.count("HOUSEKEEPING") == 10
    assert DICTIONARY.telemetry["TRACKING"].rate_hz == 10.0 and names.count("TRACKING") == 100
    assert names.count("SAFETY") == round(10 * DICTIONARY.telemetry["SAFETY"].rate_hz)


def test_tracking_log_holds_every_100_hz_control_cycle_of_the_pass(tmp_path):
    sim = Simulation(FlyoverPass(tca_tai=START_TAI + SHORT_TCA_S), START_TAI,
                     flight_config=FlightConfig(boot_s=0.5, stow=(62.0, 14.0)),
                     world_config=WorldConfig(camera=dict(SHORT_CAMERA)), store_dir=tmp_path, codec=CODEC)
    items, times = plan_pass(sim.geometry, START_TAI, stow=(62.0, 14.0), arm_after_rise_s=6.0, transmit_s=5.0)
    for p in timetag_packets(CODEC, items):
        sim.port.ground(p)
    sim.run_until(times.end + 5.0)
    log = next(e for e in sim.flight.store.files.values() if e.kind == "TRACKING_LOG")
    rec = np.frombuffer(log.path.read_bytes(), TRACKING_LOG_DTYPE)
    step = np.diff(rec["tai"])
    assert len(rec) > 100 * 5 and np.allclose(step, 0.01, atol=1e-6)
