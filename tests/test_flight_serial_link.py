"""The ground link over a serial line (a pseudo-terminal): `opals-sim run --link serial://...`
frames every packet behind the ASM; ground's commands get through garbage on the line."""
from __future__ import annotations

import os
import select
import subprocess
import sys
import time
import tty

from protocol.codec import make_codec
from protocol.framing import Deframer, frame


def _acked(codec, packets: list[bytes], seq: int) -> bool:
    for p in packets:
        d = codec.decode(p)
        if d.name == "COMMAND_ACK" and d.values["cmd_seq"] == seq:
            return True
    return False


def test_sim_over_a_serial_ground_link_answers_through_line_noise():
    codec = make_codec()
    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    path = os.ttyname(slave)
    proc = subprocess.Popen([sys.executable, "-m", "sim.cli", "run", "--link", f"serial://{path}", "--speed", "max",
                             "--hold", "--quiet", "--duration", "6", "--start", "2026-01-01T00:00:00"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deframer = Deframer()
    packets: list[bytes] = []
    try:
        # pyserial drops what was queued before it opened the port (and may open it in the middle
        # of a frame): knock until the sim has acknowledged our PING, not merely said something.
        deadline = time.monotonic() + 60
        while not _acked(codec, packets, 1) and time.monotonic() < deadline and proc.poll() is None:
            os.write(master, b"\x00garbage\x1a\xcf" + frame(codec.encode_cmd("PING", {"token": 77}, seq=1)))
            r, _, _ = select.select([master], [], [], 0.3)
            if r:
                packets += deframer.feed(os.read(master, 1 << 16))
        os.write(master, frame(codec.encode_cmd("NOOP", {}, seq=2)))
        while time.monotonic() < deadline:
            r, _, _ = select.select([master], [], [], 0.2)
            if r:
                try:
                    data = os.read(master, 1 << 16)
                except OSError:
                    break
                packets += deframer.feed(data)
            elif proc.poll() is not None:
                break
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
        os.close(slave)
    assert proc.returncode == 0, proc.stderr.read()
    decoded = [codec.decode(p) for p in packets]
    events = [codec.dictionary.event_by_id(d.values["event_id"]).name for d in decoded if d.name == "EVENT"]
    assert "PING" in events and "BOOT_COMPLETE" in events
    acks = [(d.values["cmd_seq"], d.values["stage"]) for d in decoded if d.name == "COMMAND_ACK"]
    assert (1, 1) in acks and (1, 3) in acks and (2, 3) in acks
    assert sum(1 for d in decoded if d.name == "HOUSEKEEPING") >= 4
