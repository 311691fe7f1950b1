"""Each C kernel is held to its pure-Python reference, byte for byte; the batch decoder agrees
with the codec field for field for every fixed-length telemetry packet."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from dictionary_strategies import coarse_times, fine_times, same_value, seq_counts, telemetry_values
from native import crc16, find_marker, reference
from protocol.codec import Codec
from protocol.dtypes import batch_layouts, make_batch_decoder
from protocol.opals import DICTIONARY
from protocol.time_codes import CucTime

CODEC = Codec(DICTIONARY)
FIXED = sorted(p.name for p in DICTIONARY.telemetry.values() if not p.is_variable)
MARKER = reference.SYNC_MARKER


def test_crc_check_value_is_pinned():
    assert crc16(b"123456789") == reference.crc16(b"123456789") == reference.crc16_crcmod(b"123456789") == 0x29B1


@settings(deadline=None)  # a loaded CI machine must not turn slowness into failure
@given(st.binary(max_size=2000), st.integers(0, 0xFFFF))
def test_crc16_matches_reference(data, init):
    assert crc16(data, init) == reference.crc16(data, init)


@settings(deadline=None)  # a loaded CI machine must not turn slowness into failure
@given(st.binary(max_size=600))
def test_crc16_matches_crcmod(data):
    assert crc16(data) == reference.crc16_crcmod(data)


def test_crc16_accepts_every_buffer_type():
    data = bytes(range(256)) * 3
    assert crc16(data) == crc16(bytearray(data)) == crc16(memoryview(data)) == crc16(np.frombuffer(data, np.uint8))


_with_markers = st.lists(st.one_of(st.binary(max_size=40), st.just(MARKER), st.just(MARKER[:3]),
                                   st.just(b"\x1a\x1a\xcf")), max_size=12).map(b"".join)


@settings(deadline=None)  # a loaded CI machine must not turn slowness into failure
@given(_with_markers, st.integers(0, 500))
def test_find_marker_matches_reference(data, start):
    assert find_marker(data, start) == reference.find_marker(data, start)


def _packets(draw, names, n):
    out = []
    for _ in range(n):
        name = draw(st.sampled_from(names))
        p = DICTIONARY.telemetry[name]
        out.append(CODEC.encode_tm(name, draw(telemetry_values(p)), draw(seq_counts),
                                   CucTime(draw(coarse_times), draw(fine_times))))
    return out


@st.composite
def packet_files(draw):
    """Back-to-back packets of every fixed type, some corrupted, some of unknown APID or a TC."""
    chunks = []
    for pk in _packets(draw, FIXED, draw(st.integers(0, 25))):
        kind = draw(st.sampled_from(["ok", "ok", "ok", "bitflip", "unknown_apid", "command"]))
        if kind == "bitflip":
            b = bytearray(pk)
            i = draw(st.integers(6, len(pk) - 1))
            b[i] ^= 1 << draw(st.integers(0, 7))
            pk = bytes(b)
        elif kind == "unknown_apid":
            b = bytearray(pk)
            b[1] = 0x7E  # APID 0x07E is not in the dictionary
            pk = bytes(b[:-2]) + reference.crc16(b[:-2]).to_bytes(2, "big")
        elif kind == "command":
            pk = CODEC.encode_cmd("PING", {"token": 5})
        chunks.append(pk)
    return b"".join(chunks) + draw(st.binary(max_size=5))  # maybe a truncated tail


def _column_equals(arr: np.ndarray, rows: list[tuple], dtype: np.dtype) -> None:
    assert len(arr) == len(rows)
    for j, name in enumerate(dtype.names):
        want = [r[j] for r in rows]
        col = arr[name]
        if col.dtype.kind == "V":
            assert [bytes(x) for x in col] == want
        else:
            # The reference holds the raw wire bits; view them as the C wrote them.
            raw = np.array(want, dtype=f"u{col.dtype.itemsize}").view(col.dtype)
            assert col.tobytes() == raw.tobytes(), name


@settings(max_examples=60, deadline=None)
@given(packet_files(), st.integers(1, 8))
def test_batch_decode_matches_reference(buf, capacity):
    layouts = batch_layouts(DICTIONARY)
    dec = make_batch_decoder(DICTIONARY, capacity=capacity)  # tiny capacity: several passes exercised
    arrays, used = dec.decode(buf)
    rows, counts, ref_used = reference.batch_decode(buf, layouts)
    assert used == ref_used
    st_ = dec.stats()
    assert (st_.packets, st_.crc_failures, st_.unknown_apid, st_.bad_length, st_.bad_header) == (
        counts["packets"], counts["crc_failures"], counts["unknown_apid"], counts["bad_length"], counts["bad_header"])
    assert set(arrays) == set(rows)
    for apid, arr in arrays.items():
        _column_equals(arr, rows[apid], layouts[apid][2])


@pytest.mark.parametrize("name", FIXED)
@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_batch_decode_agrees_with_codec_field_for_field(name, data):
    p = DICTIONARY.telemetry[name]
    packets = _packets(data.draw, [name], data.draw(st.integers(1, 20)))
    arrays, used = make_batch_decoder(DICTIONARY).decode(b"".join(packets))
    assert used == sum(map(len, packets))
    arr = arrays[p.apid]
    for rec, raw in zip(arr, packets, strict=True):
        pkt = CODEC.decode(raw)
        assert (int(rec["seq"]), int(rec["coarse"]), int(rec["fine"])) == (pkt.seq, pkt.coarse, pkt.fine)
        for f in p.fields:
            got = bytes(rec[f.name]) if f.is_bytes else rec[f.name].item()
            assert same_value(got, pkt.values[f.name]), f.name


def test_batch_decode_counts_crc_failures_and_skips_unknown_apids():
    hk = CODEC.encode_tm("HOUSEKEEPING", [1, 0, 1, 2, 20.0, 21.0, 22.0, 28.0, 1.0, 0.0, 99], 1, 10.0)
    bad = hk[:-1] + bytes([hk[-1] ^ 0xFF])
    foreign = bytearray(hk)
    foreign[1] = 0x7E
    foreign[-2:] = reference.crc16(foreign[:-2]).to_bytes(2, "big")
    dec = make_batch_decoder(DICTIONARY)
    arrays, _ = dec.decode(hk + bad + bytes(foreign) + hk)
    assert len(arrays[0x020]) == 2 and list(arrays[0x020]["uptime"]) == [99, 99]
    st_ = dec.stats()
    assert (st_.packets, st_.crc_failures, st_.unknown_apid) == (2, 1, 1)


def test_decode_in_one_pass_or_in_capped_passes_gives_the_same_arrays():
    pks = b"".join(CODEC.encode_tm("COMMAND_ACK", [1, s, 1, 0], s, 1.0) for s in range(5000))
    for dec in (make_batch_decoder(DICTIONARY), make_batch_decoder(DICTIONARY, capacity=100)):
        arrays, used = dec.decode(pks)
        assert used == len(pks) and arrays[0x023]["cmd_seq"].tolist() == list(range(5000))


def test_decode_at_uses_deframer_offsets():
    from protocol.framing import Deframer, frame_all
    pks = [CODEC.encode_tm("SAFETY", [3, 1, 0, 0.0, 0, 3, 3], s, 5.0) for s in range(5)]
    stream = b"junk" + frame_all(pks) + b"tail"
    batches = Deframer().feed_batch(stream, final=True)
    dec = make_batch_decoder(DICTIONARY)
    seqs = np.concatenate([dec.decode_at(b.buffer, b.offsets, b.lengths)[0x022]["seq"] for b in batches])
    assert seqs.tolist() == list(range(5))


def test_byte_string_and_signed_fields_decode_in_batch_and_in_ccsdspy(tmp_path):
    """Field kinds the flight dictionary does not use yet (Bytes(n), Int16sb, Int64sb) decode alike."""
    import construct as cs

    from protocol.export import ccsdspy_packet
    from protocol.model import Field, TelemetryPacket
    from protocol.registry import Dictionary

    d = Dictionary()
    p = d.add_telemetry(TelemetryPacket("Z", 0x27, (
        Field("blob", cs.Bytes(5)), Field("s16", cs.Int16sb), Field("s64", cs.Int64sb), Field("f8", cs.Float64b))))
    codec = Codec(d)
    rows = [{"blob": bytes([i, 1, 2, 3, 4]), "s16": -i, "s64": -(1 << 40) * i, "f8": i / 3} for i in range(20)]
    raw = [codec.encode_tm("Z", r, i, CucTime(i, 0)) for i, r in enumerate(rows)]
    arr = make_batch_decoder(d).decode(b"".join(raw))[0][0x27]
    path = tmp_path / "z.bin"
    path.write_bytes(b"".join(raw))
    theirs = ccsdspy_packet(p).load(str(path))
    for i, r in enumerate(rows):
        assert codec.decode(raw[i]).values == r
        assert bytes(arr["blob"][i]) == r["blob"] and arr["s16"][i] == r["s16"] and arr["s64"][i] == r["s64"]
        assert arr["f8"][i] == r["f8"]
        assert bytes(np.asarray(theirs["blob"][i], dtype=np.uint8)) == r["blob"]
        assert (theirs["s16"][i], theirs["s64"][i], theirs["f8"][i]) == (r["s16"], r["s64"], r["f8"])


def test_decoded_arrays_are_never_recycled_while_held_and_are_once_dropped():
    import gc

    dec = make_batch_decoder(DICTIONARY)
    first = b"".join(CODEC.encode_tm("COMMAND_ACK", [1, s, 1, 0], s, 1.0) for s in range(1000))
    second = b"".join(CODEC.encode_tm("COMMAND_ACK", [2, 7, 3, 0], s, 1.0) for s in range(1000))
    def address(a):
        return a.__array_interface__["data"][0]

    kept = dec.decode(first)[0][0x023]
    seen = {address(kept)}
    view = kept[10:20]
    del kept
    for _ in range(3):
        again = dec.decode(second)[0][0x023]
        assert again["cmd_seq"].tolist() == [7] * 1000
        assert address(again) != address(view) - 10 * view.itemsize  # still held: never lent again
        seen.add(address(again))
    assert view["cmd_seq"].tolist() == list(range(10, 20))  # the held view is untouched
    del view, again
    gc.collect()
    reused = dec.decode(second)[0][0x023]
    assert address(reused) in seen  # dropped memory comes back, already paged in
