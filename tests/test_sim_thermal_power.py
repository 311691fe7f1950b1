"""Housekeeping carries the simulated thermal and power state: the laser warms while it emits and
cools after, and the bus current, pump current and bus voltage follow the laser."""
from __future__ import annotations

from protocol.codec import make_codec
from protocol.opals import LASER_STATES
from sim.safety_campaign import short_pass

CODEC = make_codec()
EMITTING, OFF = (next(k for k, n in LASER_STATES.items() if n == s) for s in ("EMITTING", "OFF"))


def test_housekeeping_follows_the_laser_thermally_and_electrically():
    r = short_pass((), adversarial=False, keep_sent=True)
    hk = [CODEC.decode(p).values for p in r.sim.port.sent if p[1] == 0x20]
    on = [v for v in hk if v["laser_state"] == EMITTING]
    off = [v for v in hk if v["laser_state"] == OFF]
    assert len(on) >= 3 and len(off) >= 3
    assert all(v["laser_current"] > 1.0 for v in on) and all(v["laser_current"] == 0.0 for v in off)
    assert min(v["bus_current"] for v in on) > max(v["bus_current"] for v in off)
    assert max(v["bus_voltage"] for v in on) < min(v["bus_voltage"] for v in off)
    temps = [v["temp_laser"] for v in on]
    assert temps == sorted(temps) and temps[-1] > hk[0]["temp_laser"] + 0.5      # warms while emitting
    after = hk[hk.index(on[-1]) + 1:]
    assert after and after[-1]["temp_laser"] < max(v["temp_laser"] for v in after)                         # and cools after
