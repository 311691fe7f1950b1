"""CFDP file downlink: flight/file_downlink.py (source) and ground/files.py (destination).

Class 2 must deliver every file intact through 20% random PDU loss in both directions and a
loss-of-signal gap; interop is checked against cfdp-py's own handlers as the peer.
"""
from __future__ import annotations

import os
import random
import time
import zlib
from pathlib import Path

import pytest
from cfdppy import IndicationConfig, LocalEntityConfig, PutRequest, RemoteEntityConfigTable
from cfdppy.handler.dest import DestHandler
from cfdppy.handler.source import SourceHandler
from cfdppy.restricted_filestore import RestrictedFilestore
from cfdppy.user import CfdpUserBase
from spacepackets.cfdp import ConditionCode, TransmissionMode
from spacepackets.cfdp.pdu import PduFactory
from spacepackets.seqcount import SeqCountProvider

from flight.file_downlink import FileDownlink
from ground.files import FileReceiver
from protocol.file_transfer import (GROUND_ENTITY_ID, PAYLOAD_ENTITY_ID, CfdpTimers, FixedCheckTimers,
                                    RecordingFaults, entity, remote_config)

FAST = CfdpTimers(positive_ack_interval=0.03, positive_ack_limit=500, check_interval=0.03, inactivity=20)


class Channel:
    """Drops a fraction of PDUs at random, and everything during a loss-of-signal window."""

    def __init__(self, rng: random.Random, loss: float):
        self.rng, self.loss, self.los = rng, loss, False
        self.queue: list[bytes] = []
        self.dropped = 0
        self.los_dropped = 0
        self.sent = 0
        self.drop_every = 0   # deterministic loss: every Nth PDU after the first

    def send(self, pdu: bytes) -> None:
        self.sent += 1
        if self.drop_every and self.sent > 1 and self.sent % self.drop_every == 0:
            self.dropped += 1
            return
        if self.los:
            self.los_dropped += 1
            return
        if self.rng.random() < self.loss:
            self.dropped += 1
            return
        self.queue.append(pdu)

    def deliver(self, to) -> None:
        while self.queue:
            to(self.queue.pop(0))


def _files(tmp_path: Path, sizes: list[int]) -> list[Path]:
    out = []
    for i, n in enumerate(sizes):
        p = tmp_path / f"src{i}.bin"
        p.write_bytes(os.urandom(n))
        out.append(p)
    return out


def _run(flight: FileDownlink, ground: FileReceiver, down: Channel, up: Channel,
         los_after_pdus: int | None = None, los_s: float = 0.3, limit_s: float = 60.0) -> None:
    """Tick both ends until the sender is idle; the link is cut for ``los_s`` once the flight
    has sent ``los_after_pdus`` PDUs (a loss of signal in the middle of a transfer)."""
    t0 = time.monotonic()
    los_start = None
    while flight.busy and time.monotonic() - t0 < limit_s:
        if los_after_pdus is not None and los_start is None and down.sent >= los_after_pdus:
            los_start = time.monotonic()
        down.los = up.los = los_start is not None and time.monotonic() - los_start < los_s
        flight.tick()
        down.deliver(ground.on_pdu)
        ground.tick()
        up.deliver(flight.on_pdu)
        time.sleep(0.001)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_class2_delivers_every_file_through_20pc_loss_and_a_los_gap(tmp_path, seed):
    rng = random.Random(seed)
    down, up = Channel(rng, 0.2), Channel(rng, 0.2)
    done = []
    flight = FileDownlink(down.send, time.monotonic, lambda *a: done.append(a), timers=FAST)
    ground = FileReceiver(up.send, time.monotonic, tmp_path / "out", timers=FAST)
    srcs = _files(tmp_path, [150_000, 1, 0, 30_000])
    for i, p in enumerate(srcs):
        flight.start(10 + i, p, f"logs/file{i}.bin", 2)
    _run(flight, ground, down, up, los_after_pdus=80)
    assert done == [(10, True, 0), (11, True, 0), (12, True, 0), (13, True, 0)]
    assert down.los_dropped > 0 and up.los_dropped + down.los_dropped > 5     # the gap really cut the link
    assert down.dropped > 0.12 * (down.sent - down.los_dropped) and up.dropped > 0   # and the loss happened
    for i, p in enumerate(srcs):
        got = tmp_path / "out" / "logs" / f"file{i}.bin"
        assert got.read_bytes() == p.read_bytes()
    assert [(r.ok, r.crc32) for r in ground.received] == [(True, zlib.crc32(p.read_bytes())) for p in srcs]


