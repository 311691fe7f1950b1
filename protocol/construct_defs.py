"""Full-packet Construct definitions, built from the dictionary: the declarative reference.

Not the hot path (Construct parses ~12k packets/s); ``codec`` is, and property tests prove the
two produce and accept exactly the same bytes for every packet and command.
"""
from __future__ import annotations

from typing import Any

import construct as cs

from protocol.ccsds import CRC_LEN, PRIMARY_HEADER_LEN, SEQ_UNSEGMENTED, PrimaryHeader
from protocol.crc import crc16_reference
from protocol.model import Command, TelemetryPacket
from protocol.time_codes import CUC


def _with_crc(body: cs.Construct) -> cs.Struct:
    return cs.Struct(
        "packet" / cs.RawCopy(body),
        "crc" / cs.Checksum(cs.Int16ub, lambda data: crc16_reference(data), cs.this.packet.data),
    )


_TM_CACHE: dict[int, cs.Struct] = {}
_TC_CACHE: dict[int, cs.Struct] = {}


def telemetry_struct(p: TelemetryPacket) -> cs.Struct:
    if id(p) not in _TM_CACHE:
        _TM_CACHE[id(p)] = _telemetry_struct(p)
    return _TM_CACHE[id(p)]


def _telemetry_struct(p: TelemetryPacket) -> cs.Struct:
    fields = []
    for f in p.fields:
        if f.is_variable:
            fields.append(f.name / cs.Bytes(cs.this._.primary.data_length + 1 - 6 - CRC_LEN))
        elif f.states:
            fields.append(f.name / cs.Enum(f.type, **{v: k for k, v in f.states.items()}))
        else:
            fields.append(f.construct())
    return _with_crc(cs.Struct("primary" / PrimaryHeader, "secondary" / CUC, "data" / cs.Struct(*fields)))


def command_struct(c: Command) -> cs.Struct:
    if id(c) not in _TC_CACHE:
        _TC_CACHE[id(c)] = _command_struct(c)
    return _TC_CACHE[id(c)]


def _command_struct(c: Command) -> cs.Struct:
    args = [a.name / cs.Enum(a.type, **{v: k for k, v in a.states.items()}) if a.states else a.construct()
            for a in c.args]
    return _with_crc(cs.Struct("primary" / PrimaryHeader, "opcode" / cs.Const(c.opcode, cs.Int16ub),
                               "data" / cs.Struct(*args)))


FileUplinkStruct = _with_crc(cs.Struct(
    "primary" / PrimaryHeader, "pdu" / cs.Bytes(cs.this.primary.data_length + 1 - CRC_LEN)))


def _primary(ptype: int, apid: int, seq: int, total_len: int, sec_hdr: int = 1) -> dict[str, int]:
    return dict(type=ptype, sec_hdr_flag=sec_hdr, apid=apid, seq_flags=SEQ_UNSEGMENTED, seq_count=seq,
                data_length=total_len - PRIMARY_HEADER_LEN - 1)


def telemetry_length(p: TelemetryPacket, variable_len: int = 0) -> int:
    return PRIMARY_HEADER_LEN + 6 + sum(f.size for f in p.fields) + variable_len + CRC_LEN


def build_telemetry(p: TelemetryPacket, seq: int, coarse: int, fine: int, values: dict[str, Any]) -> bytes:
    var = sum(len(values[f.name]) for f in p.fields if f.is_variable)
    return telemetry_struct(p).build(dict(packet=dict(value=dict(
        primary=_primary(0, p.apid, seq, telemetry_length(p, var)),
        secondary=dict(coarse=coarse, fine=fine), data=values))))


def build_command(c: Command, apid: int, seq: int, args: dict[str, Any]) -> bytes:
    total = PRIMARY_HEADER_LEN + 2 + sum(a.size for a in c.args) + CRC_LEN
    return command_struct(c).build(dict(packet=dict(value=dict(
        primary=_primary(1, apid, seq, total), data=args))))


def parse_telemetry(p: TelemetryPacket, data: bytes) -> cs.Container:
    return telemetry_struct(p).parse(data)


def parse_command(c: Command, data: bytes) -> cs.Container:
    return command_struct(c).parse(data)
