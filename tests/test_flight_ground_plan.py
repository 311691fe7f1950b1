"""Flight flies the plan ground's planner makes (ground/pass_plan.py) for the OPALS first-light
pass over OCTL (SGP4, 2014 TLE), uploaded as TIMETAG commands: every plan command is accepted,
the beacon is acquired, the laser fires and the pass ends stowed, with no hazard."""
from __future__ import annotations

from flight.app import FlightConfig
from flight.sequence import embed
from ground.pass_plan import plan_pass as ground_plan
from ground.passes import PassQuery, feasible_passes, nearest_orbit
from protocol.codec import make_codec
from protocol.time_codes import datetime_to_tai
from sim.orbit_pass import orbit_pass
from sim.performance import TrackingPerformance
from sim.simulation import Simulation
from sim.world import WorldConfig


def test_flight_executes_grounds_first_light_plan():
    import datetime as dt
    codec = make_codec()
    t0 = datetime_to_tai(dt.datetime(2014, 6, 6, 2, 0, tzinfo=dt.timezone.utc))
    orbit = nearest_orbit(t0)
    p = feasible_passes(orbit, PassQuery(t0, days=0.2))[0]
    plan = ground_plan(orbit, p)
    geometry = orbit_pass(orbit, p, pad_s=700.0)
    start = plan[0].tai - 5.0
    cfg = FlightConfig(control_hz=20.0)
    sim = Simulation(geometry, start, seed=3, flight_config=cfg, codec=codec,
                     world_config=WorldConfig(camera={"width": 160, "height": 128, "ifov_urad": 200.0}))
    perf = TrackingPerformance(lambda: sim.flight.tracker.locked)
    sim.world.add_observer(perf.observe)
    for k, c in enumerate(plan):
        opcode, args = embed(codec, c.name, c.args)
        sim.port.ground(codec.encode_cmd("TIMETAG", {"tai": c.tai, "opcode": opcode, "args": args}, seq=k))
    end = next(c.tai for c in plan if c.name == "END_PASS")
    sim.run_until(end + 60.0)
    acks = [codec.decode(x).values for x in sim.port.sent if x[1] == 0x23]
    rejected = [(a["opcode"], a["reason"]) for a in acks if a["stage"] == 2]
    assert rejected == [], rejected
    s = perf.summary()
    # The plan transmits from the very edge of the field of regard, where the set-point is held at
    # the software limit (0.1 deg inside) for the first seconds: judge the tracking inside it.
    window = max(p.feasible, key=lambda w: w.duration)
    inner = [e for t, e in zip(perf.error_times, perf.errors) if window.start_tai + 5 <= t <= window.stop_tai - 5]
    rms = (sum(e * e for e in inner) / len(inner)) ** 0.5
    print(f"\nfirst-light plan: {len(plan)} commands, tracked {s['tracked_s']} s, laser {s['emit_s']} s, "
          f"3-sigma {s['err_3sigma_urad']:.1f} urad (inside the window edges {3 * rms:.1f} urad, 20 Hz loop)")
    assert s["emit_s"] > 150.0 and 3 * rms <= 140.0
    assert ("TRACK", "TRANSMIT") in sim.flight.modes.history
    assert sim.flight.mode in ("READY", "DOWNLINK", "IDLE")
    assert sim.checker.violations == []
