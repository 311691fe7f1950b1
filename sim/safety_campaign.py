"""A shortened but complete pass plus an adversarial command sequence, for the safety proof.

Everything a real pass does happens (boot, health check, predicts, pre-pass slew, acquisition,
closed-loop track, ARM/FIRE, transmit, laser safe, stow), at a 20 Hz control rate with a
160x128 camera of the same field of view, so one run costs a few hundredths of a second and
every single fault and every pair of faults can be run in CI. The adversarial sequence tries
every way to get light out that ground did not authorise: FIRE without ARM, ARM in the wrong
mode, FIRE after the window, ARM while emitting, commands after END_PASS, corrupt packets.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from flight.app import FlightConfig
from protocol.codec import Codec, make_codec
from protocol.crc import crc16
from sim.hazards import Violation
from sim.pass_geometry import FlyoverPass
from sim.pass_plan import plan_pass, timetag_packets
from sim.simulation import Simulation
from sim.world import WorldConfig

START_TAI = 2_000_000_000.0
SHORT_CAMERA = {"width": 160, "height": 128, "ifov_urad": 200.0}


@dataclass
class ScenarioResult:
    faults: tuple[str, ...]
    violations: list[Violation]
    emitting_steps: int
    modes: list[tuple[str, str]]
    sim: Simulation = field(repr=False)


def _corrupt(codec: Codec) -> list[bytes]:
    good = codec.encode_cmd("LASER_FIRE", {}, seq=77)
    bad_crc = bytearray(good)
    bad_crc[-1] ^= 0x5A
    body = bytearray(codec.encode_cmd("LASER_ARM", {"window": 5.0}, seq=78))[:-2]
    body[8:12] = bytes.fromhex("7fc00000")  # NaN window
    nan_arm = bytes(body) + crc16(bytes(body)).to_bytes(2, "big")
    return [bytes(bad_crc), nan_arm, good[:5], b"\xff" * 40]


def adversarial_commands(codec: Codec, rise: float) -> list[tuple[float, bytes]]:
    """(tai, packet) pairs ground sends around the plan (which ARMs at rise+6, FIREs at rise+7)."""
    c = codec.encode_cmd
    seq = iter(range(100, 200))
    cmds = [
        (START_TAI + 3.0, c("LASER_FIRE", {}, seq=next(seq))),                    # not in TRACK
        (START_TAI + 3.0, c("LASER_ARM", {"window": 5.0}, seq=next(seq))),        # not in TRACK
        (rise + 1.0, c("LASER_FIRE", {}, seq=next(seq))),                        # not armed
        (rise + 2.0, c("LASER_ARM", {"window": 1.0}, seq=next(seq))),            # short window ...
        (rise + 3.5, c("LASER_FIRE", {}, seq=next(seq))),                        # ... expired
        (rise + 8.0, c("LASER_ARM", {"window": 5.0}, seq=next(seq))),            # while emitting
        (rise + 11.0, c("LASER_SAFE", {}, seq=next(seq))),                       # revoke
        (rise + 11.5, c("LASER_FIRE", {}, seq=next(seq))),                       # not armed any more
        (rise + 12.0, c("LASER_ARM", {"window": 3.0}, seq=next(seq))),
        (rise + 12.5, c("LASER_FIRE", {}, seq=next(seq))),                       # second legitimate burst
        (rise + 18.0, c("LASER_ARM", {"window": 5.0}, seq=next(seq))),           # after END_PASS
        (rise + 18.2, c("LASER_FIRE", {}, seq=next(seq))),
        (rise + 18.5, c("CLEAR_SAFE", {}, seq=next(seq))),
        (rise + 19.0, c("HEALTH_CHECK", {}, seq=next(seq))),
    ]
    cmds += [(rise + 13.5, p) for p in _corrupt(codec)]
    return cmds


def short_pass(faults: Iterable[str] = (), seed: int = 0, extra: Iterable[tuple[float, bytes]] = (),
               adversarial: bool = True, codec: Codec | None = None, tail_s: float = 22.0,
               keep_sent: bool = False) -> ScenarioResult:
    """Run one shortened pass with ``faults``; ``extra`` are more (tai, packet) ground commands."""
    codec = codec or make_codec()
    geometry = FlyoverPass(tca_tai=START_TAI + 122.0)
    fcfg = FlightConfig(control_hz=20.0, stow=(62.0, 14.0), boot_s=0.5)
    items, times = plan_pass(geometry, START_TAI, stow=fcfg.stow, arm_after_rise_s=6.0, transmit_s=9.0)
    rise = times.arm - 6.0
    sim = Simulation(geometry, START_TAI, seed=seed, faults=tuple(faults),
                     world_config=WorldConfig(camera=dict(SHORT_CAMERA)), flight_config=fcfg,
                     fault_fallback_tai=rise + 7.0, codec=codec)
    sim.port.keep_sent = keep_sent
    for p in timetag_packets(codec, items):
        sim.port.ground(p)
    if adversarial:
        for t, p in adversarial_commands(codec, rise):
            sim.ground_at(t, p)
    for t, p in extra:
        sim.ground_at(t, p)
    sim.run_until(rise + tail_s)
    return ScenarioResult(tuple(faults), list(sim.checker.violations), sim.checker.emitting_steps,
                          list(sim.flight.modes.history), sim)
