"""Decommutation from the dictionary: raw packet values -> engineering values an operator reads.

Enumerated fields become state names, status words are expanded into one boolean per named
bit (``status_word.relay_a_closed``), and EVENT packets are rendered with the event's format.
Nothing here knows a packet by hand: all of it comes from ``protocol.opals``.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from protocol.codec import TmPacket
from protocol.model import Severity, TelemetryPacket
from protocol.registry import Dictionary
from protocol.time_codes import tai_to_datetime


@dataclass(frozen=True)
class Sample:
    """One decommutated packet: raw values, engineering values and the time it was sampled."""

    packet: str
    apid: int
    seq: int
    tai: float
    raw: dict[str, Any]
    values: dict[str, Any]

    @property
    def time(self) -> dt.datetime:
        return tai_to_datetime(self.tai)


@dataclass(frozen=True)
class RenderedEvent:
    name: str
    event_id: int
    severity: Severity
    text: str
    args: dict[str, int]
    tai: float
    seq: int


def engineering(p: TelemetryPacket, raw: dict[str, Any]) -> dict[str, Any]:
    """Engineering values of one packet's raw values (enum names, expanded status bits)."""
    out: dict[str, Any] = {}
    for f in p.fields:
        if f.name not in raw:
            continue
        v = raw[f.name]
        if f.states is not None:
            out[f.name] = f.states.get(int(v), f"UNKNOWN({int(v)})")
        else:
            out[f.name] = v
        if f.bits:
            for bit_name, bit in f.bits.items():
                out[f"{f.name}.{bit_name}"] = bool((int(v) >> bit) & 1)
    return out


class Decom:
    def __init__(self, dictionary: Dictionary):
        self.dictionary = dictionary

    def sample(self, pkt: TmPacket) -> Sample:
        p = self.dictionary.telemetry[pkt.name]
        return Sample(pkt.name, pkt.apid, pkt.seq, pkt.tai, dict(pkt.values), engineering(p, pkt.values))

    def event(self, pkt: TmPacket) -> RenderedEvent:
        """An EVENT packet as an operator reads it; unknown ids are rendered, never dropped."""
        v = pkt.values
        e = self.dictionary.event_by_id(int(v["event_id"]))
        raw_args = [int(v[f"arg{i}"]) for i in range(4)]
        if e is None:
            return RenderedEvent(f"UNKNOWN_EVENT_{v['event_id']}", int(v["event_id"]),
                                 _severity(v["severity"]), f"unknown event {v['event_id']} args {raw_args}",
                                 {f"arg{i}": a for i, a in enumerate(raw_args)}, pkt.tai, pkt.seq)
        args = dict(zip(e.args, raw_args))
        shown = {k: e.states.get(k, {}).get(a, a) for k, a in args.items()}
        try:
            text = e.format.format(**shown)
        except (KeyError, IndexError, ValueError):
            text = f"{e.format} {shown}"
        return RenderedEvent(e.name, e.event_id, e.severity, text, args, pkt.tai, pkt.seq)


def _severity(v: int) -> Severity:
    try:
        return Severity(int(v))
    except ValueError:
        return Severity.WARNING_HI
