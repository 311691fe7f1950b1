"""The day-in-the-life command sequence of one pass, with absolute times (TAI seconds since 1958).

HEALTH_CHECK well before rise; CLEAR_PREDICTS; LOAD_PREDICT rows (gimbal az/el of the station,
every second over the feasible window plus a margin); SLEW to the first predict; START_PASS
before the feasible start; LASER_ARM + LASER_FIRE once tracking should be locked; END_PASS at
the feasible end; STOW; FILE_DOWNLINK_ALL (CFDP class 2); GO_IDLE. Hazardous commands are
flagged from the dictionary so a script must confirm them before they are sent.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from protocol.geometry import Orbit, Pass, Window, look_angles
from protocol.opals import AZ_RANGE_DEG, DICTIONARY, EL_RANGE_DEG
from protocol.registry import Dictionary
from ground.passes import iso_utc, pass_to_dict

MAX_PREDICT_ROWS = 4096  # LOAD_PREDICT index is 0..4095


class PlanError(ValueError):
    """The pass cannot be planned (no feasible window, or the timeline does not fit)."""


@dataclass(frozen=True)
class TimedCommand:
    """One command of a plan; ``hazardous`` ones (laser) need an explicit confirmation to send."""

    tai: float
    name: str
    args: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    hazardous: bool = False

    def to_dict(self, dictionary: Dictionary = DICTIONARY) -> dict[str, Any]:
        d = asdict(self)
        d["utc"] = iso_utc(self.tai)
        d["opcode"] = dictionary.commands[self.name].opcode
        d["requires_confirmation"] = self.hazardous
        return d


@dataclass(frozen=True)
class PlanTiming:
    """Offsets of the plan (s). Defaults follow REFERENCE.md: acquisition <= 3 s, so ARM at +5 s."""

    health_check_before_rise_s: float = 600.0
    health_check_duration_s: float = 60.0  # homing the gimbal, switch tests: then CLEAR_PREDICTS
    command_spacing_s: float = 0.1  # between consecutive uplinked LOAD_PREDICT commands
    predict_step_s: float = 1.0
    predict_margin_s: float = 30.0
    slew_before_feasible_s: float = 90.0
    start_pass_before_feasible_s: float = 30.0
    lock_expected_after_s: float = 5.0
    arm_window_s: float = 10.0
    fire_after_arm_s: float = 1.0
    stow_after_end_s: float = 5.0
    downlink_after_end_s: float = 30.0
    idle_after_end_s: float = 900.0
    slew_margin_deg: float = 0.5  # SLEW target kept this far inside the software limits


def plan_window(p: Pass) -> Window:
    """The feasible window the plan transmits in: the longest one (a split pass gets one link)."""
    if not p.feasible:
        raise PlanError("the pass has no feasible window (ISS north, inside the field of regard, above the minimum)")
    return max(p.feasible, key=lambda w: w.duration)


def predict_rows(orbit: Orbit, p: Pass, timing: PlanTiming = PlanTiming(),
                 dut1_s: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(tai, az, el) every ``predict_step_s`` over the plan window plus the margin, inside the pass."""
    w = plan_window(p)
    start = max(w.start_tai - timing.predict_margin_s, p.rise_tai)
    stop = min(w.stop_tai + timing.predict_margin_s, p.set_tai)
    tai = start + timing.predict_step_s * np.arange(int(np.floor((stop - start) / timing.predict_step_s)) + 1)
    if len(tai) > MAX_PREDICT_ROWS:
        raise PlanError(f"{len(tai)} predict rows exceed the table ({MAX_PREDICT_ROWS})")
    la = look_angles(orbit, p.station, tai, dut1_s)
    return tai, la.az, la.el


def plan_pass(orbit: Orbit, p: Pass, timing: PlanTiming = PlanTiming(),
              dictionary: Dictionary = DICTIONARY, dut1_s: float | None = None) -> list[TimedCommand]:
    """The command sequence of pass ``p``, sorted by time; every command passes Command.validate."""
    w = plan_window(p)
    hazardous = {name for name, c in dictionary.commands.items() if c.hazardous}

    def cmd(tai: float, name: str, args: dict[str, Any] | None = None, note: str = "") -> TimedCommand:
        return TimedCommand(float(tai), name, args or {}, note, name in hazardous)

    t_hc = p.rise_tai - timing.health_check_before_rise_s
    t_clear = t_hc + timing.health_check_duration_s
    plan = [cmd(t_hc, "HEALTH_CHECK", note="temperatures, gimbal home, limit switches, laser off"),
            cmd(t_clear, "CLEAR_PREDICTS", note="forget the previous predict table")]
    tai, az, el = predict_rows(orbit, p, timing, dut1_s)
    for i, (t, a, e) in enumerate(zip(tai, az, el)):
        plan.append(cmd(t_clear + (i + 1) * timing.command_spacing_s, "LOAD_PREDICT",
                        {"index": i, "tai": float(t), "az": round(float(a), 4), "el": round(float(e), 4)},
                        f"predict row {i} for {iso_utc(float(t))}"))
    t_slew = w.start_tai - timing.slew_before_feasible_s
    if t_slew <= plan[-1].tai:
        raise PlanError("the predict upload does not finish before the slew: start earlier")
    slew_az = float(np.clip(az[0], AZ_RANGE_DEG[0] + timing.slew_margin_deg, AZ_RANGE_DEG[1] - timing.slew_margin_deg))
    slew_el = float(np.clip(el[0], EL_RANGE_DEG[0] + timing.slew_margin_deg, EL_RANGE_DEG[1] - timing.slew_margin_deg))
    clamped = (round(slew_az, 4), round(slew_el, 4)) != (round(float(az[0]), 4), round(float(el[0]), 4))
    plan.append(cmd(t_slew, "SLEW", {"az": round(slew_az, 4), "el": round(slew_el, 4)},
                    "to the first predict" + (" (clamped inside the software limits)" if clamped else "")))
    plan.append(cmd(w.start_tai - timing.start_pass_before_feasible_s, "START_PASS",
                    note="open-loop along the predicts, acquire and track the beacon"))
    t_arm = w.start_tai + timing.lock_expected_after_s
    if t_arm + timing.fire_after_arm_s >= w.stop_tai:
        raise PlanError("the feasible window is too short to arm and fire")
    plan.append(cmd(t_arm, "LASER_ARM", {"window": timing.arm_window_s},
                    "HAZARDOUS: confirm; tracking expected locked"))
    plan.append(cmd(t_arm + timing.fire_after_arm_s, "LASER_FIRE", note="HAZARDOUS: confirm; downlink starts"))
    plan.append(cmd(w.stop_tai, "END_PASS", note="feasible window ends: laser safe, stop tracking"))
    plan.append(cmd(w.stop_tai + timing.stow_after_end_s, "STOW"))
    plan.append(cmd(w.stop_tai + timing.downlink_after_end_s, "FILE_DOWNLINK_ALL", {"cfdp_class": 2},
                    "tracking logs and camera frames, CFDP class 2 (acknowledged)"))
    plan.append(cmd(w.stop_tai + timing.idle_after_end_s, "GO_IDLE"))
    errors = validate_plan(plan, dictionary)
    if errors:
        raise PlanError("; ".join(errors))
    return plan


