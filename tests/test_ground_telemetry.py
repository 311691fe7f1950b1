"""Decommutation, limits (persistence, batch = per-sample, separate playback set), the watch
display and the archive/ops CLI."""
from __future__ import annotations

import io
import json
import socket

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from rich.console import Console

from ground.archive import Archive
from ground.cli import main as cli_main
from ground.decom import Decom
from ground.limits import Level, LimitChecker, LimitSet
from ground.session import Session
from ground.synthetic_pass import PassShape, pass_packets
from ground.watch_display import render
from protocol.codec import make_codec
from protocol.opals import DICTIONARY, SAFETY_BITS

CODEC = make_codec()
DECOM = Decom(DICTIONARY)
T0 = 1_780_000_000.0


def _hk(**over) -> dict:
    v = {"mode": 6, "laser_state": 3, "cmd_accepted": 1, "cmd_rejected": 0, "temp_laser": 20.0,
         "temp_gimbal": 20.0, "temp_electronics": 20.0, "bus_voltage": 28.0, "bus_current": 1.0,
         "laser_current": 0.0, "uptime": 5}
    v.update(over)
    return v


def test_decom_gives_state_names_and_status_bits():
    s = DECOM.sample(CODEC.decode(CODEC.encode_tm("HOUSEKEEPING", _hk(), 1, T0)))
    assert s.values["mode"] == "TRACK" and s.values["laser_state"] == "EMITTING" and s.raw["mode"] == 6
    word = (1 << SAFETY_BITS["track_locked"]) | (1 << SAFETY_BITS["relay_b_closed"])
    sf = DECOM.sample(CODEC.decode(CODEC.encode_tm("SAFETY", {
        "status_word": word, "laser_state": 0, "last_safing": 2, "arm_remaining": 0.0, "safing_count": 1,
        "h1_inhibits": 3, "h2_inhibits": 3}, 1, T0)))
    assert sf.values["status_word.track_locked"] is True and sf.values["status_word.relay_b_closed"] is True
    assert sf.values["status_word.relay_a_closed"] is False and sf.values["last_safing"] == "LOSS_OF_LOCK"
    odd = DECOM.sample(CODEC.decode(CODEC.encode_tm("HOUSEKEEPING", _hk(mode=99), 2, T0)))
    assert odd.values["mode"] == "UNKNOWN(99)"


def test_events_render_from_the_dictionary_formats():
    e = DECOM.event(CODEC.decode(CODEC.encode_tm("EVENT", {"event_id": 2, "severity": 2, "arg0": 1, "arg1": 6,
                                                           "arg2": 0, "arg3": 0}, 1, T0)))
    assert (e.name, e.text) == ("MODE_CHANGE", "Mode IDLE -> TRACK")
    e = DECOM.event(CODEC.decode(CODEC.encode_tm("EVENT", {"event_id": 3, "severity": 4, "arg0": 33, "arg1": 5,
                                                           "arg2": 0, "arg3": 0}, 1, T0)))
    assert e.text == "Command 33 rejected: NOT_ARMED"
    u = DECOM.event(CODEC.decode(CODEC.encode_tm("EVENT", {"event_id": 999, "severity": 9, "arg0": 1, "arg1": 2,
                                                           "arg2": 3, "arg3": 4}, 1, T0)))
    assert u.name == "UNKNOWN_EVENT_999" and "[1, 2, 3, 4]" in u.text


def test_limits_bands_and_persistence():
    ls = LimitSet.from_dictionary(DICTIONARY).override("HOUSEKEEPING", "temp_laser", persistence=3)
    c = LimitChecker(ls)
    assert c.check("HOUSEKEEPING", _hk(temp_laser=45.0)) == []          # one sample: not yet
    assert c.check("HOUSEKEEPING", _hk(temp_laser=20.0)) == []          # back: pending cleared
    for _ in range(2):
        assert c.check("HOUSEKEEPING", _hk(temp_laser=45.0)) == []
    [t] = c.check("HOUSEKEEPING", _hk(temp_laser=45.0))
    assert (t.field, t.old, t.new) == ("temp_laser", Level.GREEN, Level.YELLOW)
    for _ in range(3):
        out = c.check("HOUSEKEEPING", _hk(temp_laser=60.0))
    assert out[0].new == Level.RED and c.level("HOUSEKEEPING", "temp_laser") == Level.RED


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.floats(min_value=-20, max_value=70, allow_nan=False), min_size=1, max_size=60),
       persistence=st.integers(1, 4), split=st.integers(0, 60))
def test_batch_limits_equal_per_sample_limits(values, persistence, split):
    ls = LimitSet.from_dictionary(DICTIONARY).override("HOUSEKEEPING", "temp_laser", persistence=persistence)
    one, many = LimitChecker(ls), LimitChecker(ls)
    values = [float(v) for v in np.array(values, dtype=np.float32)]   # what the packet carries
    seq = [t for i, v in enumerate(values) for t in one.check("HOUSEKEEPING", {"temp_laser": v}, float(i))]
    rec = np.array(values, dtype=[("temp_laser", "<f4")])
    tai = np.arange(len(values), dtype=float)
    batch = many.check_batch("HOUSEKEEPING", rec[:split], tai[:split]) + many.check_batch("HOUSEKEEPING", rec[split:], tai[split:])
    assert [(t.new, t.tai) for t in batch] == [(t.new, t.tai) for t in seq]
    assert one.state == many.state and one.violations == many.violations


