"""The fast codec and the Construct reference produce and accept exactly the same bytes, for
every telemetry packet and every command in the dictionary (strategies derived from it)."""
from __future__ import annotations

import construct as cs
import pytest
from hypothesis import given, settings, strategies as st

from dictionary_strategies import (command_args, coarse_times, fine_times, same_values, seq_counts,
                                   telemetry_values)
from protocol import construct_defs as ref
from protocol.codec import Codec, PacketError, TcPacket, TmPacket
from protocol.crc import crc16_reference
from protocol.opals import DICTIONARY
from protocol.time_codes import CucTime

CODEC = Codec(DICTIONARY)
TM = sorted(DICTIONARY.telemetry)
TC = sorted(DICTIONARY.commands)
CMD_APID = DICTIONARY.command_apid


def _fields(container: cs.Container) -> dict:
    return {k: v for k, v in container.items() if not k.startswith("_")}


def _construct_tm(name: str, data: bytes) -> dict | None:
    try:
        parsed = ref.parse_telemetry(DICTIONARY.telemetry[name], data)
    except cs.ConstructError:
        return None
    v = parsed.packet.value
    return {"seq": v.primary.seq_count, "coarse": v.secondary.coarse, "fine": v.secondary.fine, **_fields(v.data)}


def _codec_tm(name: str, data: bytes) -> dict | None:
    try:
        pkt = CODEC.decode(data)
    except PacketError:
        return None
    if not isinstance(pkt, TmPacket) or pkt.name != name:
        return None
    return {"seq": pkt.seq, "coarse": pkt.coarse, "fine": pkt.fine, **pkt.values}


def _construct_tc(name: str, data: bytes) -> dict | None:
    try:
        parsed = ref.parse_command(DICTIONARY.commands[name], data, CMD_APID)
    except cs.ConstructError:
        return None
    v = parsed.packet.value
    return {"seq": v.primary.seq_count, **_fields(v.data)}


def _codec_tc(name: str, data: bytes) -> dict | None:
    try:
        pkt = CODEC.decode(data)
    except PacketError:
        return None
    if not isinstance(pkt, TcPacket) or pkt.name != name:
        return None
    return {"seq": pkt.seq, **pkt.args}


def test_every_dictionary_entry_is_covered():
    assert len(TM) == len(DICTIONARY.telemetry) >= 7 and len(TC) == len(DICTIONARY.commands) >= 20


@pytest.mark.parametrize("name", TM)
@settings(max_examples=40, deadline=None)
@given(data=st.data(), seq=seq_counts, coarse=coarse_times, fine=fine_times)
def test_telemetry_same_bytes_both_directions(name, data, seq, coarse, fine):
    p = DICTIONARY.telemetry[name]
    values = data.draw(telemetry_values(p))
    fast = CODEC.encode_tm(name, values, seq, CucTime(coarse, fine))
    slow = ref.build_telemetry(p, seq, coarse, fine, values)
    assert fast == slow
    expected = {"seq": seq, "coarse": coarse, "fine": fine, **values}
    assert same_values(_codec_tm(name, slow), expected)      # built by Construct, parsed by the codec
    assert same_values(_construct_tm(name, fast), expected)  # built by the codec, parsed by Construct


@pytest.mark.parametrize("name", TC)
@settings(max_examples=25, deadline=None)
@given(data=st.data(), seq=seq_counts)
def test_command_same_bytes_both_directions(name, data, seq):
    c = DICTIONARY.commands[name]
    args = data.draw(command_args(c))
    fast = CODEC.encode_cmd(name, args, seq=seq)
    slow = ref.build_command(c, CMD_APID, seq, args)
    assert fast == slow
    expected = {"seq": seq, **args}
    assert same_values(_codec_tc(name, slow), expected)
    assert same_values(_construct_tc(name, fast), expected)


