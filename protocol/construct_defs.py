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
        cs.Terminated,  # the header's length is the datagram's length: nothing may follow
    )


def _header_check(ptype: int, apid: int, fixed_len: int, variable: bool) -> cs.Check:
    """What the fast codec checks of the primary header, said declaratively."""
    def ok(ctx) -> bool:
        h = ctx.primary
        total = h.data_length + 1 + PRIMARY_HEADER_LEN
        return (h.type == ptype and h.apid == apid and h.sec_hdr_flag == 1
                and (total >= fixed_len if variable else total == fixed_len))
    return cs.Check(ok)


COMMAND_APID = 0x010  # the dictionary's default command APID
_TM_CACHE: dict[int, cs.Struct] = {}
_TC_CACHE: dict[tuple[int, int], cs.Struct] = {}


def telemetry_struct(p: TelemetryPacket) -> cs.Struct:
    if id(p) not in _TM_CACHE:
        _TM_CACHE[id(p)] = _telemetry_struct(p)
    return _TM_CACHE[id(p)]


def _telemetry_struct(p: TelemetryPacket) -> cs.Struct:
    fields = []
    fixed = sum(f.size for f in p.fields if not f.is_variable)
    for f in p.fields:
        if f.is_variable:  # the last field (the registry insists): whatever the length leaves
            fields.append(f.name / cs.Bytes(cs.this._.primary.data_length + 1 - 6 - fixed - CRC_LEN))
        elif f.states:
            fields.append(f.name / cs.Enum(f.type, **{v: k for k, v in f.states.items()}))
        else:
            fields.append(f.construct())
    return _with_crc(cs.Struct("primary" / PrimaryHeader,
                               _header_check(0, p.apid, telemetry_length(p), p.is_variable),
                               "secondary" / CUC, "data" / cs.Struct(*fields)))


def command_struct(c: Command, apid: int = COMMAND_APID) -> cs.Struct:
    key = (id(c), apid)
    if key not in _TC_CACHE:
        _TC_CACHE[key] = _command_struct(c, apid)
    return _TC_CACHE[key]


def _arg_check(a) -> cs.Check:
    return cs.Check(lambda ctx: a.check(ctx[a.name]) is None)


def _command_struct(c: Command, apid: int) -> cs.Struct:
    args = []
    for a in c.args:
        args.append(a.name / cs.Enum(a.type, **{v: k for k, v in a.states.items()}) if a.states else a.construct())
        args.append(_arg_check(a))  # a flight receiver refuses what the dictionary forbids
    return _with_crc(cs.Struct("primary" / PrimaryHeader, _header_check(1, apid, command_length(c), False),
                               "opcode" / cs.Const(c.opcode, cs.Int16ub), "data" / cs.Struct(*args)))


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


def command_length(c: Command) -> int:
    return PRIMARY_HEADER_LEN + 2 + sum(a.size for a in c.args) + CRC_LEN


def build_command(c: Command, apid: int, seq: int, args: dict[str, Any]) -> bytes:
    return command_struct(c, apid).build(dict(packet=dict(value=dict(
        primary=_primary(1, apid, seq, command_length(c)), data=args))))


def parse_telemetry(p: TelemetryPacket, data: bytes) -> cs.Container:
    return telemetry_struct(p).parse(data)


def parse_command(c: Command, data: bytes, apid: int = COMMAND_APID) -> cs.Container:
    return command_struct(c, apid).parse(data)