def test_class1_is_intact_without_loss_and_reported_incomplete_with_loss(tmp_path):
    rng = random.Random(7)
    done = []
    down, up = Channel(rng, 0.0), Channel(rng, 0.0)
    flight = FileDownlink(down.send, time.monotonic, lambda *a: done.append(a), timers=FAST)
    ground = FileReceiver(up.send, time.monotonic, tmp_path / "out", timers=FAST)
    src, src2 = _files(tmp_path, [50_000, 50_000])
    flight.start(1, src, "a.bin", 1)
    _run(flight, ground, down, up)
    assert done == [(1, True, 0)]
    t0 = time.monotonic()
    while ground.busy and time.monotonic() - t0 < 5:
        ground.tick()
    assert ground.received[-1].ok and (tmp_path / "out" / "a.bin").read_bytes() == src.read_bytes()
    # Class 1 has no retransmission: a lossy link must end in a reported failure, never "ok".
    down.drop_every, down.sent = 4, 0   # metadata arrives, a quarter of the data does not
    flight.start(2, src2, "b.bin", 1)
    _run(flight, ground, down, up)
    t0 = time.monotonic()
    while ground.busy and time.monotonic() - t0 < 10:
        ground.tick()
        time.sleep(0.005)
    assert len(ground.received) == 2 and not ground.received[-1].ok


def test_garbage_pdus_are_counted_and_the_transfer_still_completes(tmp_path):
    rng = random.Random(3)
    done = []
    down, up = Channel(rng, 0.0), Channel(rng, 0.0)
    flight = FileDownlink(down.send, time.monotonic, lambda *a: done.append(a), timers=FAST)
    ground = FileReceiver(up.send, time.monotonic, tmp_path / "out", timers=FAST)
    (src,) = _files(tmp_path, [20_000])
    flight.start(5, src, "c.bin", 2)
    for junk in (b"", b"\x00", os.urandom(40), b"\xff" * 300):
        ground.on_pdu(junk)
        flight.on_pdu(junk)
    _run(flight, ground, down, up)
    assert done == [(5, True, 0)]
    assert ground.pdus_rejected >= 4 and flight.pdus_rejected >= 4
    assert (tmp_path / "out" / "c.bin").read_bytes() == src.read_bytes()


def test_a_silent_sender_is_abandoned_on_the_injected_clock(tmp_path):
    now = [0.0]
    ground = FileReceiver(lambda p: None, lambda: now[0], tmp_path / "out", timers=FAST)
    down = Channel(random.Random(1), 0.0)
    flight = FileDownlink(down.send, lambda: now[0], lambda *a: None, timers=FAST)
    (src,) = _files(tmp_path, [20_000])
    flight.start(1, src, "d.bin", 2)
    flight.tick()
    ground.on_pdu(down.queue[0])  # metadata only, then silence
    assert ground.busy
    now[0] += FAST.inactivity + 1
    ground.tick()
    assert not ground.busy and ground.abandoned == 1
    assert ground.received[-1].ok is False and ground.received[-1].condition == "INACTIVITY_DETECTED"


def test_a_missing_file_is_reported_failed_not_raised(tmp_path):
    done = []
    flight = FileDownlink(lambda p: None, time.monotonic, lambda *a: done.append(a), timers=FAST)
    flight.start(9, tmp_path / "nope.bin", "x", 2)
    assert done and done[0][0] == 9 and done[0][1] is False and not flight.busy


