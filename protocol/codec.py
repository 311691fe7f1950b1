"""Fast per-packet encoder/decoder, derived from the dictionary (struct layouts + native CRC).

Construct (``construct_defs``) is the declarative source; this is the hot path, proven
byte-identical to it by property tests. Decoding never raises anything but ``PacketError``,
whose ``reason`` is a name from the dictionary's reason codes, so callers can count it.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any, Iterable

from protocol.ccsds import CRC_LEN, PACKET_TYPE_TC, PRIMARY_HEADER_LEN, primary_words
from protocol.crc import crc16
from protocol.model import Command, TelemetryPacket
from protocol.registry import Dictionary
from protocol.time_codes import CucTime

_HDR = struct.Struct(">HHH")
_CRC = struct.Struct(">H")
_SEC_HDR = 1 << 11


class PacketError(ValueError):
    """A packet that cannot be accepted; ``reason`` is a reason-code name (e.g. BAD_CRC)."""

    def __init__(self, reason: str, message: str, apid: int | None = None, opcode: int | None = None):
        super().__init__(message)
        self.reason = reason
        self.apid = apid
        self.opcode = opcode


@dataclass(frozen=True, slots=True)
class TmPacket:
    name: str
    apid: int
    seq: int
    coarse: int
    fine: int
    values: dict[str, Any]
    raw: bytes

    @property
    def tai(self) -> float:
        return self.coarse + self.fine / 65536.0


@dataclass(frozen=True, slots=True)
class TcPacket:
    name: str
    apid: int
    seq: int
    opcode: int
    args: dict[str, Any]
    raw: bytes


@dataclass(frozen=True, slots=True)
class FilePduUplink:
    apid: int
    seq: int
    pdu: bytes
    raw: bytes


class _TmLayout:
    def __init__(self, p: TelemetryPacket):
        self.packet = p
        self.names = tuple(f.name for f in p.fields if not f.is_variable)
        self.variable = next((f.name for f in p.fields if f.is_variable), None)
        fmt = "".join(f.fmt for f in p.fields if not f.is_variable)
        self.body = struct.Struct(">HHHIH" + fmt)
        self.fixed_len = self.body.size + CRC_LEN


class _TcLayout:
    def __init__(self, c: Command, apid: int):
        self.command = c
        self.apid = apid
        self.names = tuple(a.name for a in c.args)
        self.body = struct.Struct(">HHHH" + "".join(a.fmt for a in c.args))
        self.length = self.body.size + CRC_LEN


class Codec:
    def __init__(self, dictionary: Dictionary):
        self.dictionary = dictionary
        self._tm = {p.apid: _TmLayout(p) for p in dictionary.telemetry.values()}
        self._tm_by_name = {l.packet.name: l for l in self._tm.values()}
        self._tc = {c.opcode: _TcLayout(c, dictionary.command_apid) for c in dictionary.commands.values()}
        self._tc_by_name = {l.command.name: l for l in self._tc.values()}

    # ------------------------------------------------------------------ encode
    def encode_tm(self, name: str, values: dict[str, Any] | Iterable[Any], seq: int, time: CucTime | float) -> bytes:
        lay = self._tm_by_name[name]
        t = time if isinstance(time, CucTime) else CucTime.from_tai(time)
        if isinstance(values, dict):
            fixed = [values[n] for n in lay.names]
            tail = bytes(values[lay.variable]) if lay.variable else b""
        else:
            fixed, tail = list(values), b""
        total = lay.fixed_len + len(tail)
        w0, w1, w2 = primary_words(0, lay.packet.apid, seq, total)
        body = lay.body.pack(w0, w1, w2, t.coarse, t.fine, *fixed) + tail
        return body + _CRC.pack(crc16(body))

    def encode_cmd(self, name: str, args: dict[str, Any] | None = None, seq: int = 0, validate: bool = True) -> bytes:
        """Validates against the dictionary first: a command that would be rejected is never sent."""
        lay = self._tc_by_name.get(name)
        if lay is None:
            raise PacketError("UNKNOWN_OPCODE", f"unknown command {name!r}")
        args = dict(args or {})
        if validate:
            errors = lay.command.validate(args)
            if errors:
                raise PacketError("ARG_OUT_OF_RANGE", "; ".join(errors), opcode=lay.command.opcode)
        raw = [a.raw(args[a.name]) for a in lay.command.args]
        w0, w1, w2 = primary_words(PACKET_TYPE_TC, lay.apid, seq, lay.length)
        body = lay.body.pack(w0, w1, w2, lay.command.opcode, *raw)
        return body + _CRC.pack(crc16(body))

    def encode_file_uplink(self, pdu: bytes, seq: int) -> bytes:
        total = PRIMARY_HEADER_LEN + len(pdu) + CRC_LEN
        w0, w1, w2 = primary_words(PACKET_TYPE_TC, self.dictionary.file_pdu_uplink_apid, seq, total)
        w0 &= ~(1 << 11)  # no secondary header: the PDU carries its own
        body = _HDR.pack(w0, w1, w2) + bytes(pdu)
        return body + _CRC.pack(crc16(body))

    # ------------------------------------------------------------------ decode
    @staticmethod
    def check_frame(data: bytes) -> tuple[int, int, int]:
        """Validate header, length and CRC; returns (type, apid, seq)."""
        if len(data) < PRIMARY_HEADER_LEN + CRC_LEN:
            raise PacketError("BAD_LENGTH", f"{len(data)} bytes is shorter than a packet")
        w0, w1, w2 = _HDR.unpack_from(data)
        apid = w0 & 0x7FF
        if w0 >> 13:
            raise PacketError("BAD_HEADER", f"packet version {w0 >> 13} is not 0", apid=apid)
        if w2 + 7 != len(data):
            raise PacketError("BAD_LENGTH", f"header says {w2 + 7} bytes, got {len(data)}", apid=apid)
        if crc16(memoryview(data)[:-2]) != _CRC.unpack_from(data, len(data) - 2)[0]:
            raise PacketError("BAD_CRC", "packet error control (CRC) mismatch", apid=apid)
        return (w0 >> 12) & 1, apid, w1 & 0x3FFF

    def decode(self, data: bytes) -> TmPacket | TcPacket | FilePduUplink:
        ptype, apid, _ = self.check_frame(data)
        if ptype == PACKET_TYPE_TC:
            return self.decode_tc(data, checked=True)
        return self.decode_tm(data, checked=True)

    def decode_tm(self, data: bytes, checked: bool = False) -> TmPacket:
        if not checked:
            self.check_frame(data)
        data = bytes(data)
        apid = ((data[0] & 0x07) << 8) | data[1]
        lay = self._tm.get(apid)
        if lay is None:
            raise PacketError("BAD_HEADER", f"unknown telemetry APID {apid:#x}", apid=apid)
        if (lay.variable and len(data) < lay.fixed_len) or (not lay.variable and len(data) != lay.fixed_len):
            raise PacketError("BAD_LENGTH", f"{lay.packet.name}: {len(data)} bytes, expected {lay.fixed_len}", apid=apid)
        vals = lay.body.unpack_from(data)
        if not vals[0] & _SEC_HDR:
            raise PacketError("BAD_HEADER", f"{lay.packet.name}: no secondary header (time code)", apid=apid)
        values = dict(zip(lay.names, vals[5:]))
        if lay.variable:
            values[lay.variable] = data[lay.body.size:-CRC_LEN]
        return TmPacket(lay.packet.name, apid, vals[1] & 0x3FFF, vals[3], vals[4], values, data)

    def decode_tc(self, data: bytes, checked: bool = False) -> TcPacket | FilePduUplink:
        if not checked:
            self.check_frame(data)
        data = bytes(data)
        w0, w1, _ = _HDR.unpack_from(data)
        apid, seq = w0 & 0x7FF, w1 & 0x3FFF
        if apid == self.dictionary.file_pdu_uplink_apid:
            return FilePduUplink(apid, seq, data[PRIMARY_HEADER_LEN:-CRC_LEN], data)
        if apid != self.dictionary.command_apid:
            raise PacketError("BAD_HEADER", f"APID {apid:#x} takes no commands", apid=apid)
        if len(data) < PRIMARY_HEADER_LEN + 2 + CRC_LEN:
            raise PacketError("BAD_LENGTH", "command packet without an opcode", apid=apid)
        if not w0 & _SEC_HDR:
            raise PacketError("BAD_HEADER", "command packet without its secondary header flag", apid=apid)
        opcode = struct.unpack_from(">H", data, PRIMARY_HEADER_LEN)[0]
        lay = self._tc.get(opcode)
        if lay is None:
            raise PacketError("UNKNOWN_OPCODE", f"unknown opcode {opcode:#x}", apid=apid, opcode=opcode)
        if len(data) != lay.length:
            raise PacketError("BAD_LENGTH", f"{lay.command.name}: {len(data)} bytes, expected {lay.length}",
                              apid=apid, opcode=opcode)
        vals = lay.body.unpack_from(data)
        args = dict(zip(lay.names, vals[4:]))
        errors = lay.command.validate(args)
        if errors:
            raise PacketError("ARG_OUT_OF_RANGE", "; ".join(errors), apid=apid, opcode=opcode)
        return TcPacket(lay.command.name, apid, seq, opcode, args, data)

    def tm_length(self, name: str) -> int:
        return self._tm_by_name[name].fixed_len


def make_codec() -> Codec:
    from protocol.opals import DICTIONARY
    return Codec(DICTIONARY)
