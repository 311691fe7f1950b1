"""Flight software behaviour ground relies on: executive timing, command validation and
acknowledgement, the onboard sequence, modes, laser inhibits, telemetry rates, file store and
the CFDP downlink hand-off (with a small fake of flight/file_downlink.py's interface)."""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flight.app import FlightConfig
from flight.executive import Executive
from flight.file_store import TRACKING_LOG_DTYPE
from flight.sequence import CommandSequence, embed
from protocol.codec import PacketError, make_codec
from protocol.model import _int_bounds
from protocol.opals import REASONS
from sim.pass_geometry import FlyoverPass
from sim.safety_campaign import SHORT_CAMERA, SHORT_TCA_S, START_TAI, short_pass
from sim.simulation import Simulation
from sim.world import WorldConfig

CODEC = make_codec()
R = {v: k for k, v in REASONS.items()}


def _sim(tmp_path: Path, **kw) -> Simulation:
    sim = Simulation(FlyoverPass(tca_tai=START_TAI + SHORT_TCA_S), START_TAI, flight_config=FlightConfig(
        control_hz=20.0, stow=(62.0, 14.0), boot_s=0.5), world_config=WorldConfig(camera=dict(SHORT_CAMERA)),
        store_dir=tmp_path, codec=CODEC, **kw)
    return sim


def _decoded(sim: Simulation):
    return [CODEC.decode(p) for p in sim.port.sent]


def _events(sim: Simulation) -> list[tuple[str, tuple[int, ...]]]:
    out = []
    for d in _decoded(sim):
        if d.name == "EVENT":
            v = d.values
            out.append((CODEC.dictionary.event_by_id(v["event_id"]).name, (v["arg0"], v["arg1"], v["arg2"], v["arg3"])))
    return out


def _acks(sim: Simulation) -> list[dict]:
    return [d.values for d in _decoded(sim) if d.name == "COMMAND_ACK"]


# ---------------------------------------------------------------- executive
def test_executive_runs_rate_groups_on_the_injected_clock():
    now = [100.0]
    ex = Executive(lambda: now[0], 100.0)
    runs = {"fast": 0, "slow": 0}
    ex.add("fast", 100.0, lambda t: runs.__setitem__("fast", runs["fast"] + 1))
    ex.add("slow", 10.0, lambda t: runs.__setitem__("slow", runs["slow"] + 1))
    for _ in range(100):
        ex.tick()
        now[0] += 0.01
    assert runs == {"fast": 100, "slow": 10}
    assert ex.tick() == 1 and ex.tick() == 0          # a stalled clock runs nothing
    now[0] += 10.0                                    # a long stall: bounded catch-up, counted
    assert ex.tick() == 1 and ex.overruns > 900


# ---------------------------------------------------------------- sequence
def test_sequence_validates_on_upload():
    seq = CommandSequence(CODEC)
    with pytest.raises(PacketError) as e:
        seq.store(1.0, 0x7777, b"", 0)
    assert e.value.reason == "UNKNOWN_OPCODE"
    opcode, args = embed(CODEC, "SLEW", {"az": 10.0, "el": 10.0})
    bad = struct.pack(">ff", 200.0, 10.0)
    with pytest.raises(PacketError) as e:
        seq.store(1.0, opcode, bad, 0)
    assert e.value.reason == "ARG_OUT_OF_RANGE"
    tt_opcode = CODEC.dictionary.commands["TIMETAG"].opcode
    with pytest.raises(PacketError):
        seq.store(1.0, tt_opcode, b"", 0)
    seq.store(5.0, opcode, args, 1)
    n_opcode, n_args = embed(CODEC, "NOOP")
    seq.store(2.0, n_opcode, n_args, 2)
    assert seq.due(1.0) == [] and [e[1] for e in seq.due(10.0)] == [n_opcode, opcode]


