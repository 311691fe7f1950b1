"""The timed command plan of one pass, derived from the pass geometry.

This is what ground uploads as TIMETAG commands (ground computes it from the TLE with its own
planner); the simulator builds the same plan itself for standalone runs and tests."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from flight.pointing import SOFT_AZ_DEG, SOFT_EL_DEG
from sim.pass_geometry import PassGeometry


@dataclass(frozen=True)
class PlanItem:
    tai: float
    name: str
    args: dict[str, Any]


@dataclass(frozen=True)
class PassTimes:
    start: float
    predicts_from: float
    pass_start: float
    arm: float
    fire: float
    end: float


def link_window(geometry: PassGeometry, margin_deg: float = 1.5, step_s: float = 0.5) -> tuple[float, float]:
    """First and last time the link is possible: beacon up (elevation threshold), payload north
    of the station, station inside the software pointing limits less ``margin_deg``."""
    def ok(t: float) -> bool:
        lk = geometry.look(t)
        return (lk.north and lk.elevation_deg >= getattr(geometry, "threshold_elev_deg", 25.0) - 1e-6
                and SOFT_AZ_DEG[0] + margin_deg <= lk.az <= SOFT_AZ_DEG[1] - margin_deg
                and SOFT_EL_DEG[0] + margin_deg <= lk.el <= SOFT_EL_DEG[1] - margin_deg)
    t = geometry.rise_tai
    stop = geometry.set_tai
    while t <= stop and not ok(t):
        t += step_s
    first = t
    while t <= stop and ok(t):
        t += step_s
    return first, max(first, t - step_s)


def plan_pass(geometry: PassGeometry, start_tai: float, stow: tuple[float, float] = (0.0, 10.0),
              predict_step_s: float = 1.0, slew_dps: float = 1.5, arm_after_rise_s: float = 4.0,
              arm_window_s: float = 10.0, end_az_margin_deg: float = 1.5,
              transmit_s: float | None = None, downlink_class: int | None = None) -> tuple[list[PlanItem], PassTimes]:
    rise, end = link_window(geometry, end_az_margin_deg)
    predicts_from = rise - 5.0
    end -= 1.0
    if transmit_s is not None:
        end = min(end, rise + arm_after_rise_s + 1.0 + transmit_s)
    first = geometry.look(predicts_from)
    slew_s = max(abs(first.az - stow[0]), abs(first.el - stow[1])) / slew_dps + 5.0
    pass_start = max(start_tai + 4.0, predicts_from - slew_s)
    items: list[PlanItem] = [PlanItem(start_tai + 1.05, "CLEAR_PREDICTS", {})]
    n = int(math.ceil((end + 3.0 - predicts_from) / predict_step_s)) + 1
    for i in range(n):
        t = predicts_from + i * predict_step_s
        lk = geometry.look(t)
        items.append(PlanItem(start_tai + 1.1, "LOAD_PREDICT", {"index": i, "tai": t, "az": lk.az, "el": lk.el}))
    items += [
        PlanItem(start_tai + 1.5, "HEALTH_CHECK", {}),
        PlanItem(pass_start, "START_PASS", {}),
        PlanItem(rise + arm_after_rise_s, "LASER_ARM", {"window": arm_window_s}),
        PlanItem(rise + arm_after_rise_s + 1.0, "LASER_FIRE", {}),
        PlanItem(end, "END_PASS", {}),
        PlanItem(end + 5.0, "FILE_LIST", {}),
    ]
    if downlink_class:
        items.append(PlanItem(end + 6.0, "FILE_DOWNLINK_ALL", {"cfdp_class": downlink_class}))
    times = PassTimes(start_tai, predicts_from, pass_start, rise + arm_after_rise_s,
                      rise + arm_after_rise_s + 1.0, end)
    return items, times


def timetag_packets(codec, items: list[PlanItem], first_seq: int = 0) -> list[bytes]:
    """The plan as TIMETAG command packets, ready for the uplink."""
    from flight.sequence import embed
    out = []
    for k, it in enumerate(items):
        opcode, args = embed(codec, it.name, it.args)
        out.append(codec.encode_cmd("TIMETAG", {"tai": it.tai, "opcode": opcode, "args": args},
                                    seq=(first_seq + k) & 0x3FFF))
    return out
