"""`opals-sim run` as a real process over UDP loopback, driven like ground drives it: the pass
plan uploaded as TIMETAG commands, plus a few bad packets; everything checked from telemetry."""
from __future__ import annotations

import socket
import subprocess
import sys
import time

from links.udp import UdpLink
from protocol.codec import make_codec
from protocol.crc import crc16
from sim.pass_geometry import FlyoverPass
from sim.pass_plan import plan_pass, timetag_packets

START = "2026-01-01T00:00:00"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_sim_process_runs_a_pass_over_udp():
    codec = make_codec()
    g_port, s_port = _free_port(), _free_port()
    ground = UdpLink(("127.0.0.1", g_port), ("127.0.0.1", s_port))
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim.cli", "run", "--link", f"udp://127.0.0.1:{g_port}?local=127.0.0.1:{s_port}",
         "--speed", "max", "--seed", "7", "--start", START, "--plan", "ground", "--hold", "--quiet",
         "--pass-offset", "200"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        from protocol.time_codes import datetime_to_tai
        import datetime as dt
        start = datetime_to_tai(dt.datetime.fromisoformat(START).replace(tzinfo=dt.timezone.utc))
        geometry = FlyoverPass(tca_tai=start + 200)
        items, times = plan_pass(geometry, start)
        packets = timetag_packets(codec, items)
        bad_crc = bytearray(codec.encode_cmd("PING", {"token": 1}, seq=9000))
        bad_crc[-1] ^= 0xFF
        unknown = bytearray(codec.encode_cmd("NOOP", {}, seq=9001))
        unknown[6:8] = b"\x7f\x7f"
        body = bytes(unknown[:-2])
        unknown = body + crc16(body).to_bytes(2, "big")
        out_of_range = bytearray(codec.encode_cmd("SLEW", {"az": 10.0, "el": 10.0}, seq=9002))
        out_of_range[8:12] = bytes.fromhex("42c80000")  # az = 100 deg, outside the limits
        body = bytes(out_of_range[:-2])
        out_of_range = body + crc16(body).to_bytes(2, "big")
        # Wait for the process to listen, then say hello (this releases --hold) and upload the plan.
        deadline = time.monotonic() + 30
        ping = codec.encode_cmd("PING", {"token": 4242}, seq=1)
        received: list[bytes] = []
        ground.send(ping)
        while time.monotonic() < deadline and not received:
            received += ground.recv(0.2)
            if not received:
                ground.send(ping)
        assert received, "simulator never answered"
        for p in packets + [bytes(bad_crc), unknown, out_of_range]:
            ground.send(p)
        while proc.poll() is None and time.monotonic() < deadline + 120:
            received += ground.recv(0.2)
        received += ground.recv(0.5)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        ground.close()
    assert proc.returncode == 0, err
    decoded = [codec.decode(p) for p in received]
    names = {d.name for d in decoded}
    assert {"HOUSEKEEPING", "TRACKING", "SAFETY", "EVENT", "COMMAND_ACK", "PASS_SUMMARY", "FILE_DIRECTORY"} <= names
    events = [codec.dictionary.event_by_id(d.values["event_id"]).name for d in decoded if d.name == "EVENT"]
    for needed in ("BOOT_COMPLETE", "HEALTH_CHECK_PASSED", "PASS_STARTED", "LOCK_ACQUIRED", "LASER_ARMED",
                   "LASER_FIRED", "LASER_SAFED", "PASS_ENDED", "PASS_SUMMARY", "PACKET_REJECTED", "CMD_REJECTED",
                   "PING", "SEQ_EXECUTED"):
        assert needed in events, needed
    assert "EMISSION_UNEXPECTED" not in events and "SAFE_MODE" not in events
    acks = [d.values for d in decoded if d.name == "COMMAND_ACK"]
    rejected = {(a["opcode"], a["reason"]) for a in acks if a["stage"] == 2}
    assert (0x13, 3) in rejected  # SLEW out of range -> ARG_OUT_OF_RANGE
    assert (0x7F7F, 1) in rejected  # unknown opcode
    fired = [a for a in acks if a["opcode"] == 0x21]
    assert [a["stage"] for a in fired] == [1, 3]  # LASER_FIRE accepted then completed
    summary = next(d.values for d in decoded if d.name == "PASS_SUMMARY")
    assert 0 <= summary["acquisition_ms"] <= 3000
    assert summary["err_3sigma"] <= 140.0
    assert summary["emit_s"] > 100.0
    # One sequence counter per APID, no gaps on loopback.
    by_apid: dict[int, list[int]] = {}
    for d in decoded:
        by_apid.setdefault(d.apid, []).append(d.seq)
    for apid, seqs in by_apid.items():
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), hex(apid)
    import json
    result = json.loads(out)
    assert result["hazards"] == {"H1": 0, "H2": 0, "violations": []}
    assert result["truth"]["err_3sigma_urad"] <= 140.0
