"""ASM deframing of byte streams: never raises, never yields a bad packet, recovers every valid
packet after garbage, agrees with native/reference.py, and is linear in the stream length."""
from __future__ import annotations

from hypothesis import given, settings, strategies as st

from dictionary_strategies import seq_counts, telemetry_values
from native import reference
from protocol.codec import Codec
from protocol.crc import crc16
from protocol.framing import Deframer, frame, frame_all, packet_lengths
from protocol.opals import DICTIONARY
from protocol.time_codes import CucTime

CODEC = Codec(DICTIONARY)
NAMES = sorted(DICTIONARY.telemetry)
MARKER = reference.SYNC_MARKER


@st.composite
def packets(draw, max_n: int = 8) -> list[bytes]:
    out = []
    for _ in range(draw(st.integers(0, max_n))):
        name = draw(st.sampled_from(NAMES))
        out.append(CODEC.encode_tm(name, draw(telemetry_values(DICTIONARY.telemetry[name])),
                                   draw(seq_counts), CucTime(1, 2)))
    return out


garbage = st.one_of(
    st.binary(max_size=64),
    st.lists(st.one_of(st.binary(max_size=16), st.just(MARKER), st.just(MARKER + b"\x00\x20")),
             max_size=5).map(b"".join),  # false markers, some with a plausible header
)


def _crc_ok(p: bytes) -> bool:
    return crc16(p[:-2]) == int.from_bytes(p[-2:], "big")


def _chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    cuts = sorted({c % (len(data) + 1) for c in cuts})
    edges = [0, *cuts, len(data)]
    return [data[a:b] for a, b in zip(edges, edges[1:])]


LENGTHS = packet_lengths(DICTIONARY)


def _deframe(stream: bytes, cuts: list[int] = (), lengths=None) -> tuple[list[bytes], Deframer]:
    d = Deframer(lengths=lengths)
    out = []
    for c in _chunks(stream, list(cuts)):
        out += d.feed(c)
    out += d.flush()
    return out, d


def _is_subsequence(needles: list[bytes], hay: list[bytes]) -> bool:
    it = iter(hay)
    return all(any(n == h for h in it) for n in needles)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400), st.lists(st.integers(0, 400), max_size=10))
def test_arbitrary_bytes_never_raise_and_agree_with_reference(stream, cuts):
    out, d = _deframe(stream, cuts)
    want, discarded = reference.deframe(stream)
    assert out == want
    assert all(_crc_ok(p) for p in out)
    s = d.stats()
    assert s.bytes_discarded == discarded and s.bytes_in == len(stream)
    assert s.bytes_discarded + sum(4 + len(p) for p in out) == len(stream)  # every byte accounted for


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(garbage, packets(3)), max_size=5), st.lists(st.integers(0, 2000), max_size=12))
def test_every_valid_packet_after_garbage_is_recovered_under_any_chunking(parts, cuts):
    stream = b"".join(g + frame_all(ps) for g, ps in parts)
    sent = [p for _, ps in parts for p in ps]
    whole, _ = _deframe(stream)
    chunked, d = _deframe(stream, cuts)
    assert chunked == whole == reference.deframe(stream)[0]
    assert _is_subsequence(sent, chunked)
    assert all(_crc_ok(p) for p in chunked)
    assert d.pending == 0
    assert d.stats().bytes_discarded + sum(4 + len(p) for p in chunked) == len(stream)


