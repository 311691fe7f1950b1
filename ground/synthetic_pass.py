"""Synthetic telemetry of one pass, encoded with the dictionary's codec.

For the archive's crash and query tests, the ingest benchmark and the report's tests: ground
code must be exercised without the simulator (which lives in another process and branch).
The values are plausible (gimbal sweeping the field of regard, lock, a fire window) but are
not a model of anything.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator

from protocol.codec import Codec
from protocol.opals import SAFETY_BITS

LOCKED, EMITTING, ARMED, STANDBY = 3, 3, 2, 1


@dataclass
class PassShape:
    start_tai: float = 2_100_000_000.0
    duration: float = 300.0
    lock_at: float = 60.0
    arm_at: float = 80.0
    fire_at: float = 82.0
    safe_at: float = 230.0
    lose_lock_at: float = 240.0


def _bits(*names: str) -> int:
    return sum(1 << SAFETY_BITS[n] for n in names)


def pass_packets(codec: Codec, shape: PassShape = PassShape(), tracking_hz: float = 10.0,
                 seq_start: dict[str, int] | None = None) -> Iterator[bytes]:
    """Packets in time order: TRACKING at ``tracking_hz``, HOUSEKEEPING and SAFETY at 1 Hz, events."""
    seqs = dict(seq_start or {})

    def seq(name: str) -> int:
        s = seqs.get(name, 0)
        seqs[name] = (s + 1) & 0x3FFF
        return s

    n = int(shape.duration * tracking_hz)
    for i in range(n):
        t = i / tracking_hz
        tai = shape.start_tai + t
        locked = shape.lock_at <= t < shape.lose_lock_at
        emitting = shape.fire_at <= t < shape.safe_at
        armed = shape.arm_at <= t < shape.fire_at
        frac = t / shape.duration
        az = -30.0 + 100.0 * frac
        el = 5.0 + 30.0 * math.sin(math.pi * frac)
        err = 40.0 + 20.0 * math.sin(t) if locked else 2000.0
        yield codec.encode_tm("TRACKING", {
            "track_state": LOCKED if locked else 1, "window": 2 if locked else 1,
            "az_cmd": az, "el_cmd": el, "az": az + 0.001, "el": el - 0.001,
            "err_x": err * 0.6, "err_y": err * 0.8, "err_total": err, "beacon_signal": 900.0 if locked else 0.0,
            "frame_count": i}, seq("TRACKING"), tai)
        if i % int(tracking_hz) == 0:
            laser = EMITTING if emitting else ARMED if armed else STANDBY
            yield codec.encode_tm("HOUSEKEEPING", {
                "mode": 7 if emitting else 6 if locked else 4, "laser_state": laser, "cmd_accepted": 5,
                "cmd_rejected": 0, "temp_laser": 25.0 + 5 * frac, "temp_gimbal": 20.0, "temp_electronics": 30.0,
                "bus_voltage": 28.0, "bus_current": 2.0, "laser_current": 3.0 if emitting else 0.0,
                "uptime": int(t)}, seq("HOUSEKEEPING"), tai)
            word = _bits("hw_interlock_ok", "watchdog_ok", "sw_pointing_ok")
            if locked:
                word |= _bits("track_locked")
            if armed or emitting:
                word |= _bits("sw_armed")
            if emitting:
                word |= _bits("relay_a_closed", "relay_b_closed", "sw_fire_enabled", "laser_emitting",
                              "relay_commanded")
            yield codec.encode_tm("SAFETY", {
                "status_word": word, "laser_state": laser, "last_safing": 0, "arm_remaining": 0.0,
                "safing_count": 0, "h1_inhibits": 0 if emitting else 3, "h2_inhibits": 3}, seq("SAFETY"), tai)
        for at, event_id, args in ((shape.lock_at, 8, (1200, 0, 0, 0)), (shape.arm_at, 10, (20000, 0, 0, 0)),
                                   (shape.fire_at, 11, (0, 0, 0, 0)), (shape.safe_at, 12, (1, 0, 0, 0))):
            if abs(t - at) < 0.5 / tracking_hz:
                yield codec.encode_tm("EVENT", {"event_id": event_id, "severity": 2, "arg0": args[0],
                                                "arg1": args[1], "arg2": args[2], "arg3": args[3]}, seq("EVENT"), tai)
