"""Link health an operator can act on: packets/s and bytes/s per APID, CRC failures, sequence
gaps, decode errors, and whether the payload is still answering (link up/down)."""
from __future__ import annotations

import collections
from dataclasses import dataclass, field
from typing import Callable


@dataclass
class ApidRate:
    apid: int
    packets: int
    bytes: int
    packets_per_s: float
    bytes_per_s: float
    gaps: int


@dataclass
class HealthReport:
    up: bool
    silent_for: float
    packets: int
    bytes: int
    crc_failures: int
    seq_gaps: int
    rejected: int
    decode_errors: int
    bytes_discarded: int
    per_apid: list[ApidRate] = field(default_factory=list)


class LinkHealth:
    """Counts what the ground received and derives rates over a sliding window."""

    def __init__(self, clock: Callable[[], float], window: float = 5.0, silence_timeout: float = 5.0):
        self.clock = clock
        self.window = window
        self.silence_timeout = silence_timeout
        self.packets: dict[int, int] = collections.Counter()
        self.bytes: dict[int, int] = collections.Counter()
        self.gaps: dict[int, int] = collections.Counter()
        self.decode_errors = 0
        self.last_rx: float | None = None
        self._last_seq: dict[int, int] = {}
        self._snaps: collections.deque = collections.deque()
        self.transitions: list[tuple[float, bool]] = []
        self._was_up = False

    def count(self, apid: int, seq: int, nbytes: int) -> None:
        self.packets[apid] += 1
        self.bytes[apid] += nbytes
        last = self._last_seq.get(apid)
        if last is not None:
            if seq == last:          # a repeated packet (e.g. a duplicated datagram) is not 16383 lost ones
                return
            self.gaps[apid] += (seq - last - 1) & 0x3FFF
        self._last_seq[apid] = seq
        self.last_rx = self.clock()

    def is_up(self) -> bool:
        up = self.last_rx is not None and self.clock() - self.last_rx < self.silence_timeout
        if up != self._was_up:
            self.transitions.append((self.clock(), up))
            self._was_up = up
        return up

    def sample(self) -> None:
        """Take a counter snapshot (call about once a second) for the rates."""
        now = self.clock()
        self._snaps.append((now, dict(self.packets), dict(self.bytes)))
        while len(self._snaps) > 2 and now - self._snaps[0][0] > self.window:
            self._snaps.popleft()

    def report(self, link_stats=None) -> HealthReport:
        now = self.clock()
        self.sample()
        t0, p0, b0 = self._snaps[0]
        dt_ = max(now - t0, 1e-9)
        rates = [ApidRate(a, self.packets[a], self.bytes[a],
                          (self.packets[a] - p0.get(a, 0)) / dt_ if now > t0 else 0.0,
                          (self.bytes[a] - b0.get(a, 0)) / dt_ if now > t0 else 0.0,
                          self.gaps[a]) for a in sorted(self.packets)]
        ls = link_stats
        return HealthReport(
            up=self.is_up(),
            silent_for=(now - self.last_rx) if self.last_rx is not None else float("inf"),
            packets=sum(self.packets.values()), bytes=sum(self.bytes.values()),
            crc_failures=getattr(ls, "crc_failures", 0), seq_gaps=sum(self.gaps.values()),
            rejected=getattr(ls, "rejected_bad", 0) + getattr(ls, "rejected_foreign", 0),
            decode_errors=self.decode_errors, bytes_discarded=getattr(ls, "bytes_discarded", 0),
            per_apid=rates)
