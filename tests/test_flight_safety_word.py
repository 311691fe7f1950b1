"""The SAFETY packet's status word, as flight sends it, shows the state of every inhibit: what
ground sees during an authorised burst, after it, and when one inhibit has failed."""
from __future__ import annotations

from protocol.codec import make_codec
from protocol.opals import SAFETY_BITS
from sim.safety_campaign import short_pass

CODEC = make_codec()


def _words(faults: tuple[str, ...]) -> list[set[str]]:
    r = short_pass(faults, adversarial=False, keep_sent=True)
    out = []
    for p in r.sim.port.sent:
        if p[1] == 0x22:
            w = CODEC.decode(p).values["status_word"]
            out.append({k for k, b in SAFETY_BITS.items() if w >> b & 1})
    return out


H1_RELEASED = {"relay_a_closed", "relay_b_closed", "sw_fire_enabled", "relay_commanded"}


def test_nominal_burst_shows_every_inhibit_released_and_restored():
    words = _words(())
    assert not (words[0] & (H1_RELEASED | {"sw_armed", "laser_emitting"}))
    assert {"sw_pointing_ok", "hw_interlock_ok"} <= words[0]
    assert any("sw_armed" in w and not w & H1_RELEASED for w in words)          # ARM before FIRE
    burst = [w for w in words if "laser_emitting" in w and H1_RELEASED <= w]
    assert burst and all({"track_locked", "sw_pointing_ok", "hw_interlock_ok"} <= w for w in burst)
    assert not any(w & {"switch_az_low", "switch_az_high", "switch_el_low", "switch_el_high"} for w in words)
    assert not words[-1] & (H1_RELEASED | {"laser_emitting", "sw_armed"})


def test_a_relay_stuck_closed_is_visible_after_safing():
    words = _words(("relay_a_stuck_closed",))
    after = words[-1]
    assert "relay_a_closed" in after and not after & {"relay_b_closed", "relay_commanded", "sw_fire_enabled"}


def test_a_tripped_switch_shows_and_clears_the_hardware_interlock():
    words = _words(("switch_stuck_tripped",))
    tripped = [w for w in words if "switch_az_low" in w]
    assert tripped and all("hw_interlock_ok" not in w for w in tripped)
    assert not words[-1] & (H1_RELEASED | {"laser_emitting"})


def test_watchdog_bit_is_the_interlock_chain_open_with_no_switch_to_explain_it():
    words = _words(())
    assert all("watchdog_ok" in w for w in words)                     # kicked every cycle
    tripped = [w for w in _words(("switch_stuck_tripped",)) if "switch_az_low" in w]
    assert tripped and all("watchdog_ok" in w for w in tripped)       # the switch explains the open chain
    safety = short_pass((), adversarial=False).sim.flight.safety
    safety.interlock_ok, safety.switches = False, (False, False, False, False)
    word = safety.status_word()
    assert not word >> SAFETY_BITS["watchdog_ok"] & 1 and not word >> SAFETY_BITS["hw_interlock_ok"] & 1
