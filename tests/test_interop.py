"""Interop with real peer libraries: our packets parse identically with ``spacepackets`` (header
fields, and the CRC by spacepackets' own CRC) and with ``ccsdspy`` (a FixedLength definition
generated from our dictionary decodes a file we wrote, field for field)."""
from __future__ import annotations

import ccsdspy  # noqa: F401  (a peer library under test, not a mock)
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from spacepackets.ccsds.spacepacket import PacketType, SequenceFlags, SpacePacketHeader
from spacepackets.ecss import check_pus_crc

from dictionary_strategies import command_args, same_value, seq_counts, telemetry_values
from protocol.codec import Codec
from protocol.export import ccsdspy_packet
from protocol.opals import DICTIONARY
from protocol.time_codes import CucTime

CODEC = Codec(DICTIONARY)
FIXED = sorted(p.name for p in DICTIONARY.telemetry.values() if not p.is_variable)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_spacepackets_reads_our_telemetry_headers_and_crc(data):
    name = data.draw(st.sampled_from(sorted(DICTIONARY.telemetry)))
    p = DICTIONARY.telemetry[name]
    seq = data.draw(seq_counts)
    raw = CODEC.encode_tm(name, data.draw(telemetry_values(p)), seq, CucTime(5, 6))
    h = SpacePacketHeader.unpack(raw)
    assert (h.packet_type, h.apid, h.seq_count, h.sec_header_flag, h.seq_flags, h.ccsds_version) == (
        PacketType.TM, p.apid, seq, True, SequenceFlags.UNSEGMENTED, 0)
    assert h.packet_len == len(raw)
    assert check_pus_crc(raw)
    assert not check_pus_crc(raw[:-1] + bytes([raw[-1] ^ 1]))
    # And the other way: the header spacepackets builds is the one we build.
    assert SpacePacketHeader.tm(p.apid, seq, len(raw) - 7, sec_header_flag=True).pack() == raw[:6]


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_spacepackets_reads_our_commands_and_file_uplink(data):
    name = data.draw(st.sampled_from(sorted(DICTIONARY.commands)))
    seq = data.draw(seq_counts)
    raw = CODEC.encode_cmd(name, data.draw(command_args(DICTIONARY.commands[name])), seq=seq)
    h = SpacePacketHeader.unpack(raw)
    assert (h.packet_type, h.apid, h.seq_count, h.sec_header_flag) == (PacketType.TC, DICTIONARY.command_apid, seq, True)
    assert h.packet_len == len(raw) and check_pus_crc(raw)
    pdu = data.draw(st.binary(min_size=1, max_size=100))
    up = CODEC.encode_file_uplink(pdu, seq)
    h = SpacePacketHeader.unpack(up)
    assert (h.packet_type, h.apid, h.sec_header_flag, h.packet_len) == (
        PacketType.TC, DICTIONARY.file_pdu_uplink_apid, False, len(up))
    assert check_pus_crc(up) and up[6:-2] == pdu


@pytest.mark.parametrize("name", FIXED)
@settings(max_examples=5, deadline=None)
@given(data=st.data())
def test_ccsdspy_decodes_a_file_we_wrote_field_for_field(name, data, tmp_path_factory):
    p = DICTIONARY.telemetry[name]
    rows = data.draw(st.lists(telemetry_values(p), min_size=1, max_size=30))
    tmp_path = tmp_path_factory.mktemp("ccsdspy")
    packets = [CODEC.encode_tm(name, v, i, CucTime(1_000_000 + i, 7 * i)) for i, v in enumerate(rows)]
    path = tmp_path / f"{name}.bin"
    path.write_bytes(b"".join(packets))
    got = ccsdspy_packet(p).load(str(path), include_primary_header=True)
    assert list(got["CCSDS_APID"]) == [p.apid] * len(rows)
    assert list(got["CCSDS_SEQUENCE_COUNT"]) == list(range(len(rows)))
    assert list(got["coarse"]) == [1_000_000 + i for i in range(len(rows))]
    assert list(got["fine"]) == [7 * i for i in range(len(rows))]
    assert list(got["crc"]) == [int.from_bytes(pk[-2:], "big") for pk in packets]
    for f in p.fields:
        for i, row in enumerate(rows):
            theirs = got[f.name][i]
            theirs = bytes(np.asarray(theirs, dtype=np.uint8)) if f.is_bytes else theirs.item()
            assert same_value(theirs, CODEC.decode(packets[i]).values[f.name]), (f.name, i)
            assert same_value(theirs, row[f.name]), (f.name, i)
