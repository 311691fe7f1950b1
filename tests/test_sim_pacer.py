"""--speed: the pacer holds simulated time at N times wall time (realtime: 1), max never waits,
and a change of speed re-anchors instead of sprinting to catch up. Wall time is a fake here."""
from __future__ import annotations

import pytest

import sim.cli_run as cli_run
from sim.cli_run import Pacer, _parse_speed


class FakeWall:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, s: float) -> None:
        self.slept.append(s)
        self.now += s


@pytest.fixture
def wall(monkeypatch) -> FakeWall:
    w = FakeWall()
    monkeypatch.setattr(cli_run.time, "monotonic", w.monotonic)
    monkeypatch.setattr(cli_run.time, "sleep", w.sleep)
    return w


def test_speed_words_and_factors():
    assert _parse_speed("max") is None and _parse_speed("realtime") == 1.0 and _parse_speed("20") == 20.0


@pytest.mark.parametrize("speed", [1.0, 4.0, 0.5])
def test_simulated_time_runs_at_speed_times_wall_time(wall, speed):
    p = Pacer(speed)
    for k in range(101):
        p.pace(1000.0 + 0.01 * k, speed)          # 1 s of 100 Hz cycles, computed instantly
    assert wall.now - 100.0 == pytest.approx(1.0 / speed)


def test_max_never_waits_and_slow_cycles_are_not_padded(wall):
    p = Pacer(None)
    for k in range(100):
        p.pace(1000.0 + 0.01 * k, None)
    assert wall.slept == []
    p = Pacer(1.0)
    for k in range(10):
        wall.now += 0.02                           # each 10 ms cycle takes 20 ms of wall time
        p.pace(1000.0 + 0.01 * k, 1.0)
    assert wall.slept == []


def test_a_speed_change_re_anchors(wall):
    p = Pacer(None)
    for k in range(100):
        p.pace(1000.0 + 0.01 * k, None)            # a second of simulated time at max speed
    p.pace(1001.0, 1.0)                            # then real time: no one-second catch-up sleep
    p.pace(1001.5, 1.0)
    assert wall.now - 100.0 == pytest.approx(0.5)
