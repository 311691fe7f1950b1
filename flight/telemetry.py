"""Telemetry out: packets encoded from the dictionary, one sequence count per APID, and events.

Everything flight says to ground goes through ``TelemetrySender``, so counters, event logging
and the downlink pacing of file PDUs live in one place.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable

from protocol.codec import Codec
from protocol.opals import ACK_STAGES, REASONS
from protocol.registry import Dictionary

REASON_IDS = {v: k for k, v in REASONS.items()}
ACK_STAGE_IDS = {v: k for k, v in ACK_STAGES.items()}


@dataclass(frozen=True, slots=True)
class EventRecord:
    tai: float
    event_id: int
    name: str
    args: tuple[int, ...]


@dataclass
class TelemetrySender:
    codec: Codec
    send: Callable[[bytes], Any]
    clock: Callable[[], float]
    pdu_per_cycle: int = 4                       # FILE_PDU pacing so housekeeping is never starved
    event_sinks: list[Callable[[EventRecord], None]] = field(default_factory=list)
    sent: dict[str, int] = field(default_factory=dict)
    _seq: dict[int, int] = field(default_factory=dict)
    _pdu_queue: deque[bytes] = field(default_factory=deque)

    @property
    def dictionary(self) -> Dictionary:
        return self.codec.dictionary

    def packet(self, name: str, values: dict[str, Any]) -> None:
        apid = self.dictionary.telemetry[name].apid
        seq = self._seq.get(apid, 0)
        self._seq[apid] = (seq + 1) & 0x3FFF
        self.send(self.codec.encode_tm(name, values, seq, self.clock()))
        self.sent[name] = self.sent.get(name, 0) + 1

    def event(self, name: str, *args: int) -> None:
        ev = self.dictionary.events[name]
        vals = [int(a) for a in args] + [0] * (4 - len(args))
        vals = [max(-(1 << 31), min((1 << 31) - 1, v)) for v in vals]
        self.packet("EVENT", {"event_id": ev.event_id, "severity": int(ev.severity),
                              "arg0": vals[0], "arg1": vals[1], "arg2": vals[2], "arg3": vals[3]})
        rec = EventRecord(self.clock(), ev.event_id, name, tuple(vals))
        for sink in self.event_sinks:
            sink(rec)

    def ack(self, opcode: int, cmd_seq: int, stage: str, reason: str = "OK") -> None:
        self.packet("COMMAND_ACK", {"opcode": opcode & 0xFFFF, "cmd_seq": cmd_seq & 0xFFFF,
                                    "stage": ACK_STAGE_IDS[stage], "reason": REASON_IDS[reason]})

    # ------------------------------------------------------------------ file PDUs (paced)
    def queue_pdu(self, pdu: bytes) -> None:
        self._pdu_queue.append(bytes(pdu))

    def flush_pdus(self) -> None:
        for _ in range(min(self.pdu_per_cycle, len(self._pdu_queue))):
            self.packet("FILE_PDU", {"pdu": self._pdu_queue.popleft()})

    @property
    def pdus_waiting(self) -> int:
        return len(self._pdu_queue)
