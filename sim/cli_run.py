"""``opals-sim run | faults | passes``: the payload simulator from the command line.

``run`` starts the flight software in the simulated world and connects it to ground through
links.open_link (UDP one packet per datagram, or a serial line). With ``--plan auto`` the
simulator uploads its own pass plan as TIMETAG commands (standalone runs); with ``--plan
ground`` (the default when a link is given) ground does. At the end it prints the tracking
performance and the hazard check, and leaves both in the flight file store (JSON) and in
telemetry (PASS_SUMMARY), which is where ground finds them.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

from protocol.time_codes import datetime_to_tai, tai_to_datetime, unix_to_tai


class Pacer:
    """Keeps simulated time at ``speed`` times wall time (None: as fast as possible); the speed
    may change on the fly, the pacing restarts from where it is."""

    def __init__(self, speed: float | None):
        self._speed = speed
        self._anchor: tuple[float, float] | None = None

    def pace(self, tai: float, speed: float | None) -> None:
        if speed != self._speed or self._anchor is None:
            self._speed, self._anchor = speed, (tai, time.monotonic())
        if speed is None:
            return
        t0, w0 = self._anchor
        ahead = (tai - t0) / speed - (time.monotonic() - w0)
        if ahead > 0:
            time.sleep(ahead)


def _parse_time(text: str | None) -> float:
    if not text or text == "now":
        return unix_to_tai(time.time())
    when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return datetime_to_tai(when)


def _parse_speed(text: str) -> float | None:
    """None for max; else the factor over real time."""
    if text == "max":
        return None
    if text == "realtime":
        return 1.0
    v = float(text)
    if v <= 0:
        raise argparse.ArgumentTypeError("speed must be positive, 'realtime' or 'max'")
    return v


def _speed_arg(text: str) -> str:
    """argparse type: a bad --speed is a usage error, not a traceback mid-run."""
    try:
        _parse_speed(text)
    except ValueError:
        raise argparse.ArgumentTypeError("speed must be positive, 'realtime' or 'max'") from None
    return text


def _time_arg(text: str) -> str:
    """argparse type: an ISO UTC time (or 'now'), checked when the command line is read."""
    try:
        _parse_time(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO UTC time: {text!r} (e.g. 2014-06-05T12:00:00Z)") from None
    return text


def _positive_float(text: str) -> float:
    v = float(text)
    if not v > 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
    return v


def register(sub: argparse._SubParsersAction) -> None:
    from sim.faults import CATALOGUE
    p = sub.add_parser("run", help="run the payload (flight software + simulated world)",
                       description="Run the flight software in the simulated world, linked to ground.")
    p.add_argument("--link", help="udp://PEER:PORT?local=HOST:PORT or serial:///dev/...; omit for no ground link")
    p.add_argument("--speed", default="max", type=_speed_arg, help="realtime | max | N (times real time); default max")
    p.add_argument("--seed", type=int, default=0, help="random seed (runs are deterministic for a seed)")
    p.add_argument("--start", type=_time_arg, help="simulation start, ISO UTC (default: now, or the first pass for --geometry orbit)")
    p.add_argument("--fault", action="append", default=[], choices=sorted(CATALOGUE), metavar="NAME",
                   help="inject a fault (repeatable); see `opals-sim faults`")
    p.add_argument("--duration", type=_positive_float, help="simulated seconds to run (default: to 60 s after the pass)")
    p.add_argument("--plan", choices=("auto", "ground"), help="who uploads the pass plan (default: ground when "
                   "--link is given, else auto)")
    p.add_argument("--plan-file", help="upload this pass plan (JSON from `opals-ground passes --plan N --json`) "
                   "as TIMETAG commands; with --geometry orbit the run starts just before it")
    p.add_argument("--hold", action="store_true", help="hold simulated time until the first packet from ground")
    p.add_argument("--geometry", choices=("flyover", "orbit"), default="flyover",
                   help="flyover: closed-form 145 s pass; orbit: SGP4 pass of the ISS over OCTL from a TLE")
    p.add_argument("--tle", help="TLE file for --geometry orbit (default: bundled ISS 2014)")
    p.add_argument("--pass-offset", type=float, default=240.0,
                   help="flyover: seconds from start to closest approach (default 240)")
    p.add_argument("--control-hz", type=_positive_float, default=100.0, help="control and camera rate (default 100)")
    p.add_argument("--jitter-urad", type=float, default=25.0, help="ISS mount jitter, RMS per axis (default 25)")
    p.add_argument("--downlink-class", type=int, choices=(1, 2), help="auto plan: downlink every file after the pass")
    p.add_argument("--store", help="file store directory (default: a temporary directory)")
    p.add_argument("--summary", help="also write the end-of-run summary JSON here")
    p.add_argument("--linger", type=float, default=0.0,
                   help="after --duration, keep the payload running this many seconds in real time")
    p.add_argument("--optical", action="store_true", help="simulate the optical downlink (frame-level FER)")
    p.add_argument("--optical-record", help="simulate the optical downlink at bit level into this recording")
    p.add_argument("--optical-record-seconds", type=float, default=None,
                   help="record only this many seconds from the first emission, the rest at frame level "
                        "(default: record the whole run)")
    p.add_argument("--optical-source", help="write the bundled stand-in video here (the ground's reference copy)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_run)

    f = sub.add_parser("faults", help="list the fault catalogue")
    f.add_argument("--json", action="store_true")
    f.set_defaults(func=cmd_faults)

    q = sub.add_parser("passes", help="list ISS passes over OCTL (SGP4, bundled 2014 TLE)")
    q.add_argument("--start", default="2014-06-05T00:00:00", type=_time_arg, help="ISO UTC (default 2014-06-05)")
    q.add_argument("--days", type=_positive_float, default=3.0)
    q.add_argument("--min-elevation", type=float, default=20.0)
    q.add_argument("--tle")
    q.set_defaults(func=cmd_passes)


def cmd_faults(args: argparse.Namespace) -> int:
    from sim.faults import CATALOGUE
    rows = [{"name": f.name, "onset": f.onset, "inhibit": f.inhibit, "description": f.description}
            for f in CATALOGUE.values()]
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    for r in rows:
        print(f"{r['name']:<22} {r['onset']:<9} {r['inhibit']:<28} {r['description']}")
    return 0


def _iso(tai: float) -> str:
    return tai_to_datetime(tai).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"


def cmd_passes(args: argparse.Namespace) -> int:
    from sim.orbit_pass import iss_orbit, passes_between
    t0 = _parse_time(args.start)
    orbit = iss_orbit(args.tle, t0)
    for p in passes_between(orbit, t0, t0 + args.days * 86400.0, args.min_elevation):
        feas = p.feasible_duration
        print(f"{_iso(p.rise_tai)}  max elevation {p.max_elevation_deg:5.1f} deg  "
              f"feasible {feas:6.1f} s  peak rate {p.peak_angular_rate_deg_s:.2f} deg/s")
    return 0


def load_plan_file(path: str) -> list[tuple[float, str, dict]]:
    """A pass plan as JSON ({"commands": [{"tai", "name", "args"}, ...]}, what `opals-ground
    passes --plan N --json` writes): (tai, name, args) in time order."""
    try:
        doc = json.loads(Path(path).read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not JSON ({exc})") from None
    try:
        rows = doc["commands"] if isinstance(doc, dict) else doc
        plan = sorted((float(r["tai"]), str(r["name"]), dict(r.get("args", {}))) for r in rows)
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"{path}: not a pass plan ({exc!r})") from None
    if not plan:
        raise ValueError(f"{path}: the pass plan holds no commands")
    return plan


def _geometry(args: argparse.Namespace, plan: list[tuple[float, str, dict]] | None = None):
    from sim.pass_geometry import BEACON_ON_ELEV_DEG
    from sim.pass_geometry import FlyoverPass
    if args.geometry == "flyover":
        start = _parse_time(args.start)
        return FlyoverPass(tca_tai=start + args.pass_offset), start
    from sim.orbit_pass import iss_orbit, orbit_pass, passes_between
    if plan and not args.start:   # the plan says when: start just before its first command
        t0 = plan[0][0] - 5.0
    else:
        t0 = _parse_time(args.start or "2014-06-05T00:00:00")
    orbit = iss_orbit(args.tle, t0)
    for p in passes_between(orbit, t0, t0 + 10 * 86400.0, BEACON_ON_ELEV_DEG):
        if p.feasible:
            g = orbit_pass(orbit, p, pad_s=max(300.0, p.rise_tai - t0 + 60.0))
            return g, (t0 if args.start or plan else g.rise_tai - 120.0)
    raise SystemExit("no feasible pass in the 10 days after --start")


def _attach_optical(sim, args):
    """The optical link driven by flight's modulator: frame level over the whole pass, plus the
    ground receiver's detected bits for the first --optical-record-seconds of emission."""
    if not (args.optical or args.optical_record):
        return None
    from sim.optical_link import attach_optical_link

    if args.optical_source:   # the ground's reference copy of the bundled video
        from flight.optical_playout import standin_video, standin_video_size
        from protocol.tm_coding import ChannelCoding
        cfg = sim.flight.config
        size = cfg.optical_video_bytes or standin_video_size(ChannelCoding())
        Path(args.optical_source).parent.mkdir(parents=True, exist_ok=True)
        Path(args.optical_source).write_bytes(standin_video(cfg.optical_video_seed, size))
    sink = None
    if args.optical_record:
        Path(args.optical_record).parent.mkdir(parents=True, exist_ok=True)
        sink = open(args.optical_record, "wb")
    return attach_optical_link(sim.world, seed=args.seed, sink=sink, clock=sim.clock, modulator=sim.modulator,
                               record_s=args.optical_record_seconds)


