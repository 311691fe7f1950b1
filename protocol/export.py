"""Exports derived from the dictionary: JSON (for tools and other ground systems) and the docs page."""
from __future__ import annotations

import json
from typing import Any

from protocol.construct_defs import telemetry_length
from protocol.model import Field, TelemetryPacket
from protocol.registry import Dictionary


def _field(f: Field) -> dict[str, Any]:
    d: dict[str, Any] = {"name": f.name, "type": f.numpy_type if not f.is_variable else "bytes",
                         "size": f.size if not f.is_variable else None}
    if f.units:
        d["units"] = f.units
    if f.description:
        d["description"] = f.description
    if f.valid_range:
        d["valid_range"] = list(f.valid_range)
    if f.limits:
        d["limits"] = {k: list(v) for k, v in (("yellow", f.limits.yellow), ("red", f.limits.red)) if v}
    if f.states:
        d["states"] = {str(k): v for k, v in f.states.items()}
    if f.bits:
        d["bits"] = dict(f.bits)
    return d


def to_dict(d: Dictionary) -> dict[str, Any]:
    return {
        "version": d.version,
        "framing": {"sync_marker": "1ACFFC1D", "crc": "CRC-16-CCITT poly 0x1021 init 0xFFFF",
                    "time": "CUC 4+2 octets, TAI since 1958-01-01"},
        "command_apid": d.command_apid,
        "file_pdu_uplink_apid": d.file_pdu_uplink_apid,
        "telemetry": [
            {"name": p.name, "apid": p.apid, "description": p.description, "rate_hz": p.rate_hz,
             "length": None if p.is_variable else telemetry_length(p), "fields": [_field(f) for f in p.fields]}
            for p in sorted(d.telemetry.values(), key=lambda p: p.apid)
        ],
        "commands": [
            {"name": c.name, "opcode": c.opcode, "description": c.description, "hazardous": c.hazardous,
             "requires_arm": c.requires_arm, "allowed_modes": list(c.allowed_modes),
             "preconditions": list(c.preconditions), "args": [_field(a) for a in c.args]}
            for c in sorted(d.commands.values(), key=lambda c: c.opcode)
        ],
        "events": [
            {"name": e.name, "id": e.event_id, "severity": e.severity.name, "format": e.format,
             "args": list(e.args), "states": {a: {str(k): v for k, v in s.items()} for a, s in e.states.items()}}
            for e in sorted(d.events.values(), key=lambda e: e.event_id)
        ],
    }


def to_json(d: Dictionary) -> str:
    return json.dumps(to_dict(d), indent=2)


def _range(f: Field) -> str:
    parts = []
    if f.valid_range:
        parts.append(f"{f.valid_range[0]:g}..{f.valid_range[1]:g}")
    if f.states:
        parts.append(", ".join(f"{k}={v}" for k, v in f.states.items()))
    if f.bits:
        parts.append(", ".join(f"b{v}={k}" for k, v in f.bits.items()))
    return "; ".join(parts)


def to_markdown(d: Dictionary) -> str:
    """docs/dictionary.md: generated, so it cannot drift from the code (a test checks it is current)."""
    out = ["# OPALS dictionary", "",
           "Generated from `protocol/opals.py` by `opals-ground dictionary --markdown`. Do not edit.", "",
           "## Packet layout", "",
           "Every packet is a CCSDS Space Packet (133.0-B-2), big-endian:", "",
           "| part | octets | content |", "|---|---|---|",
           "| primary header | 6 | version 0, type (0 TM, 1 TC), secondary header flag, APID, "
           "sequence flags 11, 14-bit sequence count, data length - 1 |",
           "| TM secondary header | 6 | CUC time: 4 octets coarse + 2 octets fine (1/65536 s) seconds "
           "since 1958-01-01 TAI |",
           "| TC secondary header | 2 | command opcode |",
           "| fields / arguments | n | as listed below, in order |",
           "| packet error control | 2 | CRC-16-CCITT (poly 0x1021, init 0xFFFF; check value 0x29B1) "
           "over everything before it |", "",
           f"CFDP uplink PDUs travel on APID 0x{d.file_pdu_uplink_apid:03X} without a secondary header. "
           "On byte streams each packet follows the sync marker 0x1ACFFC1D; on UDP each datagram "
           "holds one packet.", "",
           "## Telemetry packets", ""]
    for p in sorted(d.telemetry.values(), key=lambda p: p.apid):
        size = "variable" if p.is_variable else f"{telemetry_length(p)} bytes"
        rate = f", {p.rate_hz:g} Hz" if p.rate_hz else ""
        out += [f"### {p.name} (APID 0x{p.apid:03X}, {size}{rate})", "", p.description, "",
                "| field | type | units | range / states | limits (yellow; red) | description |",
                "|---|---|---|---|---|---|"]
        for f in p.fields:
            lim = ""
            if f.limits:
                lim = "; ".join(f"{v[0]:g}..{v[1]:g}" if v else "-" for v in (f.limits.yellow, f.limits.red))
            typ = "bytes" if f.is_variable else f.numpy_type
            out.append(f"| {f.name} | {typ} | {f.units} | {_range(f)} | {lim} | {f.description} |")
        out.append("")
    out += ["## Commands", "", f"All commands travel on APID 0x{d.command_apid:03X}.", "",
            "| opcode | command | arguments | hazardous | requires ARM | modes | description |",
            "|---|---|---|---|---|---|---|"]
    for c in sorted(d.commands.values(), key=lambda c: c.opcode):
        args = ", ".join(f"{a.name}: {a.numpy_type}" + (f" [{_range(a)}]" if _range(a) else "")
                         + (f" {a.units}" if a.units else "") for a in c.args)
        out.append(f"| 0x{c.opcode:02X} | {c.name} | {args} | {'yes' if c.hazardous else ''} | "
                   f"{'yes' if c.requires_arm else ''} | {', '.join(c.allowed_modes) or 'any'} | {c.description} |")
    out += ["", "## Events", "", "| id | event | severity | format |", "|---|---|---|---|"]
    for e in sorted(d.events.values(), key=lambda e: e.event_id):
        out.append(f"| {e.event_id} | {e.name} | {e.severity.name} | {e.format} |")
    return "\n".join(out) + "\n"


# ccsdspy names for our numpy kinds (ccsdspy is a peer library: imported only when asked for).
_CCSDSPY_KIND = {"u": "uint", "i": "int", "f": "float"}


def ccsdspy_packet(p: TelemetryPacket):
    """A ``ccsdspy.FixedLength`` definition of a fixed-length telemetry packet, derived from the
    dictionary, so files we write are readable by that library (and checked against it in tests).

    The fields follow the primary header: CUC ``coarse``/``fine``, each dictionary field (byte
    strings as uint8 arrays), and the ``crc`` (ccsdspy does not check it).
    """
    import ccsdspy

    if p.is_variable:
        raise ValueError(f"{p.name} has a variable-length field; ccsdspy needs fixed lengths here")
    fields = [ccsdspy.PacketField("coarse", "uint", 32), ccsdspy.PacketField("fine", "uint", 16)]
    for f in p.fields:
        if f.is_bytes:
            fields.append(ccsdspy.PacketArray(name=f.name, data_type="uint", bit_length=8, array_shape=f.size))
        else:
            np_kind = f.numpy_type[0]
            fields.append(ccsdspy.PacketField(f.name, _CCSDSPY_KIND[np_kind], 8 * f.size,
                                              description=f.description or None))
    fields.append(ccsdspy.PacketField("crc", "uint", 16))
    return ccsdspy.FixedLength(fields)
