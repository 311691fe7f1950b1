"""The software ARM/FIRE protection on its own (the third H1 inhibit): FIRE is refused, with the
reason ground sees, unless armed within the window, tracking locked and pointing inside the
software limits; only a FIRE that passes every check closes the relays and enables the driver."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from flight.safety import LaserSafety, SafetyInputs


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def __getattr__(self, name):
        return lambda *a: self.calls.append((name, *a))


def _safety():
    hal = SimpleNamespace(relays=Recorder(), laser=Recorder())
    events: list[tuple] = []
    return LaserSafety(hal=hal, event=lambda *a: events.append(a)), hal, events


GOOD = SafetyInputs(az=20.0, el=20.0, locked=True)


@pytest.mark.parametrize("inputs, reason", [
    (SafetyInputs(az=20.0, el=20.0, locked=False), "NOT_LOCKED"),
    (SafetyInputs(az=80.0, el=20.0, locked=True), "POINTING_OUTSIDE_LIMITS"),
    (SafetyInputs(az=20.0, el=0.5, locked=True), "POINTING_OUTSIDE_LIMITS"),
])
def test_fire_refused_unless_locked_and_inside_limits(inputs, reason):
    s, hal, _ = _safety()
    assert s.arm(0.0, 5.0, GOOD) is None
    assert s.fire(1.0, inputs) == reason
    assert ("fire",) not in hal.relays.calls and ("set_driver", True) not in hal.laser.calls
    assert not s.firing


def test_fire_refused_without_arm_and_after_the_window():
    s, hal, _ = _safety()
    assert s.fire(0.0, GOOD) == "NOT_ARMED"
    assert s.arm(0.0, 2.0, GOOD) is None
    assert s.fire(2.5, GOOD) == "ARM_EXPIRED"
    assert hal.relays.calls[-1] == ("open",) and ("set_driver", False) in hal.laser.calls
    assert s.fire(2.6, GOOD) == "NOT_ARMED" and not s.firing


def test_arm_itself_needs_lock_and_limits():
    s, hal, _ = _safety()
    assert s.arm(0.0, 5.0, SafetyInputs(az=20.0, el=20.0, locked=False)) == "NOT_LOCKED"
    assert s.arm(0.0, 5.0, SafetyInputs(az=-40.0, el=20.0, locked=True)) == "POINTING_OUTSIDE_LIMITS"
    assert not s.armed and hal.relays.calls == []


def test_authorised_fire_releases_the_software_inhibit_once():
    s, hal, events = _safety()
    assert s.arm(0.0, 5.0, GOOD) is None and s.fire(1.0, GOOD) is None
    assert ("fire",) in hal.relays.calls and ("set_driver", True) in hal.laser.calls and s.firing
    assert ("LASER_FIRED",) in events
    assert s.fire(1.1, GOOD) == "NOT_ARMED"           # a second FIRE needs a second ARM
