"""The laser goes off within one control cycle of the cause (loss of lock, pointing outside the
software limits, a limit switch, over-temperature), and within the hardware watchdog's timeout
when the flight computer freezes. Measured on physical truth (WorldSample.laser_emitting)."""
from __future__ import annotations

import pytest

from sim.safety_campaign import short_pass


def _lose_beacon(sim):
    sim.world.config.beacon_on_elev_deg = 90.0
    sim.world.beacon_visible = False


def _over_temperature(sim):
    sim.world.thermal.laser = 60.0


def _encoder_outside(sim):
    sim.world.gimbal.encoder_bias_deg = (40.0, 0.0)   # reads beyond +72 deg


def _switch(sim):
    sim.world.switches.stuck_tripped = True


def _freeze(sim):
    sim.clock.stalled_at = sim.world.tai


CAUSES = {"loss_of_lock": (_lose_beacon, 1), "pointing_limit": (_encoder_outside, 1),
          "over_temperature": (_over_temperature, 1), "switch_trip": (_switch, 1), "watchdog": (_freeze, 5)}


@pytest.mark.parametrize("cause", sorted(CAUSES))
def test_laser_off_within_one_control_cycle(cause):
    trigger, max_cycles = CAUSES[cause]
    samples: list[tuple[float, bool]] = []
    hit: list[float] = []

    def arm_trigger(sim):
        def fire():
            hit.append(sim.world.tai)
            trigger(sim)
        sim.at(sim.world.tai + 1.0, fire)    # one second into the first transmission
        sim.world.add_observer(lambda s: samples.append((s.tai, s.laser_emitting)))

    r = short_pass((), adversarial=False,
                   setup=lambda sim: sim.on_transmit(lambda: arm_trigger(sim), delay_s=0.0))
    dt = r.sim.world.dt
    assert hit, "the pass never reached TRANSMIT"
    t = hit[0]
    assert any(e for ts, e in samples if ts <= t), "laser was not on when the cause struck"
    off = next(ts for ts, e in samples if ts > t and not e)
    cycles = round((off - t) / dt)
    print(f"\n{cause}: laser off {cycles} cycle(s) after the cause")
    assert cycles <= max_cycles
    assert r.violations == []
