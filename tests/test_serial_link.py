"""SerialLink over a REAL pseudo-terminal through pyserial: framed packets both ways, and the
device unplugged and plugged back (the symlink the link opens is pointed at a new pty): nothing
received is lost, sends during the outage are queued and flushed in order, reconnects counted."""
from __future__ import annotations

import os
import select
import tty

import pytest

from links import open_link
from links.serial_link import SerialLink
from protocol.codec import Codec
from protocol.framing import Deframer, frame, frame_all
from protocol.opals import DICTIONARY

CODEC = Codec(DICTIONARY)


class Pty:
    """The far end of the line: a pty master whose slave the link opens through ``path``."""

    def __init__(self, path: str):
        self.master, slave = os.openpty()
        tty.setraw(self.master)
        self.slave_name = os.ttyname(slave)
        os.close(slave)
        self.deframer = Deframer()
        if os.path.lexists(path):
            os.unlink(path)
        os.symlink(self.slave_name, path)

    def write(self, data: bytes) -> None:
        os.write(self.master, data)

    def read_packets(self, n: int, attempts: int = 200) -> list[bytes]:
        out: list[bytes] = []
        for _ in range(attempts):
            if len(out) >= n:
                break
            if select.select([self.master], [], [], 0.05)[0]:
                try:
                    out += self.deframer.feed(os.read(self.master, 65536))
                except OSError:  # EIO: nobody has the slave open (yet)
                    continue
        return out

    def unplug(self) -> None:
        os.close(self.master)


def _recv_n(link: SerialLink, n: int, attempts: int = 100) -> list[bytes]:
    out: list[bytes] = []
    for _ in range(attempts):
        out += link.recv(timeout=0.05)
        if len(out) >= n:
            break
    return out


def _wait_up(link: SerialLink, attempts: int = 60) -> None:
    for _ in range(attempts):
        if link.stats().up:
            return
        link.recv(timeout=0.05)
    raise AssertionError("link did not reconnect")


def _tm(seq: int) -> bytes:
    return CODEC.encode_tm("TRACKING", [3, 2, 10.0, 5.0, 10.0, 5.0, 1.0, 1.0, 1.4, 900.0, seq], seq, 50.0 + seq)


def _cmd(seq: int) -> bytes:
    return CODEC.encode_cmd("PING", {"token": seq}, seq=seq)


@pytest.fixture
def port(tmp_path):
    return str(tmp_path / "ttyOPALS")


def test_packets_flow_both_ways_with_garbage_on_the_line(port):
    far = Pty(port)
    link = SerialLink(port, reconnect_interval=0.05)
    try:
        far.write(b"\x00noise" + frame_all(_tm(s) for s in range(5)) + b"\x1a\xcf" + frame(_tm(5)))
        assert _recv_n(link, 6) == [_tm(s) for s in range(6)]
        for s in range(3):
            assert link.send(_cmd(s))
        assert far.read_packets(3) == [_cmd(s) for s in range(3)]
        st = link.stats()
        assert st.packets_in == 6 and st.packets_out == 3 and st.bytes_discarded == 8 and st.up
    finally:
        link.close()
        far.unplug()


def test_unplug_and_replug_loses_nothing_and_flushes_the_queue(port):
    first = Pty(port)
    link = SerialLink(port, reconnect_interval=0.05)
    try:
        # Before the outage: both directions work.
        first.write(frame_all(_tm(s) for s in range(0, 10)))
        before = _recv_n(link, 10)
        link.send(_cmd(0))
        assert first.read_packets(1) == [_cmd(0)]

        # The line dies in the middle of a long frame: its claimed length must not hold back the
        # packets that arrive after the replug.
        cut = frame(CODEC.encode_tm("FILE_PDU", {"pdu": bytes(60000)}, 0, 1.0))[:100]
        first.write(cut)
        assert link.recv(timeout=0.1) == []

        # Unplug: the device node disappears. The link notices on its next read or write.
        first.unplug()
        os.unlink(port)
        assert link.recv(timeout=0.1) == []
        assert not link.stats().up
        queued = [_cmd(s) for s in range(1, 6)]
        assert not any([link.send(p) for p in queued])  # queued, not written
        assert link.queued == 5

        # Replug: a new device at the same path. The link reopens it on its next recv and
        # flushes the queue first (pyserial discards input that arrived before the port opened,
        # as a real adapter would, so the far end talks once the link is up).
        second = Pty(port)
        _wait_up(link)
        assert second.read_packets(5) == queued
        second.write(frame_all(_tm(s) for s in range(10, 20)))
        after = _recv_n(link, 10)
        link.send(_cmd(6))
        assert second.read_packets(1) == [_cmd(6)]

        assert before + after == [_tm(s) for s in range(20)]
        st = link.stats()
        assert st.reconnects == 1 and st.up and link.queued == 0
        assert st.packets_in == 20 and st.packets_out == 7 and st.seq_gaps == 0
        assert st.bytes_discarded == len(cut)
        second.unplug()
    finally:
        link.close()


def test_link_started_while_device_absent_connects_when_it_appears(port):
    link = open_link(f"serial://{port}?baud=9600")  # the dictionary's APIDs and lengths only
    try:
        link.send(_cmd(1))
        assert link.recv(timeout=0.05) == [] and not link.stats().up
        assert link.stats().open_failures >= 1  # the absent device is counted, not just "down"
        far = Pty(port)
        _wait_up(link)
        assert far.read_packets(1) == [_cmd(1)]
        assert link.stats().reconnects == 0  # the first open is not a reconnect
        false_start = b"\x1a\xcf\xfc\x1d\x08\x20\xc0\x00\xea\x5f"  # "HOUSEKEEPING" of 60 kB: noise
        far.write(false_start + frame(_tm(1)))
        assert _recv_n(link, 1) == [_tm(1)]
        far.unplug()
    finally:
        link.close()


def test_far_end_not_reading_drops_and_counts_but_keeps_the_device(port):
    import serial

    far = Pty(port)
    link = SerialLink(port, opener=lambda: serial.serial_for_url(port, timeout=0, write_timeout=0.02))
    try:
        big = CODEC.encode_tm("FILE_PDU", {"pdu": bytes(4000)}, 0, 1.0)
        results: list[bool] = []
        while results.count(False) < 3 and len(results) < 500:  # into a pty nobody reads
            results.append(link.send(big))
        st = link.stats()
        assert not all(results) and st.send_errors == results.count(False)
        assert st.up and st.reconnects == 0 and link.queued == 0
        while select.select([far.master], [], [], 0.05)[0]:
            os.read(far.master, 1 << 20)  # the far end catches up
        far.deframer = Deframer()
        assert link.send(_cmd(3))
        assert _cmd(3) in far.read_packets(1)
    finally:
        link.close()
        far.unplug()
