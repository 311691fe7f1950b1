"""Onboard time-tagged command sequence: the pass plan, run at its TAI times whatever the link
latency. An embedded command is validated against the dictionary when uploaded and again when
it runs (the mode may have changed, the dictionary check is cheap)."""
from __future__ import annotations

import heapq
import struct
from dataclasses import dataclass, field

from protocol.ccsds import PACKET_TYPE_TC, primary_words
from protocol.codec import Codec, PacketError, TcPacket
from protocol.crc import crc16
from protocol.opals import TIMETAG_ARGS_LEN


def embedded_packet(codec: Codec, opcode: int, args: bytes, seq: int = 0) -> bytes:
    """Rebuild the command packet a TIMETAG carries (its args are the command's wire bytes)."""
    cmd = codec.dictionary.command_by_opcode(opcode)
    n = sum(a.size for a in cmd.args) if cmd is not None else 0
    payload = struct.pack(">H", opcode) + bytes(args[:n])
    total = 6 + len(payload) + 2
    w0, w1, w2 = primary_words(PACKET_TYPE_TC, codec.dictionary.command_apid, seq, total)
    body = struct.pack(">HHH", w0, w1, w2) + payload
    return body + struct.pack(">H", crc16(body))


def embed(codec: Codec, name: str, args: dict | None = None) -> tuple[int, bytes]:
    """(opcode, args bytes) to put in a TIMETAG, for ground tools and tests."""
    pkt = codec.encode_cmd(name, args or {})
    return struct.unpack_from(">H", pkt, 6)[0], pkt[8:-2].ljust(TIMETAG_ARGS_LEN, b"\0")


@dataclass(order=True)
class _Entry:
    tai: float
    order: int
    opcode: int = field(compare=False)
    args: bytes = field(compare=False)
    seq: int = field(compare=False)


@dataclass
class CommandSequence:
    codec: Codec
    capacity: int = 1024
    _heap: list[_Entry] = field(default_factory=list)
    _order: int = 0

    def __len__(self) -> int:
        return len(self._heap)

    def validate(self, opcode: int, args: bytes, seq: int = 0) -> TcPacket:
        """Raises PacketError(reason) when the embedded command is not acceptable."""
        cmd = self.codec.dictionary.command_by_opcode(opcode)
        if cmd is None:
            raise PacketError("UNKNOWN_OPCODE", f"unknown opcode {opcode:#x}", opcode=opcode)
        if cmd.name in ("TIMETAG", "SEQ_CLEAR"):
            raise PacketError("ARG_OUT_OF_RANGE", f"{cmd.name} cannot be time-tagged", opcode=opcode)
        tc = self.codec.decode(embedded_packet(self.codec, opcode, args, seq))
        if not isinstance(tc, TcPacket):
            raise PacketError("BAD_HEADER", "not a command", opcode=opcode)
        return tc

    def store(self, tai: float, opcode: int, args: bytes, seq: int) -> None:
        self.validate(opcode, args, seq)
        if len(self._heap) >= self.capacity:
            raise PacketError("BUSY", "sequence full", opcode=opcode)
        self._order += 1
        heapq.heappush(self._heap, _Entry(tai, self._order, opcode, bytes(args), seq))

    def clear(self) -> int:
        n = len(self._heap)
        self._heap.clear()
        return n

    def due(self, now: float) -> list[tuple[float, int, bytes, int]]:
        """Pop every entry whose time has come, oldest first: (tai, opcode, args, seq)."""
        out = []
        while self._heap and self._heap[0].tai <= now:
            e = heapq.heappop(self._heap)
            out.append((e.tai, e.opcode, e.args, e.seq))
        return out
