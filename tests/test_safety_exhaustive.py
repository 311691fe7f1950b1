"""Safety proof, exhaustive: every fault and every pair of faults in the catalogue, each through
a shortened but complete pass plus the adversarial command sequence. Zero H1/H2 violations."""
from __future__ import annotations

import itertools

import pytest

from protocol.codec import make_codec
from sim.faults import CATALOGUE
from sim.safety_campaign import short_pass

NAMES = sorted(CATALOGUE)
COMBINATIONS = [()] + [(n,) for n in NAMES] + list(itertools.combinations(NAMES, 2))


def test_no_single_or_double_fault_produces_a_hazard():
    codec = make_codec()
    failures = []
    activated: set[str] = set()
    ran = 0
    for combo in COMBINATIONS:
        r = short_pass(combo, codec=codec)
        ran += 1
        activated.update(r.sim.active_faults)
        if r.violations:
            failures.append((combo, r.violations[:3]))
    print(f"\nsafety: {ran} fault combinations ran ({len(NAMES)} faults: none, singles, pairs); "
          f"{len(failures)} with a violation")
    assert ran == 1 + len(NAMES) + len(NAMES) * (len(NAMES) - 1) // 2
    assert set(NAMES) <= activated, "every fault must actually strike in some run"
    assert failures == []


def test_nominal_short_pass_really_emits_and_is_authorised():
    r = short_pass(())
    assert r.violations == []
    assert r.emitting_steps > 100           # two legitimate bursts (about 7.5 s at 20 Hz)
    assert ("TRACK", "TRANSMIT") in r.modes and ("TRANSMIT", "STOW") in r.modes


@pytest.mark.parametrize("faults, hazard", [
    (("relay_a_stuck_closed", "relay_b_stuck_closed", "laser_driver_stuck_on"), "H1"),
    (("hardstop_broken", "switch_never_trips", "soft_limit_disabled", "gimbal_runaway", "centroid_lies"), "H2"),
])
def test_negative_control_all_three_inhibits_failed_is_detected(faults, hazard):
    """With every inhibit of one hazard failed, the checker must see the hazard (it can fail)."""
    r = short_pass(faults)
    assert any(v.hazard == hazard for v in r.violations), r.violations


@pytest.mark.parametrize("faults", [
    ("relay_a_stuck_closed", "relay_b_stuck_closed"),
    ("hardstop_broken", "switch_never_trips", "gimbal_runaway", "centroid_lies"),
])
def test_two_of_three_inhibits_failed_still_safe(faults):
    """The third inhibit alone holds (software), even with a runaway gimbal and a lying centroid."""
    assert short_pass(faults).violations == []