def test_timetag_runs_at_its_time_and_is_revalidated_against_the_mode(tmp_path):
    sim = _sim(tmp_path)
    c = CODEC.encode_cmd
    op, args = embed(CODEC, "PING", {"token": 99})
    sim.port.ground(c("TIMETAG", {"tai": START_TAI + 3.0, "opcode": op, "args": args}, seq=5))
    op, args = embed(CODEC, "LASER_FIRE")
    sim.port.ground(c("TIMETAG", {"tai": START_TAI + 3.0, "opcode": op, "args": args}, seq=6))
    sim.run_until(START_TAI + 2.9)
    assert ("PING", (99, 0, 0, 0)) not in _events(sim)
    sim.run_until(START_TAI + 3.2)
    ev = _events(sim)
    assert ("PING", (99, 0, 0, 0)) in ev
    fire_acks = [a for a in _acks(sim) if a["opcode"] == 0x21]
    assert fire_acks == [{"opcode": 0x21, "cmd_seq": 6, "stage": 2, "reason": R["WRONG_MODE"]}]
    assert ("CMD_REJECTED", (0x21, R["WRONG_MODE"], 0, 0)) in ev


# ---------------------------------------------------------------- dispatcher
def test_every_bad_packet_is_rejected_with_a_reason_and_flight_keeps_running(tmp_path):
    sim = _sim(tmp_path)
    sim.run_until(START_TAI + 1.0)
    good = CODEC.encode_cmd("NOOP", {}, seq=10)
    bad_crc = bytearray(good)
    bad_crc[-1] ^= 1
    tm = CODEC.encode_tm("HOUSEKEEPING", [0] * 11, 0, START_TAI)
    for p in (bytes(bad_crc), b"", b"\x00" * 3, good[:-1], tm, CODEC.encode_cmd("PING", {"token": 1}, seq=11)):
        sim.port.ground(p)
    sim.run_until(START_TAI + 1.5)
    ev = [e for e, _ in _events(sim)]
    assert ev.count("PACKET_REJECTED") == 5
    assert "PING" in ev and sim.flight.cmd_rejected == 5
    assert [a["stage"] for a in _acks(sim) if a["cmd_seq"] == 11] == [1, 3]


def test_hazardous_commands_refused_with_the_right_reason(tmp_path):
    sim = _sim(tmp_path)
    sim.run_until(START_TAI + 1.0)
    sim.port.ground(CODEC.encode_cmd("LASER_FIRE", {}, seq=20))
    sim.port.ground(CODEC.encode_cmd("START_PASS", {}, seq=21))
    sim.run_until(START_TAI + 1.2)
    acks = {a["cmd_seq"]: a for a in _acks(sim)}
    assert acks[20]["stage"] == 2 and acks[20]["reason"] == R["WRONG_MODE"]
    assert acks[21]["stage"] == 2 and acks[21]["reason"] == R["WRONG_MODE"]


def test_fire_needs_arm_within_window_and_lock():
    r = short_pass((), keep_sent=True)
    acks = [CODEC.decode(p).values for p in r.sim.port.sent if p[1] == 0x23]
    fire = [(a["stage"], a["reason"]) for a in acks if a["opcode"] == 0x21]
    assert (2, R["WRONG_MODE"]) in fire          # before the pass
    # in TRACK without ARM; after the 1 s window ran out (the monitor disarmed it: ARM_TIMEOUT)
    assert fire.count((2, R["NOT_ARMED"])) >= 2
    ev = [CODEC.dictionary.event_by_id(CODEC.decode(p).values["event_id"]).name
          for p in r.sim.port.sent if p[1] == 0x24]
    assert "ARM_TIMEOUT" in ev
    assert fire.count((3, 0)) == 2               # the two authorised bursts completed