def _idle_session(tmp_path) -> Session:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return Session.connect(f"udp://127.0.0.1:{port}?local=127.0.0.1:0", data_dir=tmp_path, playback_lag=30.0)


def test_played_back_data_raises_no_live_alarm(tmp_path):
    s = _idle_session(tmp_path)
    try:
        s.process([CODEC.encode_tm("HOUSEKEEPING", _hk(), 0, T0 + 1000)])          # live, nominal
        s.process([CODEC.encode_tm("HOUSEKEEPING", _hk(temp_laser=80.0), 1, T0)])  # an old dump, red
        assert s.live_limits.level("HOUSEKEEPING", "temp_laser") == Level.GREEN
        assert s.playback_limits.level("HOUSEKEEPING", "temp_laser") == Level.RED
        assert [a.limit_set for a in s.alarms] == ["playback"]
        s.process([CODEC.encode_tm("HOUSEKEEPING", _hk(temp_laser=80.0), 2, T0 + 1001)])
        assert [a.limit_set for a in s.alarms] == ["playback", "live"]
    finally:
        s.close()


def test_watch_shows_values_limit_colours_events_and_link_rates(tmp_path):
    s = _idle_session(tmp_path)
    try:
        pk = list(pass_packets(CODEC, PassShape(duration=70, start_tai=T0)))
        s.process(pk)
        s.process([CODEC.encode_tm("HOUSEKEEPING", _hk(temp_laser=80.0), 70, T0 + 71)])
        con = Console(record=True, width=160, file=io.StringIO())
        con.print(render(s))
        text = con.export_text()
        assert "temp_laser" in text and "80.000" in text and "TRACKING" in text
        assert "status_word.track_locked" in text and "Link UP" in text and "0x021" in text
        assert "Beacon lock after 1200 ms" in text
        assert "bold white on red" in con.export_html(inline_styles=False) or "color: #ffffff" in con.export_html()
    finally:
        s.close()


def test_cli_query_and_history(tmp_path, capsys):
    a = Archive(tmp_path / "archive", DICTIONARY)
    a.append(list(pass_packets(CODEC, PassShape(duration=70))))
    a.close()
    assert cli_main(["query", "TRACKING", "--archive", str(tmp_path / "archive"), "--fields", "az,el",
                     "--format", "jsonl", "--limit", "3"]) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert len(rows) == 3 and set(rows[0]) == {"time", "tai", "seq", "az", "el"}
    assert cli_main(["query", "TRACKING", "--archive", str(tmp_path / "archive"), "--fields", "nope"]) == 2
    assert cli_main(["replay", "--archive", str(tmp_path / "archive"), "--start", "2000-01-01T00:00:00Z",
                     "--end", "2100-01-01T00:00:00Z", "--packets", "EVENT"]) == 0
    assert "LOCK_ACQUIRED" in capsys.readouterr().out


def test_cli_cmd_refuses_hazardous_without_confirmation(tmp_path, capsys):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
        peer.bind(("127.0.0.1", 0))
        peer.settimeout(0.3)
        url = f"udp://127.0.0.1:{peer.getsockname()[1]}?local=127.0.0.1:0"
        assert cli_main(["cmd", url, "LASER_FIRE", "--data-dir", str(tmp_path)]) == 2
        assert cli_main(["cmd", url, "SLEW", "az=500", "el=10", "--data-dir", str(tmp_path)]) == 2
        with pytest.raises(socket.timeout):
            peer.recvfrom(100)
    err = capsys.readouterr().err
    assert "hazardous" in err and "outside valid range" in err


def test_link_health_rates_gaps_and_silence_on_an_injected_clock():
    from ground.link_health import LinkHealth

    now = [0.0]
    h = LinkHealth(clock=lambda: now[0], window=5.0, silence_timeout=2.0)
    h.sample()
    seq = {0x020: 16380, 0x021: 0}
    for step in range(40):                          # 4 s: HOUSEKEEPING 1 Hz x 48 B, TRACKING 10 Hz x 30 B
        now[0] = (step + 1) * 0.1
        h.count(0x021, seq[0x021], 30)
        seq[0x021] += 1
        if step % 10 == 9:
            h.count(0x020, seq[0x020] & 0x3FFF, 48)
            seq[0x020] += 1
        if step in (20, 21, 22):
            seq[0x021] += 1                         # three TRACKING packets lost
    h.count(0x021, seq[0x021] - 1, 30)              # a duplicated datagram: counted, but no gap
    r = h.report()
    by = {a.apid: a for a in r.per_apid}
    assert by[0x021].packets_per_s == pytest.approx(41 / 4.0) and by[0x021].bytes_per_s == pytest.approx(41 * 30 / 4.0)
    assert by[0x020].packets_per_s == pytest.approx(1.0) and by[0x020].bytes_per_s == pytest.approx(48.0)
    assert by[0x021].gaps == 3 and by[0x020].gaps == 0            # HOUSEKEEPING wrapped 16383 -> 0: no gap
    assert r.up and r.seq_gaps == 3 and r.packets == 45
    now[0] = 10.0
    r = h.report()
    assert not r.up and r.silent_for == pytest.approx(6.0)
    assert [up for _, up in h.transitions] == [True, False]
