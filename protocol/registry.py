"""Lookup over the dictionary: by APID, by name, by opcode, by event id."""
from __future__ import annotations

from dataclasses import dataclass, field

from protocol.model import Command, Event, TelemetryPacket


@dataclass
class Dictionary:
    telemetry: dict[str, TelemetryPacket] = field(default_factory=dict)
    commands: dict[str, Command] = field(default_factory=dict)
    events: dict[str, Event] = field(default_factory=dict)
    command_apid: int = 0x010
    file_pdu_uplink_apid: int = 0x011
    version: str = "1"

    def __post_init__(self) -> None:
        self._by_apid: dict[int, TelemetryPacket] = {}
        self._by_opcode: dict[int, Command] = {}
        self._by_event_id: dict[int, Event] = {}

    def add_telemetry(self, p: TelemetryPacket) -> TelemetryPacket:
        if p.name in self.telemetry or p.apid in self._by_apid:
            raise ValueError(f"telemetry packet {p.name} / APID {p.apid:#x} defined twice")
        if p.apid in (self.command_apid, self.file_pdu_uplink_apid) or not 0 <= p.apid < 0x7FF:
            raise ValueError(f"APID {p.apid:#x} is reserved")
        names = [f.name for f in p.fields]
        if len(set(names)) != len(names):
            raise ValueError(f"{p.name}: duplicate field names")
        if any(f.is_variable for f in p.fields[:-1]):
            raise ValueError(f"{p.name}: only the last field may be variable-length")
        self.telemetry[p.name] = p
        self._by_apid[p.apid] = p
        return p

    def add_command(self, c: Command) -> Command:
        if c.name in self.commands or c.opcode in self._by_opcode:
            raise ValueError(f"command {c.name} / opcode {c.opcode:#x} defined twice")
        if any(a.is_variable for a in c.args):
            raise ValueError(f"{c.name}: command arguments must be fixed size")
        self.commands[c.name] = c
        self._by_opcode[c.opcode] = c
        return c

    def add_event(self, e: Event) -> Event:
        if e.name in self.events or e.event_id in self._by_event_id:
            raise ValueError(f"event {e.name} / id {e.event_id} defined twice")
        if len(e.args) > 4:
            raise ValueError(f"{e.name}: at most four arguments")
        self.events[e.name] = e
        self._by_event_id[e.event_id] = e
        return e

    def packet_by_apid(self, apid: int) -> TelemetryPacket | None:
        return self._by_apid.get(apid)

    def command_by_opcode(self, opcode: int) -> Command | None:
        return self._by_opcode.get(opcode)

    def event_by_id(self, event_id: int) -> Event | None:
        return self._by_event_id.get(event_id)

    @property
    def apids(self) -> list[int]:
        return sorted(self._by_apid)