# ---------------------------------------------------------------- modes and telemetry
def test_every_mode_change_is_an_event_and_pass_walks_the_day_in_the_life():
    r = short_pass((), adversarial=False, keep_sent=True)
    ev = [CODEC.decode(p) for p in r.sim.port.sent if p[1] == 0x24]
    changes = [(e.values["arg0"], e.values["arg1"]) for e in ev
               if CODEC.dictionary.event_by_id(e.values["event_id"]).name == "MODE_CHANGE"]
    from flight.modes import MODE_IDS
    assert changes == [(MODE_IDS[a], MODE_IDS[b]) for a, b in r.modes]
    assert [b for _, b in r.modes][:8] == ["IDLE", "HEALTH_CHECK", "READY", "POINTING", "ACQUIRE", "TRACK",
                                           "TRANSMIT", "STOW"]


def test_set_tlm_rate_changes_the_tracking_rate(tmp_path):
    sim = _sim(tmp_path)
    sim.run_until(START_TAI + 2.0)
    sim.port.ground(CODEC.encode_cmd("SET_TLM_RATE", {"apid": 0x021, "rate_hz": 2.0}, seq=30))
    sim.run_until(START_TAI + 2.05)
    sim.port.sent.clear()
    sim.run_until(START_TAI + 12.05)
    n = sum(1 for d in _decoded(sim) if d.name == "TRACKING")
    assert 19 <= n <= 21
    hk = sum(1 for d in _decoded(sim) if d.name == "HOUSEKEEPING")
    assert 9 <= hk <= 11


# ---------------------------------------------------------------- files and downlink
class FakeDownlink:
    """The interface flight/file_downlink.py provides, reduced to: chunk the file into PDUs."""

    instances: list["FakeDownlink"] = []

    def __init__(self, send_pdu, clock, on_complete):
        self.send_pdu, self.clock, self.on_complete = send_pdu, clock, on_complete
        self.busy = False
        self.uplinked: list[bytes] = []
        self._job = None
        FakeDownlink.instances.append(self)

    def start(self, file_id, path, dest_name, cfdp_class):
        self.busy = True
        data = Path(path).read_bytes()
        self._job = (file_id, [data[i:i + 200] for i in range(0, len(data), 200)] or [b""])

    def on_pdu(self, pdu):
        self.uplinked.append(pdu)

    def tick(self):
        if self._job is None:
            return
        file_id, chunks = self._job
        if chunks:
            self.send_pdu(chunks.pop(0))
        else:
            self._job, self.busy = None, False
            self.on_complete(file_id, True, 0)


def test_pass_files_are_listed_and_downlinked_through_the_injected_cfdp(tmp_path):
    FakeDownlink.instances.clear()
    sim = _sim(tmp_path, downlink_factory=FakeDownlink)
    from sim.pass_plan import plan_pass, timetag_packets
    items, times = plan_pass(sim.geometry, START_TAI, stow=(62.0, 14.0), arm_after_rise_s=6.0, transmit_s=5.0,
                             downlink_class=2)
    for p in timetag_packets(CODEC, items):
        sim.port.ground(p)
    sim.run_until(times.end + 5.5)
    kinds = {e.kind for e in sim.flight.store.files.values()}
    assert {"TRACKING_LOG", "EVENT_LOG", "CAMERA_FRAME", "OTHER"} <= kinds
    log = next(e for e in sim.flight.store.files.values() if e.kind == "TRACKING_LOG")
    rec = np.frombuffer(log.path.read_bytes(), TRACKING_LOG_DTYPE)
    assert len(rec) > 10 * 20 and np.all(np.diff(rec["tai"]) > 0)    # every control cycle of the pass
    dirs = [d.values for d in _decoded(sim) if d.name == "FILE_DIRECTORY"]
    assert {d["file_id"] for d in dirs} == set(sim.flight.store.files)
    sim.port.ground(CODEC.encode_file_uplink(b"\x01\x02ack", seq=1))
    sim.run_until(times.end + 60.0)
    assert FakeDownlink.instances[-1].uplinked == [b"\x01\x02ack"]
    ev = [e for e, _ in _events(sim)]
    assert ev.count("DOWNLINK_COMPLETE") == ev.count("DOWNLINK_STARTED") == len(sim.flight.store.files)
    pdus = b"".join(d.values["pdu"] for d in _decoded(sim) if d.name == "FILE_PDU")
    assert pdus == b"".join(e.path.read_bytes() for e in sorted(sim.flight.store.files.values(),
                                                                key=lambda e: e.file_id))
    assert all(e.downlinked for e in sim.flight.store.files.values())
    assert sim.flight.mode == "IDLE"


