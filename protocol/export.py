"""Exports derived from the dictionary: JSON (for tools and other ground systems) and the docs page."""
from __future__ import annotations

import json
from typing import Any

from protocol.construct_defs import telemetry_length
from protocol.model import Field
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
