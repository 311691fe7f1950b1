"""A command that is accepted but cannot be carried out is acknowledged FAILED with a reason:
the health check with a biased azimuth encoder never sees the gimbal home, times out, fails."""
from __future__ import annotations

from flight.app import FlightConfig
from protocol.codec import make_codec
from protocol.opals import ACK_STAGES, REASONS
from sim.pass_geometry import FlyoverPass
from sim.safety_campaign import SHORT_CAMERA, START_TAI
from sim.simulation import Simulation
from sim.world import WorldConfig

CODEC = make_codec()
STAGE = {v: k for k, v in ACK_STAGES.items()}
REASON = {v: k for k, v in REASONS.items()}


def _run(faults: tuple[str, ...]):
    sim = Simulation(FlyoverPass(tca_tai=START_TAI + 1000.0), START_TAI, faults=faults, codec=CODEC,
                     flight_config=FlightConfig(control_hz=20.0, stow=(62.0, 14.0), boot_s=0.5),
                     world_config=WorldConfig(camera=dict(SHORT_CAMERA)))
    sim.run_until(START_TAI + 1.0)
    sim.port.ground(CODEC.encode_cmd("HEALTH_CHECK", {}, seq=7))
    sim.run_until(START_TAI + 75.0)
    acks = [(a["stage"], a["reason"]) for a in (CODEC.decode(p).values for p in sim.port.sent if p[1] == 0x23)
            if a["cmd_seq"] == 7]
    events = [CODEC.dictionary.event_by_id(CODEC.decode(p).values["event_id"]).name
              for p in sim.port.sent if p[1] == 0x24]
    return sim, acks, events


def test_health_check_that_cannot_pass_is_acknowledged_failed():
    sim, acks, events = _run(("encoder_bias",))
    assert acks == [(STAGE["ACCEPTED"], REASON["OK"]), (STAGE["FAILED"], REASON["EXECUTION_FAILED"])]
    assert "HEALTH_CHECK_FAILED" in events and sim.flight.mode == "IDLE" and not sim.flight.health_ok


def test_health_check_that_passes_is_acknowledged_completed():
    sim, acks, events = _run(())
    assert acks == [(STAGE["ACCEPTED"], REASON["OK"]), (STAGE["COMPLETED"], REASON["OK"])]
    assert "HEALTH_CHECK_PASSED" in events and sim.flight.health_ok