def _mutations(valid: bytes) -> st.SearchStrategy[bytes]:
    """Bit flips, truncation, extension, and header edits with the CRC made good again (so the
    header and length checks are exercised, not only the CRC)."""
    n = len(valid)
    flips = st.lists(st.integers(0, n * 8 - 1), min_size=1, max_size=3)

    def flip(bits: list[int], fix_crc: bool) -> bytes:
        b = bytearray(valid)
        for i in bits:
            b[i // 8] ^= 0x80 >> (i % 8)
        if fix_crc:
            b[-2:] = crc16_reference(b[:-2]).to_bytes(2, "big")
        return bytes(b)

    def resize(k: int, extra: bytes, fix: bool) -> bytes:
        b = bytearray(valid[:-2][:k] + extra)
        if fix:
            b[4:6] = (len(b) + 2 - 7).to_bytes(2, "big")
        return bytes(b) + crc16_reference(b).to_bytes(2, "big")

    return st.one_of(
        st.builds(flip, flips, st.booleans()),
        st.builds(resize, st.integers(6, n - 2), st.binary(max_size=8), st.booleans()),
        st.binary(max_size=n + 4),
    )


@pytest.mark.parametrize("name", TM)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_telemetry_accepts_exactly_what_construct_accepts(name, data):
    p = DICTIONARY.telemetry[name]
    valid = CODEC.encode_tm(name, data.draw(telemetry_values(p)), data.draw(seq_counts), CucTime(7, 9))
    candidate = data.draw(_mutations(valid))
    fast, slow = _codec_tm(name, candidate), _construct_tm(name, candidate)
    assert (fast is None) == (slow is None)
    if fast is not None:
        assert same_values(fast, slow)


@pytest.mark.parametrize("name", TC)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_command_accepts_exactly_what_construct_accepts(name, data):
    c = DICTIONARY.commands[name]
    valid = CODEC.encode_cmd(name, data.draw(command_args(c)), seq=data.draw(seq_counts))
    candidate = data.draw(_mutations(valid))
    fast, slow = _codec_tc(name, candidate), _construct_tc(name, candidate)
    assert (fast is None) == (slow is None)
    if fast is not None:
        assert same_values(fast, slow)


@settings(deadline=None)  # a loaded CI machine must not turn slowness into failure
@given(st.binary(max_size=80), st.sampled_from([0x08, 0x18, 0x00, 0x10]), st.integers(0, 0x7FF))
def test_decode_of_anything_raises_only_packet_error(tail, first, apid):
    # Arbitrary bytes, and arbitrary bodies behind a plausible header with a good CRC.
    body = bytes([first | (apid >> 8), apid & 0xFF, 0xC0, 0]) + (len(tail) + 1).to_bytes(2, "big") + tail
    for data in (tail, body + crc16_reference(body).to_bytes(2, "big")):
        try:
            CODEC.decode(data)
        except PacketError as exc:
            assert exc.reason in {"BAD_LENGTH", "BAD_HEADER", "BAD_CRC", "UNKNOWN_OPCODE", "ARG_OUT_OF_RANGE"}


def test_decode_raises_only_packet_error_with_a_reason():
    for junk in (b"", b"\x00" * 7, b"\xff" * 48, CODEC.encode_cmd("NOOP")[:-1] + b"\x00"):
        with pytest.raises(PacketError) as info:
            CODEC.decode(junk)
        assert info.value.reason in {"BAD_LENGTH", "BAD_HEADER", "BAD_CRC"}


def test_encode_cmd_refuses_what_flight_would_reject():
    with pytest.raises(PacketError) as info:
        CODEC.encode_cmd("SLEW", {"az": 120.0, "el": 5.0})
    assert info.value.reason == "ARG_OUT_OF_RANGE" and "az" in str(info.value)
    with pytest.raises(PacketError) as info:
        CODEC.encode_cmd("NO_SUCH_COMMAND")
    assert info.value.reason == "UNKNOWN_OPCODE"


@settings(max_examples=30, deadline=None)
@given(a=st.integers(0, 0xFFFF), tail=st.binary(max_size=100))
def test_variable_packet_with_fixed_fields_agrees(a, tail):
    """FILE_PDU has only its PDU; a variable packet with fixed fields before the tail works too."""
    from construct import Int16ub

    from protocol.model import Field, TelemetryPacket, bytes_field
    from protocol.registry import Dictionary

    d = Dictionary()
    p = d.add_telemetry(TelemetryPacket("X", 0x30, (Field("a", Int16ub), bytes_field("tail"))))
    raw = Codec(d).encode_tm("X", {"a": a, "tail": tail}, 1, CucTime(2, 3))
    assert raw == ref.build_telemetry(p, 1, 2, 3, {"a": a, "tail": tail})
    assert same_values(_fields(ref.parse_telemetry(p, raw).packet.value.data), Codec(d).decode(raw).values)
    with pytest.raises(ValueError):
        d.add_telemetry(TelemetryPacket("Y", 0x31, (bytes_field("tail"), Field("a", Int16ub))))
