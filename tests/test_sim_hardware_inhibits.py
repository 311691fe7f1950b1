"""The simulated hardware inhibits, each on its own: hardstops bound the gimbal even when its
motor runs away, a microswitch at the edge of the range opens the laser interlock, the relays
close only on FIRE inside their hardware ARM window, and the watchdog cuts power when flight
stops kicking it."""
from __future__ import annotations

import pytest

from protocol.opals import AZ_RANGE_DEG
from sim.gimbal import HARDSTOP_AZ, HARDSTOP_EL, GimbalModel, LimitSwitches
from sim.laser_chain import LaserChain


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


@pytest.mark.parametrize("runaway", [(5.0, 0.0), (-5.0, 0.0), (0.0, 5.0), (0.0, -5.0)])
def test_hardstops_hold_a_runaway_motor(runaway):
    g = GimbalModel(az=20.0, el=20.0, runaway_dps=runaway)
    for _ in range(10000):
        g.step(0.01)
    assert HARDSTOP_AZ[0] <= g.az <= HARDSTOP_AZ[1] and HARDSTOP_EL[0] <= g.el <= HARDSTOP_EL[1]
    assert g.az in HARDSTOP_AZ or g.el in HARDSTOP_EL
    broken = GimbalModel(az=20.0, el=20.0, runaway_dps=runaway, hardstops_intact=False)
    for _ in range(10000):
        broken.step(0.01)
    assert not (HARDSTOP_AZ[0] <= broken.az <= HARDSTOP_AZ[1] and HARDSTOP_EL[0] <= broken.el <= HARDSTOP_EL[1])


def _chain(g: GimbalModel, clock: Clock) -> LaserChain:
    chain = LaserChain(LimitSwitches(g), watchdog_timeout_s=0.05, now=clock)
    chain.relay_a.arm(5.0), chain.relay_b.arm(5.0)
    chain.relay_a.fire(), chain.relay_b.fire()
    chain.driver_on = True
    chain.kick()
    chain.step()
    return chain


def test_a_switch_at_the_edge_of_the_range_cuts_the_laser_in_hardware():
    clock, g = Clock(), GimbalModel(az=20.0, el=20.0)
    chain = _chain(g, clock)
    assert chain.emitting
    g.command(AZ_RANGE_DEG[1] + 0.5, 20.0)
    for _ in range(3000):
        g.step(0.01)
        chain.kick()
        chain.step()
        if g.az >= AZ_RANGE_DEG[1]:
            break
    assert g.az >= AZ_RANGE_DEG[1] and not chain.interlock_ok() and not chain.emitting
    assert chain.relay_a.contact and chain.relay_b.contact and chain.driver_on   # the switch alone did it


def test_relays_close_only_on_fire_inside_their_window():
    clock = Clock()
    chain = LaserChain(LimitSwitches(GimbalModel(az=20.0, el=20.0)), watchdog_timeout_s=0.05, now=clock)
    chain.relay_a.fire()                                 # no ARM
    chain.relay_b.arm(1.0)
    clock.t = 1.5
    chain.relay_b.fire()                                 # window over
    assert not chain.relay_a.contact and not chain.relay_b.contact
    chain.relay_a.window_ignored = True                  # the fault: any FIRE closes it
    chain.relay_a.fire()
    assert chain.relay_a.contact


def test_watchdog_cuts_power_when_flight_stops_kicking():
    clock, g = Clock(), GimbalModel(az=20.0, el=20.0)
    chain = _chain(g, clock)
    clock.t = 0.04
    chain.step()
    assert chain.emitting
    clock.t = 0.06
    chain.step()
    assert not chain.watchdog_ok() and not chain.emitting
