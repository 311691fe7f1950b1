"""One pass, operated end to end from the ground: plan from the TLE, upload the timed sequence,
follow the pass, collect the downlinked files, and summarise what the archive holds.

Used by ``make demo`` (scripts/demo.py) and by the end-to-end test. The payload is another
process (``opals-sim run`` or real hardware) reached only through the session's link.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ground.pass_plan import PlanTiming, TimedCommand, plan_pass
from ground.passes import PassQuery, feasible_passes, iso_utc, nearest_orbit
from ground.session import CommandResult, Session
from protocol.geometry import Pass

# A compressed day in the life: the same order as operations, less waiting between steps.
DEMO_TIMING = PlanTiming(health_check_before_rise_s=200.0, health_check_duration_s=40.0,
                         slew_before_feasible_s=60.0, start_pass_before_feasible_s=30.0,
                         downlink_after_end_s=120.0, idle_after_end_s=200.0)
MIN_ELEVATION_DEG = 25.0   # the simulator's pass threshold (REFERENCE.md: acquisition at 25 deg)


@dataclass
class PlannedPass:
    number: int
    pass_: Pass
    plan: list[TimedCommand]

    @property
    def start_tai(self) -> float:
        return self.plan[0].tai

    @property
    def end_tai(self) -> float:
        return self.plan[-1].tai

    @property
    def name(self) -> str:
        return "pass-" + iso_utc(self.pass_.rise_tai)[:19].replace(":", "").replace("-", "")


def plan_next_pass(after_tai: float, timing: PlanTiming = DEMO_TIMING, days: float = 3.0,
                   tle_path: str | None = None, min_feasible_s: float = 0.0) -> PlannedPass:
    """The first feasible pass whose whole plan starts after ``after_tai`` and whose feasible
    time is at least ``min_feasible_s`` (OPALS needed ~150 s for a full transmission)."""
    orbit = nearest_orbit(after_tai, tle_path)
    passes = feasible_passes(orbit, PassQuery(after_tai, days=days, min_elevation_deg=MIN_ELEVATION_DEG))
    for i, p in enumerate(passes, 1):
        # The plan ends with GO_IDLE: a no-op that completes if flight is already back in IDLE
        # after the downlink, and ends the downlink mode otherwise.
        if p.feasible_duration < min_feasible_s:
            continue
        plan = plan_pass(orbit, p, timing)
        if plan[0].tai > after_tai:
            return PlannedPass(i, p, plan)
    raise RuntimeError(f"no feasible pass in {days} days after {iso_utc(after_tai)}")


@dataclass
class PassProgress:
    payload_tai: float = 0.0
    fraction: float = 0.0
    events: int = 0
    files: int = 0
    stage: str = "upload"


@dataclass
class PassOutcome:
    uploaded: list[CommandResult] = field(default_factory=list)
    executed: list[str] = field(default_factory=list)        # SEQ_EXECUTED opcodes as command names
    rejected: list[str] = field(default_factory=list)        # SEQ_REJECTED / CMD_REJECTED texts
    files_expected: int = 0
    files_done: int = 0
    payload_finished: bool = False


def operate_pass(session: Session, planned: PlannedPass, payload_alive: Callable[[], bool],
                 progress: Callable[[PassProgress], None] = lambda p: None, files_timeout: float = 60.0,
                 poll: float = 0.2) -> PassOutcome:
    """Upload the plan (hazardous steps confirmed by name), then follow the pass until the payload
    process ends and every file it announced has arrived (or ``files_timeout`` passes)."""
    out = PassOutcome()
    st = PassProgress()
    progress(st)
    session.wait_for_payload()
    out.uploaded = session.upload_sequence(planned.plan, confirm=("LASER_ARM", "LASER_FIRE"), pipelined=True,
                                           timeout=30.0, pace=0.0005)
    st.stage = "pass"
    span = max(planned.end_tai - planned.start_tai, 1.0)
    while payload_alive():
        time.sleep(poll)
        st.payload_tai = session.newest_tai
        st.fraction = min(1.0, max(0.0, (session.newest_tai - planned.start_tai) / span))
        st.events = session.event_count()
        st.files = len(session.files.received) if session.files else 0
        progress(st)
    out.payload_finished = True
    st.stage = "files"
    deadline = time.monotonic() + files_timeout
    while time.monotonic() < deadline:
        started = sum(1 for e in session.events if e.name == "DOWNLINK_STARTED")
        received = len(session.files.received) if session.files else 0
        busy = session.files.busy if session.files else False
        if received >= started and not busy:
            break
        time.sleep(poll)
    session.flush()
    opnames = {c.opcode: c.name for c in session.dictionary.commands.values()}
    for e in session.events:
        if e.name == "SEQ_EXECUTED":
            out.executed.append(opnames.get(e.args.get("opcode", -1), str(e.args.get("opcode"))))
        elif e.name in ("SEQ_REJECTED", "CMD_REJECTED"):
            out.rejected.append(e.text)
    out.files_expected = sum(1 for e in session.events if e.name == "DOWNLINK_STARTED")
    out.files_done = sum(1 for f in (session.files.received if session.files else []) if f.ok)
    st.stage, st.fraction = "done", 1.0
    progress(st)
    return out


@dataclass
class OpticalOutcome:
    """The ground's decode of the optical receiver's recording, checked against the source file."""

    report: dict                    # ground.optical.decoder.DecodeReport.to_dict()
    recording_bytes: int
    segments: int = 0               # distinct file segments recovered from good frames
    segments_matching: int = 0      # of those, byte-identical to the source at their offset
    bytes_checked: int = 0
    file_complete: bool = False
    file_equal: bool | None = None  # the whole file recovered and equal to the source (None: incomplete)
    decode_cpu_s: float = 0.0

    @property
    def all_good_frames_match(self) -> bool:
        return self.segments > 0 and self.segments_matching == self.segments


def decode_optical_recording(recording: Path, source: Path | None = None) -> OpticalOutcome:
    """Decode the receiver's bit stream with the ground decoder and compare every recovered
    segment with the source file (the ground's reference copy of what the payload loops)."""
    from ground.optical.decoder import decode_stream

    cpu0 = time.process_time()
    with open(recording, "rb") as f:
        dec = decode_stream(f)
    out = OpticalOutcome(dec.report.to_dict(), recording.stat().st_size,
                         decode_cpu_s=round(time.process_time() - cpu0, 3))
    out.file_complete = dec.report.file_complete
    if source is None or not source.exists():
        return out
    src = source.read_bytes()
    got = dec.file.content()
    segs = dec.file.stored()
    out.segments = len(segs)
    if dec.file.file_size != len(src):
        return out    # a different file altogether: nothing matches
    for off, n in segs:
        out.bytes_checked += n
        out.segments_matching += got[off:off + n] == src[off:off + n]
    if out.file_complete:
        out.file_equal = got == src
    return out
