"""UDP over real loopback sockets: one packet per datagram, only the configured peer is heard,
foreign and corrupted datagrams are dropped and counted, valid ones flow."""
from __future__ import annotations

import socket

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from links import open_link
from links.udp import UdpLink
from protocol.codec import Codec, PacketError
from protocol.opals import DICTIONARY

CODEC = Codec(DICTIONARY)
LOCAL = ("127.0.0.1", 0)


def _recv_n(link, n: int, attempts: int = 100) -> list[bytes]:
    out: list[bytes] = []
    for _ in range(attempts):
        out += link.recv(timeout=0.1)
        if len(out) >= n:
            break
    return out


def _linked_pair():
    """A flight and a ground link on ephemeral loopback ports, each the other's only peer."""
    flight = UdpLink(LOCAL, ("127.0.0.1", 9))
    ground = UdpLink(LOCAL, flight.local)
    flight.peer = ground.local
    yield flight, ground
    flight.close()
    ground.close()


@pytest.fixture
def pair():
    yield from _linked_pair()


def _hk(seq: int) -> bytes:
    return CODEC.encode_tm("HOUSEKEEPING", [1, 0, seq, 0, 20.0, 20.0, 20.0, 28.0, 1.0, 0.0, seq], seq, 1000.0 + seq)


def test_valid_packets_flow_one_per_datagram_both_ways(pair):
    flight, ground = pair
    sent = [_hk(s) for s in range(20)]
    for p in sent:
        assert flight.send(p)
    assert _recv_n(ground, 20) == sent
    cmd = CODEC.encode_cmd("PING", {"token": 42}, seq=1)
    ground.send(cmd)
    assert _recv_n(flight, 1) == [cmd]
    st = ground.stats()
    assert (st.packets_in, st.bytes_in, st.rejected_foreign, st.rejected_bad, st.seq_gaps) == (20, 20 * 48, 0, 0, 0)
    assert st.per_apid[0x020]["packets"] == 20


def test_foreign_sender_is_dropped_and_counted(pair):
    flight, ground = pair
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as intruder:
        intruder.sendto(_hk(1), ground.local)
        intruder.sendto(_hk(2), ground.local)
    flight.send(_hk(3))
    got = _recv_n(ground, 1)
    assert got == [_hk(3)]
    st = ground.stats()
    assert st.rejected_foreign == 2 and st.packets_in == 1


def test_corrupted_and_truncated_datagrams_are_counted_not_delivered(pair):
    flight, ground = pair
    good = _hk(5)
    corrupt = good[:-1] + bytes([good[-1] ^ 0x40])
    for d in (corrupt, good[:30], b"", good + b"\x00", good):
        flight.sock.sendto(d, ground.local)
    assert _recv_n(ground, 1) == [good]
    st = ground.stats()
    assert st.rejected_bad == 4 and st.crc_failures == 1 and st.packets_in == 1


def test_sequence_gaps_are_counted_per_apid(pair):
    flight, ground = pair
    for s in (0, 1, 4, 5, 5):  # 2 and 3 lost; 5 repeated (a repeat is not 16k lost packets)
        flight.send(_hk(s))
    flight.send(CODEC.encode_tm("COMMAND_ACK", [1, 0, 1, 0], 0, 1.0))
    assert len(_recv_n(ground, 6)) == 6
    st = ground.stats()
    assert st.seq_gaps == 2 and st.per_apid[0x020]["gaps"] == 2 and st.per_apid[0x023]["gaps"] == 0


def test_send_without_listener_is_counted_not_raised():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(LOCAL)
        dead = s.getsockname()
    link = UdpLink(LOCAL, dead)
    try:
        for _ in range(3):
            link.send(_hk(0))
            link.recv(timeout=0.05)  # the ICMP refusal surfaces here and must not raise
        st = link.stats()
        assert st.packets_out + st.send_errors == 3
    finally:
        link.close()


def test_open_link_url_builds_a_working_udp_link():
    ground = UdpLink(LOCAL, ("127.0.0.1", 9))
    flight = open_link(f"udp://127.0.0.1:{ground.local[1]}?local=127.0.0.1:0")
    try:
        ground.peer = flight.local
        flight.send(_hk(9))
        assert _recv_n(ground, 1) == [_hk(9)]
    finally:
        flight.close()
        ground.close()


@pytest.fixture(scope="module")
def fuzz_pair():
    yield from _linked_pair()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.binary(max_size=120), min_size=1, max_size=6))
def test_arbitrary_datagrams_from_the_peer_never_crash_and_are_counted(fuzz_pair, datagrams):
    flight, ground = fuzz_pair
    before = ground.stats()
    bad0, in0 = before.rejected_bad, before.packets_in
    for d in datagrams:
        flight.sock.sendto(d, ground.local)
    marker = _hk(1)
    flight.send(marker)  # datagrams arrive in order on loopback: this one comes last
    got: list[bytes] = []
    for _ in range(100):
        got += ground.recv(timeout=0.1)
        if got and got[-1] == marker:
            break
    st = ground.stats()
    valid = [d for d in datagrams if _is_valid(d)]
    assert got == valid + [marker]
    assert st.rejected_bad - bad0 == len(datagrams) - len(valid) and st.packets_in - in0 == len(valid) + 1


def _is_valid(d: bytes) -> bool:
    try:
        CODEC.check_frame(d)
        return True
    except PacketError:
        return False


def test_recv_keeps_waiting_past_foreign_datagrams_for_the_peer(pair):
    import threading

    flight, ground = pair
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as intruder:
        intruder.sendto(_hk(1), ground.local)
        later = threading.Timer(0.2, flight.send, (_hk(2),))
        later.start()
        try:
            assert ground.recv(timeout=10.0) == [_hk(2)]  # one call: the intruder did not end the wait
        finally:
            later.join()
    assert ground.stats().rejected_foreign == 1