def test_a_failing_device_is_a_fault_not_a_crash(tmp_path):
    sim = _sim(tmp_path)
    sim.run_until(START_TAI + 2.0)

    def broken() -> tuple[float, float]:
        raise OSError("encoder bus timeout")
    sim.flight.hal.gimbal.read = broken
    sim.run_until(START_TAI + 3.0)
    assert sim.flight.mode == "SAFE" and sim.flight.device_faults > 0
    assert "FAULT_DETECTED" in [e for e, _ in _events(sim)]
    sim.port.ground(CODEC.encode_cmd("PING", {"token": 5}, seq=40))
    sim.run_until(START_TAI + 3.2)
    assert sim.flight.device_faults > 1   # still cycling, still failing, still alive


def test_power_off_silences_telemetry(tmp_path):
    sim = _sim(tmp_path)
    sim.run_until(START_TAI + 2.0)
    sim.port.ground(CODEC.encode_cmd("POWER_OFF", {}, seq=41))
    sim.run_until(START_TAI + 2.2)
    sim.port.sent.clear()
    sim.run_until(START_TAI + 5.0)
    assert sim.flight.mode == "POWER_OFF" and sim.port.sent == []


# ---------------------------------------------------------------- TIMETAG embedding (property)
def _arg_strategy(field):
    if field.is_bytes:
        return st.binary(max_size=field.size)
    lo, hi = field.valid_range if field.valid_range else (None, None)
    if field.is_float:
        return st.floats(lo if lo is not None else -1e6, hi if hi is not None else 1e6, width=32 if field.size == 4
                         else 64)
    blo, bhi = _int_bounds(field.fmt)
    lo = blo if lo is None else max(blo, int(lo))
    hi = bhi if hi is None else min(bhi, int(hi))
    if field.states:
        return st.sampled_from(sorted(field.states))
    return st.integers(lo, hi)


def _valid_command():
    cmds = [c for c in CODEC.dictionary.commands.values() if c.name not in ("TIMETAG", "SEQ_CLEAR")]
    return st.sampled_from(cmds).flatmap(
        lambda c: st.fixed_dictionaries({a.name: _arg_strategy(a) for a in c.args}).map(lambda args: (c, args)))


@settings(max_examples=200, deadline=None)
@given(cmd=_valid_command())
def test_any_valid_command_survives_time_tagging_unchanged(cmd):
    command, args = cmd
    opcode, embedded = embed(CODEC, command.name, args)
    tc = CommandSequence(CODEC).validate(opcode, embedded)
    direct = CODEC.decode(CODEC.encode_cmd(command.name, args))
    assert (tc.name, tc.args) == (direct.name, direct.args)


def test_go_idle_in_idle_is_a_no_op_that_completes(tmp_path):
    """A plan's trailing GO_IDLE finds flight already back in IDLE after the downlink: accepted,
    completed, and no mode change."""
    from flight.telemetry import ACK_STAGE_IDS
    sim = _sim(tmp_path)
    sim.run_until(START_TAI + 2.0)
    assert sim.flight.mode == "IDLE"
    sim.port.sent.clear()
    sim.port.ground(CODEC.encode_cmd("GO_IDLE", {}, seq=42))
    sim.run_until(START_TAI + 2.2)
    stages = [a["stage"] for a in _acks(sim) if a["cmd_seq"] == 42]
    assert stages == [ACK_STAGE_IDS["ACCEPTED"], ACK_STAGE_IDS["COMPLETED"]]
    assert sim.flight.mode == "IDLE" and "MODE_CHANGE" not in [e for e, _ in _events(sim)]
