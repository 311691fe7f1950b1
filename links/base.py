"""What every link offers: send a packet, receive the packets that arrived, and count everything."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol


@dataclass
class LinkStats:
    packets_in: int = 0
    packets_out: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    rejected_foreign: int = 0   # datagrams from a sender that is not the configured peer
    rejected_bad: int = 0       # datagrams that are not a valid packet (length, CRC)
    bytes_discarded: int = 0    # stream bytes outside any valid frame
    crc_failures: int = 0
    seq_gaps: int = 0
    send_errors: int = 0
    recv_errors: int = 0
    reconnects: int = 0
    open_failures: int = 0      # attempts to open a device that was not there
    up: bool = True
    last_rx: float = 0.0        # monotonic time of the last good packet
    per_apid: dict[int, dict[str, int]] = field(default_factory=dict)

    def count_in(self, apid: int, n: int, gap: int = 0) -> None:
        """One good packet of ``n`` bytes on ``apid``, ``gap`` packets after the previous one."""
        self.packets_in += 1
        self.bytes_in += n
        self.seq_gaps += gap
        self.last_rx = time.monotonic()
        d = self.per_apid.setdefault(apid, {"packets": 0, "bytes": 0, "gaps": 0})
        d["packets"] += 1
        d["bytes"] += n
        d["gaps"] += gap


class Link(Protocol):
    def send(self, packet: bytes) -> bool: ...

    def recv(self, timeout: float = 0.0) -> list[bytes]: ...

    def stats(self) -> LinkStats: ...

    def close(self) -> None: ...


class SequenceTracker:
    """Counts missing packets per APID from the 14-bit sequence count (UDP has no deframer).

    Same rule as the C deframer: a jump of half the count range or more is a repeated or
    late packet, not 16k lost ones."""

    def __init__(self) -> None:
        self._last: dict[int, int] = {}

    def gap(self, apid: int, seq: int) -> int:
        last = self._last.get(apid)
        self._last[apid] = seq
        if last is None:
            return 0
        gap = (seq - last - 1) & 0x3FFF
        return gap if gap < 0x2000 else 0