# ---------------------------------------------------------------- interop with cfdp-py's own handlers
class _PlainUser(CfdpUserBase):
    def __init__(self, vfs=None):
        super().__init__(vfs) if vfs else super().__init__()
        self.finished = []

    def transaction_finished_indication(self, params):
        self.finished.append(params)

    def transaction_indication(self, *a): ...
    def eof_sent_indication(self, *a): ...
    def metadata_recv_indication(self, *a): ...
    def file_segment_recv_indication(self, *a): ...
    def report_indication(self, *a): ...
    def suspended_indication(self, *a): ...
    def resumed_indication(self, *a): ...
    def fault_indication(self, *a): ...
    def abandoned_indication(self, *a): ...
    def eof_recv_indication(self, *a): ...


def _drain(handler, channel: Channel) -> None:
    while handler.packets_ready:
        channel.send(handler.get_next_packet().pack())


def test_interop_our_sender_to_cfdp_py_destination(tmp_path):
    rng = random.Random(11)
    down, up = Channel(rng, 0.2), Channel(rng, 0.2)
    table = RemoteEntityConfigTable()
    table.add_config(remote_config(PAYLOAD_ENTITY_ID, FAST))
    user = _PlainUser(RestrictedFilestore(tmp_path / "peer"))
    (tmp_path / "peer").mkdir()
    peer = DestHandler(LocalEntityConfig(entity(GROUND_ENTITY_ID), IndicationConfig(), RecordingFaults()),
                       user, table, FixedCheckTimers(FAST.check_interval))
    done = []
    flight = FileDownlink(down.send, time.monotonic, lambda *a: done.append(a), timers=FAST)
    (src,) = _files(tmp_path, [80_000])
    flight.start(3, src, "interop.bin", 2)
    t0 = time.monotonic()
    while flight.busy and time.monotonic() - t0 < 60:
        flight.tick()
        for pdu in down.queue:
            peer.state_machine(PduFactory.from_raw(pdu))
            _drain(peer, up)
        down.queue.clear()
        peer.state_machine()
        _drain(peer, up)
        up.deliver(flight.on_pdu)
        time.sleep(0.001)
    assert done == [(3, True, 0)]
    assert user.finished[-1].finished_params.condition_code == ConditionCode.NO_ERROR
    assert (tmp_path / "peer" / "interop.bin").read_bytes() == src.read_bytes()


def test_interop_cfdp_py_source_to_our_receiver(tmp_path):
    rng = random.Random(12)
    down, up = Channel(rng, 0.2), Channel(rng, 0.2)
    table = RemoteEntityConfigTable()
    table.add_config(remote_config(GROUND_ENTITY_ID, FAST))
    user = _PlainUser()
    faults = RecordingFaults()
    peer = SourceHandler(LocalEntityConfig(entity(PAYLOAD_ENTITY_ID), IndicationConfig(), faults), user, table,
                         FixedCheckTimers(FAST.check_interval), SeqCountProvider(16))
    ground = FileReceiver(up.send, time.monotonic, tmp_path / "out", timers=FAST)
    (src,) = _files(tmp_path, [80_000])
    assert peer.put_request(PutRequest(destination_id=entity(GROUND_ENTITY_ID), source_file=src,
                                       dest_file=Path("from_peer.bin"), trans_mode=TransmissionMode.ACKNOWLEDGED,
                                       closure_requested=True))
    t0 = time.monotonic()
    while not user.finished and time.monotonic() - t0 < 60:
        peer.state_machine()
        _drain(peer, down)
        down.deliver(ground.on_pdu)
        ground.tick()
        for pdu in up.queue:
            peer.state_machine(PduFactory.from_raw(pdu))
            _drain(peer, down)
        up.queue.clear()
        time.sleep(0.001)
    assert user.finished and user.finished[-1].finished_params.condition_code == ConditionCode.NO_ERROR
    assert ground.received[-1].ok
    assert (tmp_path / "out" / "from_peer.bin").read_bytes() == src.read_bytes()
