"""Gimbal set-points respect the rate and acceleration limits and the software pointing limit,
whatever the targets do (jumps, reversals, targets beyond the limits), and still arrive."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from flight.gimbal_control import GimbalController
from flight.pointing import PointingLimit

DT = 0.05
targets = st.lists(st.tuples(st.integers(1, 200), st.floats(-60, 100), st.floats(-10, 60)), min_size=1, max_size=6)


def _on_limit(g: GimbalController, az: float, el: float) -> bool:
    return az in g.limit.az or el in g.limit.el


@settings(max_examples=25, deadline=None)
@given(targets, st.booleans(), st.floats(-30, 70), st.floats(2, 37))
def test_open_loop_set_points_stay_within_rate_acceleration_and_pointing_limits(plan, slew, az0, el0):
    g = GimbalController(PointingLimit())
    g.reset(az0, el0)
    vmax = g.slew_rate_dps if slew else g.max_rate_dps
    amax = g.max_accel_dps2 * DT
    prev, prate = (az0, el0), (0.0, 0.0)
    steps = [(n, (az, el)) for n, az, el in plan]
    steps[-1] = (2200, steps[-1][1])       # long enough to arrive after the last jump
    for n, tgt in steps:
        for _ in range(n):
            cmd = g.toward(*tgt, DT, slew=slew)
            assert g.limit.inside(*cmd)
            rate = ((cmd[0] - prev[0]) / DT, (cmd[1] - prev[1]) / DT)
            assert max(abs(rate[0]), abs(rate[1])) <= vmax + 1e-9
            if not (_on_limit(g, *cmd) or _on_limit(g, *prev)):   # the software limit wins over smoothness
                assert max(abs(rate[0] - prate[0]), abs(rate[1] - prate[1])) <= amax + 1e-9
            prev, prate = cmd, rate
    goal = g.limit.clamp(*steps[-1][1])
    assert abs(prev[0] - goal[0]) < 1e-9 and abs(prev[1] - goal[1]) < 1e-9


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(-5000, 5000), st.floats(-5000, 5000)), min_size=1, max_size=300),
       st.floats(-2, 2), st.floats(-2, 2))
def test_closed_loop_set_points_stay_within_rate_acceleration_and_pointing_limits(errors, ff_az, ff_el):
    g = GimbalController(PointingLimit())
    g.reset(20.0, 20.0)
    amax = g.track_accel_dps2 * DT
    prev, prate = (20.0, 20.0), (0.0, 0.0)
    for ex, ey in errors:
        cmd = g.track(ex, ey, ff_az, ff_el, DT)
        assert g.limit.inside(*cmd)
        rate = ((cmd[0] - prev[0]) / DT, (cmd[1] - prev[1]) / DT)
        assert max(abs(rate[0]), abs(rate[1])) <= g.max_rate_dps + 1e-9
        if not (_on_limit(g, *cmd) or _on_limit(g, *prev)):
            assert max(abs(rate[0] - prate[0]), abs(rate[1] - prate[1])) <= amax + 1e-9
        prev, prate = cmd, rate