def validate_plan(plan: list[TimedCommand], dictionary: Dictionary = DICTIONARY) -> list[str]:
    """Every problem with a plan: unknown commands, bad arguments (Command.validate), time order."""
    errors = []
    for c in plan:
        command = dictionary.commands.get(c.name)
        if command is None:
            errors.append(f"unknown command {c.name!r}")
            continue
        errors.extend(command.validate(c.args))
        if c.hazardous != command.hazardous:
            errors.append(f"{c.name}: hazardous flag {c.hazardous} disagrees with the dictionary")
    errors.extend(f"{b.name} at {b.tai:.3f} precedes {a.name} at {a.tai:.3f}"
                  for a, b in zip(plan, plan[1:]) if b.tai < a.tai)
    return errors


def plan_to_json(plan: list[TimedCommand], p: Pass | None = None, number: int = 1,
                 dictionary: Dictionary = DICTIONARY) -> str:
    """{"pass": ..., "commands": [...]}: every LOAD_PREDICT row, times as TAI and UTC."""
    doc: dict[str, Any] = {"commands": [c.to_dict(dictionary) for c in plan]}
    if p is not None:
        doc = {"pass": pass_to_dict(p, number), **doc}
    return json.dumps(doc, indent=2)


def plan_from_json(text: str, dictionary: Dictionary = DICTIONARY) -> list[TimedCommand]:
    """Read back a plan written by :func:`plan_to_json` (e.g. by an operations script), validated:
    the hazardous flags come from the dictionary, never from the file."""
    try:
        doc = json.loads(text)
        rows = doc["commands"]
        plan = [TimedCommand(float(r["tai"]), str(r["name"]), dict(r.get("args", {})), str(r.get("note", "")),
                             bool(getattr(dictionary.commands.get(str(r["name"])), "hazardous", False)))
                for r in rows]
    except (ValueError, KeyError, TypeError) as exc:
        raise PlanError(f"not a pass plan: {exc}") from exc
    errors = validate_plan(plan, dictionary)
    if errors:
        raise PlanError("; ".join(errors))
    return plan


def _relative(t: float, ref: float) -> str:
    d = t - ref
    sign = "-" if d < 0 else "+"
    d = abs(d)
    return f"T{sign}{int(d // 3600):02d}:{int(d % 3600 // 60):02d}:{d % 60:06.3f}"


def format_plan_table(plan: list[TimedCommand], feasible_start_tai: float) -> str:
    """Human-readable plan; consecutive LOAD_PREDICT rows collapse into one line (JSON has them all)."""
    head = f"{'UTC':<24} {'T rel. feasible start':<22} {'command':<18} {'args':<34} note"
    lines = [head, "-" * (len(head) + 20)]
    i = 0
    while i < len(plan):
        c = plan[i]
        if c.name == "LOAD_PREDICT":
            j = i
            while j + 1 < len(plan) and plan[j + 1].name == "LOAD_PREDICT":
                j += 1
            rows = plan[i:j + 1]
            az = [r.args["az"] for r in rows]
            el = [r.args["el"] for r in rows]
            args = f"{len(rows)} rows, az {min(az):.1f}..{max(az):.1f}, el {min(el):.1f}..{max(el):.1f}"
            note = f"predicts {iso_utc(rows[0].args['tai'])} .. {iso_utc(rows[-1].args['tai'])}"
            i = j + 1
        else:
            args = " ".join(f"{k}={v}" for k, v in c.args.items())
            note = c.note
            i += 1
        flag = "CONFIRM " if c.hazardous else ""
        lines.append(f"{iso_utc(c.tai):<24} {_relative(c.tai, feasible_start_tai):<22} {flag + c.name:<18} "
                     f"{args:<34} {note}".rstrip())
    return "\n".join(lines)
