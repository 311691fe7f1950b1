"""The independent hazard checker: physical truth against ground intent, every step.

H1: emission that ground did not authorise: emission may start only inside the window of a
ground LASER_ARM and must stop within ``grace_s`` of a ground LASER_SAFE / END_PASS /
POWER_OFF. H2: emission while the boresight is outside the approved field of regard (the
hardstop envelope). It reads the WorldSample and the ground's uplink, never flight's beliefs.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from protocol.codec import Codec, PacketError, TcPacket
from sim.gimbal import HARDSTOP_AZ, HARDSTOP_EL
from sim.world import WorldSample

REVOKING = frozenset({"LASER_SAFE", "END_PASS", "POWER_OFF"})


@dataclass(frozen=True)
class Violation:
    tai: float
    hazard: str          # "H1" or "H2"
    detail: str


@dataclass
class HazardChecker:
    codec: Codec
    grace_s: float = 0.025
    arms: list[tuple[float, float]] = field(default_factory=list)
    revokes: list[float] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    emitting_steps: int = 0
    steps: int = 0
    _emitting: bool = False
    _auth_from: float | None = None
    _episode_flagged: bool = False

    # ------------------------------------------------------------------ ground intent
    def note_uplink(self, now: float, raw: bytes) -> None:
        """A packet the ground sent (time-tagged commands count at their execution time)."""
        try:
            pkt = self.codec.decode(raw)
        except PacketError:
            return
        if not isinstance(pkt, TcPacket):
            return
        if pkt.name == "TIMETAG":
            from flight.sequence import embedded_packet
            try:
                inner = self.codec.decode(embedded_packet(self.codec, pkt.args["opcode"], pkt.args["args"]))
            except PacketError:
                return
            self.note_command(max(now, pkt.args["tai"]), inner)
        else:
            self.note_command(now, pkt)

    def note_command(self, t: float, tc: TcPacket) -> None:
        if tc.name == "LASER_ARM":
            self.arms.append((t, float(tc.args["window"])))
        elif tc.name in REVOKING:
            self.revokes.append(t)

    def _authorised_at(self, t: float) -> float | None:
        g = self.grace_s
        for t_a, w in reversed(self.arms):
            if t_a - g <= t <= t_a + w + g and not any(t_a < r <= t - g for r in self.revokes):
                return t_a
        return None

    # ------------------------------------------------------------------ physical truth
    def observe(self, s: WorldSample) -> None:
        self.steps += 1
        if not s.laser_emitting:
            self._emitting = False
            return
        self.emitting_steps += 1
        t = s.tai
        if not self._emitting:
            self._emitting = True
            self._episode_flagged = False
            self._auth_from = self._authorised_at(t)
            if self._auth_from is None:
                self._flag(t, "H1", "emission started outside any ground ARM window")
        elif self._auth_from is not None and any(self._auth_from < r < t - self.grace_s for r in self.revokes):
            self._flag(t, "H1", "emission continued after ground revoked it")
        if not (HARDSTOP_AZ[0] - 1e-9 <= s.gimbal_az_deg <= HARDSTOP_AZ[1] + 1e-9
                and HARDSTOP_EL[0] - 1e-9 <= s.gimbal_el_deg <= HARDSTOP_EL[1] + 1e-9):
            self._flag(t, "H2", f"emission at az {s.gimbal_az_deg:.3f} el {s.gimbal_el_deg:.3f} deg")

    def _flag(self, t: float, hazard: str, detail: str) -> None:
        if self._episode_flagged and self.violations and self.violations[-1].hazard == hazard:
            return
        self._episode_flagged = True
        self.violations.append(Violation(t, hazard, detail))

    def count(self, hazard: str) -> int:
        return sum(1 for v in self.violations if v.hazard == hazard)
