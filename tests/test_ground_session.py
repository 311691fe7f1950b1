"""The scripting session over real sockets and a real pty: validation before sending, hazardous
command protection, acknowledgement stages, garbage on the link, silence, an unplugged line.

The far end here is a scripted responder on a real UDP socket (or a pty master), so each
protocol case can be forced; the real simulator is the peer in test_ground_end_to_end.py.
"""
from __future__ import annotations

import os
import socket
import threading
import time
import tty

import pytest

from ground.session import CommandError, HazardousCommandError, Session, TimedCommand, timetag_args
from protocol.codec import Codec, PacketError
from protocol.framing import frame_all
from protocol.opals import DICTIONARY

CODEC = Codec(DICTIONARY)
T0 = 1_780_000_000.0


class Responder:
    """A payload stand-in on a real UDP socket: answers commands as told, records what it got."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.ground: tuple[str, int] | None = None
        self.got: list = []
        self.answers: dict[str, list[tuple[str, str]]] = {}   # command -> [(stage, reason)]
        self.seq = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def send_tm(self, name: str, values: dict, tai: float = T0) -> None:
        self.sock.sendto(CODEC.encode_tm(name, values, self.seq, tai), self.ground)
        self.seq += 1

    def _run(self) -> None:
        stage_ids = {"ACCEPTED": 1, "REJECTED": 2, "COMPLETED": 3, "FAILED": 4}
        reasons = {v: k for k, v in DICTIONARY.telemetry["COMMAND_ACK"].field("reason").states.items()}
        while not self._stop.is_set():
            try:
                data, addr = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            self.ground = addr
            tc = CODEC.decode(data)
            self.got.append(tc)
            for stage, reason in self.answers.get(tc.name, [("ACCEPTED", "OK"), ("COMPLETED", "OK")]):
                self.send_tm("COMMAND_ACK", {"opcode": tc.opcode, "cmd_seq": tc.seq, "stage": stage_ids[stage],
                                             "reason": reasons[reason]})

    def close(self) -> None:
        self._stop.set()
        self._t.join()
        self.sock.close()


@pytest.fixture
def pair(tmp_path):
    r = Responder()
    s = Session.connect(f"udp://127.0.0.1:{r.port}?local=127.0.0.1:0", data_dir=tmp_path, operator="tester",
                        silence_timeout=0.5)
    yield s, r
    s.close()
    r.close()


def _history(s: Session) -> list[tuple[str, str, str | None]]:
    return [(h.name, h.status, h.reason) for h in s.history.entries()]


def test_invalid_commands_are_refused_before_anything_is_sent(pair):
    s, r = pair
    with pytest.raises(CommandError, match="unknown command"):
        s.cmd("SELF_DESTRUCT")
    with pytest.raises(CommandError, match="outside valid range"):
        s.cmd("SLEW", az=120.0, el=10.0)
    with pytest.raises(CommandError, match="missing argument"):
        s.cmd("PING")
    time.sleep(0.2)
    assert r.got == []
    assert _history(s) == [("SELF_DESTRUCT", "REFUSED", "UNKNOWN_COMMAND"), ("SLEW", "REFUSED", "ARG_OUT_OF_RANGE"),
                           ("PING", "REFUSED", "ARG_OUT_OF_RANGE")]


def test_a_script_cannot_fire_the_laser_by_accident(pair):
    s, r = pair
    for confirm in (None, "yes", "LASER_ARM", "laser_fire"):
        with pytest.raises(HazardousCommandError):
            s.cmd("LASER_FIRE", confirm=confirm)
    with pytest.raises(HazardousCommandError, match="LASER_ARM"):
        s.cmd("LASER_FIRE", confirm="LASER_FIRE")          # confirmed, but not armed
    with pytest.raises(HazardousCommandError):
        s.cmd("LASER_ARM", window=10.0)                    # ARM is hazardous too
    with pytest.raises(HazardousCommandError):
        s.upload_sequence([TimedCommand(T0, "LASER_FIRE")])
    with pytest.raises(HazardousCommandError, match="without an earlier LASER_ARM"):
        s.upload_sequence([TimedCommand(T0, "LASER_FIRE")], confirm=("LASER_FIRE",))
    time.sleep(0.2)
    assert r.got == [], "nothing hazardous may reach the payload"
    # The two-step protocol: a verified ARM authorises exactly one FIRE inside its window.
    s.cmd("LASER_ARM", confirm="LASER_ARM", window=5.0)
    s.cmd("LASER_FIRE", confirm="LASER_FIRE")
    with pytest.raises(HazardousCommandError):
        s.cmd("LASER_FIRE", confirm="LASER_FIRE")
    assert [tc.name for tc in r.got] == ["LASER_ARM", "LASER_FIRE"]


def test_a_hand_built_timetag_cannot_smuggle_arm_or_fire(pair):
    s, r = pair
    for inner in ("LASER_ARM", "LASER_FIRE"):
        blob = timetag_args(CODEC.encode_cmd(inner, {"window": 10.0} if inner == "LASER_ARM" else {}))
        op = DICTIONARY.commands[inner].opcode
        for confirm in (None, "TIMETAG", inner):
            with pytest.raises(HazardousCommandError):
                s.cmd("TIMETAG", confirm=confirm, tai=T0, opcode=op, args=blob)
    time.sleep(0.2)
    assert r.got == [], "nothing hazardous may reach the payload"
    # Another hazardous command time-tagged needs its own name as confirmation, then goes.
    off = DICTIONARY.commands["POWER_OFF"].opcode
    with pytest.raises(HazardousCommandError):
        s.cmd("TIMETAG", tai=T0, opcode=off, args=timetag_args(CODEC.encode_cmd("POWER_OFF", {})))
    s.cmd("TIMETAG", confirm="POWER_OFF", tai=T0, opcode=off, args=timetag_args(CODEC.encode_cmd("POWER_OFF", {})))
    s.cmd("TIMETAG", tai=T0, opcode=DICTIONARY.commands["NOOP"].opcode, args=timetag_args(CODEC.encode_cmd("NOOP", {})))
    assert [tc.args["opcode"] for tc in r.got] == [off, DICTIONARY.commands["NOOP"].opcode]


def test_a_rejected_arm_does_not_authorise_fire(pair):
    s, r = pair
    r.answers["LASER_ARM"] = [("REJECTED", "NOT_LOCKED")]
    with pytest.raises(CommandError, match="NOT_LOCKED") as exc:
        s.cmd("LASER_ARM", confirm="LASER_ARM", window=5.0)
    assert exc.value.result.status == "REJECTED"
    with pytest.raises(HazardousCommandError):
        s.cmd("LASER_FIRE", confirm="LASER_FIRE")


def test_acknowledgement_stages_and_timeout(pair):
    s, r = pair
    res = s.cmd("PING", token=1)
    assert res.status == "COMPLETED" and [st for st, _, _ in res.stages] == ["ACCEPTED", "COMPLETED"]
    r.answers["HEALTH_CHECK"] = [("ACCEPTED", "OK"), ("FAILED", "EXECUTION_FAILED")]
    with pytest.raises(CommandError, match="FAILED"):
        s.cmd("HEALTH_CHECK")
    r.answers["NOOP"] = []                                  # the payload never answers
    res = s.cmd("NOOP", timeout=0.3, check=False)
    assert res.status == "TIMEOUT"
    hist = _history(s)
    assert hist[-3:] == [("PING", "COMPLETED", None), ("HEALTH_CHECK", "FAILED", "EXECUTION_FAILED"),
                         ("NOOP", "TIMEOUT", "no COMPLETED within 0.3 s")]


def test_telemetry_condition_verification(pair):
    s, r = pair
    r.answers["SLEW"] = [("ACCEPTED", "OK"), ("COMPLETED", "OK")]
    threading.Timer(0.2, lambda: r.send_tm("TRACKING", {**_tr(1), "az": 12.5})).start()
    res = s.cmd("SLEW", az=12.5, el=10.0, verify=("TRACKING", lambda x: abs(x.values["az"] - 12.5) < 0.01),
                verify_timeout=3.0)
    assert res.status == "VERIFIED"
    with pytest.raises(CommandError, match="VERIFY_TIMEOUT"):
        s.cmd("SLEW", az=30.0, el=10.0, verify=("TRACKING", lambda x: x.values["az"] == 30.0), verify_timeout=0.3)
    assert [h.status for h in s.history.entries() if h.name == "SLEW:verify"] == ["VERIFIED", "VERIFY_TIMEOUT"]


def test_sequence_wraps_commands_in_timetag_with_the_codec_layout(pair):
    s, r = pair
    plan = [TimedCommand(T0 + 10, "SLEW", {"az": 12.5, "el": 20.0}), TimedCommand(T0 + 5, "PING", {"token": 77}),
            TimedCommand(T0 + 20, "LASER_ARM", {"window": 10.0}), TimedCommand(T0 + 21, "LASER_FIRE")]
    res = s.upload_sequence(plan, confirm=("LASER_ARM", "LASER_FIRE"), pipelined=True)
    assert [x.status for x in res] == ["COMPLETED"] * 4
    got = [tc for tc in r.got if tc.name == "TIMETAG"]
    assert [tc.args["tai"] for tc in got] == [T0 + 5, T0 + 10, T0 + 20, T0 + 21]
    # The embedded bytes are exactly the inner command's argument bytes (flight rebuilds it).
    from flight.sequence import embed
    for tc, c in zip(got, sorted(plan, key=lambda c: c.tai)):
        assert (tc.args["opcode"], tc.args["args"]) == embed(CODEC, c.name, c.args)
        assert tc.args["args"] == timetag_args(CODEC.encode_cmd(c.name, c.args))


def test_garbage_on_the_link_is_counted_and_good_data_kept(pair, tmp_path):
    s, r = pair
    s.cmd("NOOP")                                            # the responder learns our address
    good = [CODEC.encode_tm("HOUSEKEEPING", _hk(), 100 + i, T0 + i) for i in range(5)]
    bad_crc = bytearray(good[0])
    bad_crc[-1] ^= 0xFF
    for junk in (b"", b"\x00" * 3, os.urandom(200), bytes(bad_crc), good[0][:-3]):
        r.sock.sendto(junk, r.ground)
    intruder = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    intruder.sendto(good[1], r.ground)                       # not the configured peer
    intruder.close()
    for p in good:
        r.sock.sendto(p, r.ground)
    deadline = time.monotonic() + 5
    while s.received["HOUSEKEEPING"] < 5 and time.monotonic() < deadline:
        time.sleep(0.02)
    st = s.link.stats()
    assert s.received["HOUSEKEEPING"] == 5
    assert st.rejected_bad >= 4 and st.crc_failures >= 1 and st.rejected_foreign == 1
    s.flush()
    assert s.archive.query("HOUSEKEEPING").column("seq").to_pylist() == [100, 101, 102, 103, 104]
    assert s._thread.is_alive()


def test_silence_is_reported_as_link_down_and_recovery_as_up(pair):
    s, r = pair
    s.cmd("NOOP")
    assert s.health.is_up()
    time.sleep(0.7)
    h = s.health.report(s.link.stats())
    assert not h.up and h.silent_for >= 0.5
    r.send_tm("HOUSEKEEPING", _hk())
    time.sleep(0.2)
    assert s.health.is_up()
    assert [up for _, up in s.health.transitions] == [True, False, True]
    assert [e.name for e in s.events if e.event_id == -1] == ["LINK_UP", "LINK_DOWN", "LINK_UP"]


def test_serial_line_unplugged_mid_pass_loses_nothing_received(tmp_path):
    master, slave = os.openpty()
    tty.setraw(master)
    path = str(tmp_path / "ttyOPALS")
    os.symlink(os.ttyname(slave), path)
    os.close(slave)
    s = Session.connect(f"serial://{path}", data_dir=tmp_path / "g", silence_timeout=0.3)
    try:
        pk = [CODEC.encode_tm("TRACKING", _tr(i), i, T0 + i * 0.1) for i in range(50)]
        os.write(master, b"\x55garbage" + frame_all(pk[:30]))
        deadline = time.monotonic() + 5
        while s.received["TRACKING"] < 30 and time.monotonic() < deadline:
            time.sleep(0.02)
        os.close(master)                                     # unplugged
        time.sleep(0.8)
        assert s._thread.is_alive()
        assert not s.health.report(s.link.stats()).up
        assert [e.name for e in s.events if e.event_id == -1][-1] == "LINK_DOWN"
        with pytest.raises(CommandError):
            s.cmd("NOOP", timeout=0.3)                       # queued for the line, never answered
        s.flush()
        assert s.archive.query("TRACKING").column("seq").to_pylist() == list(range(30))
        assert s.link.stats().bytes_discarded >= 8
    finally:
        s.close()


def _hk() -> dict:
    return {"mode": 1, "laser_state": 0, "cmd_accepted": 0, "cmd_rejected": 0, "temp_laser": 20.0,
            "temp_gimbal": 20.0, "temp_electronics": 20.0, "bus_voltage": 28.0, "bus_current": 1.0,
            "laser_current": 0.0, "uptime": 5}


def _tr(i: int) -> dict:
    return {"track_state": 3, "window": 2, "az_cmd": 1.0, "el_cmd": 2.0, "az": 1.0, "el": 2.0, "err_x": 1.0,
            "err_y": 1.0, "err_total": 1.4, "beacon_signal": 10.0, "frame_count": i}


def test_codec_refuses_what_the_session_refuses():
    with pytest.raises(PacketError):
        CODEC.encode_cmd("SLEW", {"az": 120.0, "el": 10.0})