@settings(max_examples=150, deadline=None)
@given(packets(8), st.data())
def test_truncated_packets_and_bit_flips_lose_only_what_they_touch(pks, data):
    frames = [bytearray(frame(p)) for p in pks]
    touched = set()
    for i, f in enumerate(frames):
        action = data.draw(st.sampled_from(["keep", "keep", "flip", "truncate"]))
        if action == "flip":
            bit = data.draw(st.integers(0, len(f) * 8 - 1))
            f[bit // 8] ^= 0x80 >> (bit % 8)
            touched.add(i)
        elif action == "truncate":
            del f[data.draw(st.integers(0, len(f) - 1)):]
            touched.add(i)
    stream = b"".join(frames)
    out, d = _deframe(stream, data.draw(st.lists(st.integers(0, len(stream)), max_size=6)))
    assert out == reference.deframe(stream)[0]
    assert all(_crc_ok(p) for p in out)
    assert _is_subsequence([p for i, p in enumerate(pks) if i not in touched], out)


def test_counts_discards_crc_failures_and_per_apid_gaps():
    hk = [CODEC.encode_tm("HOUSEKEEPING", [1, 0, 0, 0, 0.0, 0.0, 0.0, 28.0, 1.0, 0.0, s], s, 1.0)
          for s in range(10)]
    bad = bytearray(frame(hk[3]))
    bad[20] ^= 0x01
    stream = b"xyz" + frame(hk[0]) + frame(hk[1]) + bytes(bad) + b"".join(frame(p) for p in hk[5:])
    d = Deframer()
    got = d.feed(stream)
    assert got == [hk[0], hk[1], *hk[5:]]
    s = d.stats()
    assert s.crc_failures == 1
    assert s.bytes_discarded == 3 + len(bad)
    assert s.per_apid[0x020]["packets"] == 7
    assert s.per_apid[0x020]["gaps"] == s.seq_gaps == 3  # 2, 3 and 4 never arrived


def test_repeated_packet_is_not_counted_as_a_gap():
    p = CODEC.encode_tm("COMMAND_ACK", [1, 5, 1, 0], 7, 1.0)
    d = Deframer()
    assert len(d.feed(frame(p) * 3)) == 3
    assert d.stats().seq_gaps == 0


def test_one_byte_chunks_are_linear_and_hold_at_most_one_frame():
    """No wall clock: the deframer copies each byte a bounded number of times, and the held buffer
    never exceeds one frame, however the stream is chunked."""
    big = CODEC.encode_tm("FILE_PDU", {"pdu": bytes(range(256)) * 100}, 1, 1.0)  # 25.6 kB frame
    small = [CODEC.encode_tm("TRACKING", [3, 2, 1.0, 2.0, 1.0, 2.0, 0.1, 0.2, 0.3, 9.0, s], s, 1.0)
             for s in range(200)]
    stream = (b"\x00garbage" + frame(big)) * 4 + frame_all(small) + frame(big) + b"\x1a\xcf"
    whole = Deframer()
    want = whole.feed(stream) + whole.flush()
    d = Deframer()
    got, most_held = [], 0
    for i in range(len(stream)):
        got += d.feed(stream[i:i + 1])
        most_held = max(most_held, d.pending)
    got += d.flush()
    assert got == want and len(got) == 205
    assert most_held <= len(frame(big))
    assert d.bytes_copied <= 4 * len(stream)
    assert d.stats().bytes_discarded == whole.stats().bytes_discarded


def test_feed_batch_scans_bytes_in_place():
    pks = [CODEC.encode_tm("COMMAND_ACK", [1, s, 1, 0], s, 1.0) for s in range(1000)]
    stream = frame_all(pks)
    d = Deframer()
    half = len(stream) // 2 + 3
    batches = d.feed_batch(stream[:half]) + d.feed_batch(stream[half:], final=True)
    assert [p for b in batches for p in b.packets()] == pks
    assert d.bytes_copied < 5 * len(frame(pks[0])) + 8  # only the frame split across the two feeds


def test_apid_filter_drops_and_counts_other_apids():
    hk = CODEC.encode_tm("HOUSEKEEPING", [1, 0, 0, 0, 0.0, 0.0, 0.0, 28.0, 1.0, 0.0, 1], 1, 1.0)
    ack = CODEC.encode_tm("COMMAND_ACK", [1, 5, 1, 0], 7, 1.0)
    d = Deframer(apids={0x023})
    assert d.feed(frame(hk) + frame(ack)) == [ack]
    s = d.stats()
    assert s.bad_headers == 1 and s.bytes_discarded == len(frame(hk)) and set(s.per_apid) == {0x023}


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(garbage, packets(3)), max_size=5), st.lists(st.integers(0, 2000), max_size=12))
def test_dictionary_lengths_keep_every_valid_packet_and_agree_with_reference(parts, cuts):
    stream = b"".join(g + frame_all(ps) for g, ps in parts)
    got, d = _deframe(stream, cuts, LENGTHS)
    assert got == reference.deframe(stream, lengths=LENGTHS)[0]
    assert _is_subsequence([p for _, ps in parts for p in ps], got)
    assert d.stats().bytes_discarded + sum(4 + len(p) for p in got) == len(stream)


def test_false_marker_does_not_hold_back_the_stream_when_lengths_are_known():
    """Garbage that looks like the start of a 60 kB HOUSEKEEPING packet: a length-aware deframer
    refuses it at once (HOUSEKEEPING is 48 bytes); a blind one must wait for 60 kB to decide."""
    false_start = MARKER + bytes([0x08, 0x20, 0xC0, 0x00]) + (60000 - 7).to_bytes(2, "big") + b"junk"
    good = [CODEC.encode_tm("COMMAND_ACK", [1, s, 1, 0], s, 1.0) for s in range(5)]
    stream = false_start + frame_all(good)
    assert Deframer(lengths=LENGTHS).feed(stream) == good
    blind = Deframer()
    assert blind.feed(stream) == [] and blind.pending == len(stream)
    assert blind.flush() == good  # it does get there, once the stream ends