def cmd_run(args: argparse.Namespace) -> int:
    from flight.app import FlightConfig
    from links import open_link
    from sim.pass_plan import plan_pass, timetag_packets
    from sim.performance import TrackingPerformance
    from sim.simulation import Simulation
    from sim.world import WorldConfig

    speed = _parse_speed(args.speed)
    plan_file = load_plan_file(args.plan_file) if args.plan_file else None
    geometry, start = _geometry(args, plan_file)
    link = open_link(args.link) if args.link else None
    plan_mode = "file" if plan_file else (args.plan or ("ground" if link is not None else "auto"))
    fcfg = FlightConfig(control_hz=args.control_hz)
    import tempfile
    store = Path(args.store) if args.store else Path(tempfile.mkdtemp(prefix="opals-store-"))
    sim = Simulation(geometry, start, seed=args.seed, faults=tuple(args.fault),
                     world_config=WorldConfig(jitter_rms_urad=args.jitter_urad), flight_config=fcfg, link=link,
                     store_dir=store)
    perf = TrackingPerformance(lambda: sim.flight.tracker.locked)
    sim.world.add_observer(perf.observe)
    optical = _attach_optical(sim, args)
    items, times = plan_pass(geometry, start, stow=fcfg.stow, downlink_class=args.downlink_class)
    if plan_mode == "auto":
        for pkt in timetag_packets(sim.codec, items):
            sim.port.ground(pkt)
    downlink_planned = bool(args.downlink_class)
    if plan_file:
        from sim.pass_plan import PlanItem
        for pkt in timetag_packets(sim.codec, [PlanItem(t, n, a) for t, n, a in plan_file]):
            sim.port.ground(pkt)
        def first(name: str, default: float) -> float:
            return next((t for t, n, _ in plan_file if n == name), default)
        times = times.__class__(start, times.predicts_from, first("START_PASS", start), first("LASER_ARM", start),
                                first("LASER_FIRE", start), first("END_PASS", plan_file[-1][0]))
        downlink_planned = any(n == "FILE_DOWNLINK_ALL" for _, n, _ in plan_file)
    stop_tai = start + args.duration if args.duration else times.end + 60.0
    log = (lambda *a: None) if args.quiet else (lambda *a: print(*a, file=sys.stderr, flush=True))
    log(f"opals-sim: start {_iso(start)}, pass link {_iso(times.fire - 5.0)} .. {_iso(times.end)}, "
        f"speed {args.speed}, faults {args.fault or 'none'}, plan {plan_mode}, link {args.link or 'none'}")

    if args.hold and link is not None:
        log("opals-sim: holding simulated time until ground speaks")
        while True:
            got = link.recv(0.5)
            if got:
                for p in got:
                    sim.checker.note_uplink(sim.world.tai, p)
                    sim.port.inject(p)
                break

    wall0, tai0 = time.monotonic(), sim.world.tai
    pacer = Pacer(speed)

    def pace(tai: float) -> None:
        # A file downlink is paced in real time whatever the speed: ground's CFDP timers run on
        # its wall clock, and racing flight's would time the transfer out.
        downlinking = sim.flight.downlinks.busy or sim.flight.telemetry.pdus_waiting
        pacer.pace(tai, 1.0 if downlinking and link is not None else speed)

    try:
        sim.run_until(stop_tai, pace=pace)
        if downlink_planned and link is not None and not args.duration:   # let it finish (5 min at most)
            sim.run_until(sim.world.tai + 300.0, pace=pace, stop=lambda: not sim.flight.downlinks.busy)
        if args.linger:
            log(f"opals-sim: lingering {args.linger} s in real time for ground (file downlink)")
            sim.run_until(sim.world.tai + args.linger, pace=lambda tai: pacer.pace(tai, 1.0))
    except KeyboardInterrupt:
        log("opals-sim: interrupted")
    wall = time.monotonic() - wall0
    truth = perf.summary()
    result = {
        "start": _iso(start), "simulated_s": round(sim.world.tai - tai0, 3), "wall_s": round(wall, 3),
        "speed_factor": round((sim.world.tai - tai0) / wall, 2) if wall > 0 else None,
        "seed": args.seed, "faults": list(args.fault), "active_faults": sim.active_faults,
        "final_mode": sim.flight.mode, "truth": truth, "onboard": sim.flight.last_summary,
        "hazards": {"H1": sim.checker.count("H1"), "H2": sim.checker.count("H2"),
                    "violations": [v.__dict__ for v in sim.checker.violations[:20]]},
        "store": str(sim.store_dir),
    }
    if optical is not None:
        optical.close()
        result["optical"] = optical.summary()
        result["optical"]["timeline"] = optical.timeline()
        if sim.flight.optical is not None and sim.flight.optical.playout is not None:
            result["optical"]["loops"] = sim.flight.optical.playout.loops
    # Ground finds this only through the file store (FILE_LIST / downlink) and telemetry.
    entry = sim.flight.store.add_bytes("OTHER", "sim_run_summary.json", json.dumps(result, indent=1).encode())
    # One last control cycle so the FILE_DIRECTORY/FILE_CLOSED packets go out.
    sim.step()
    result["summary_file_id"] = entry.file_id
    t = truth
    if t["acquisition_s"] is not None:
        log(f"opals-sim: tracking: acquired {t['acquisition_s']:.2f} s after the beacon entered the field of "
            f"view ({t['elevation_at_view_deg']:.1f} deg elevation); {t['tracked_s']:.1f} s tracked, error "
            f"{t['err_rms_urad']:.1f} urad RMS, {t['err_3sigma_urad']:.1f} urad 3-sigma, max {t['err_max_urad']:.1f}; "
            f"laser on {t['emit_s']:.1f} s; hazards H1 {result['hazards']['H1']} H2 {result['hazards']['H2']}")
    else:
        log(f"opals-sim: no beacon lock; hazards H1 {result['hazards']['H1']} H2 {result['hazards']['H2']}")
    if link is not None:   # every packet put on the link, after the last cycle: ground checks its archive by it
        ls = link.stats()
        result["link"] = {"packets_out": ls.packets_out, "send_errors": ls.send_errors}
    text = json.dumps(result, indent=1)
    if args.summary:
        Path(args.summary).write_text(text)
    print(text)
    if link is not None:
        link.close()
    return 3 if sim.checker.violations else 0
