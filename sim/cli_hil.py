"""``opals-sim devices`` (the simulated devices on a serial line / pty) and ``opals-sim hil``
(the flight software driving them across that line, linked to ground)."""
from __future__ import annotations

import argparse
import json
import sys

from sim.cli_run import _parse_time


def _world_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--start", help="simulation start, ISO UTC (default now)")
    p.add_argument("--pass-offset", type=float, default=240.0, help="seconds from start to closest approach")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--control-hz", type=float, default=100.0)
    p.add_argument("--stow", default="0,10", help="stow/home AZ,EL in degrees (default 0,10)")
    p.add_argument("--camera", default="640x512@50", help="WIDTHxHEIGHT@IFOV_URAD (default 640x512@50)")


def _camera(text: str) -> dict:
    size, _, ifov = text.partition("@")
    w, _, h = size.partition("x")
    return {"width": int(w), "height": int(h), "ifov_urad": float(ifov or 50.0)}


def _stow(text: str) -> tuple[float, float]:
    az, el = (float(v) for v in text.split(","))
    return az, el


def register(sub: argparse._SubParsersAction) -> None:
    from sim.device_server import HARDWARE_FAULTS
    d = sub.add_parser("devices", help="serve the simulated payload devices on a pty or serial port (HIL)")
    _world_args(d)
    d.add_argument("--pty", action="store_true", help="create a pseudo-terminal and print its path")
    d.add_argument("--fault", action="append", default=[], choices=HARDWARE_FAULTS, metavar="NAME",
                   help="hardware fault (repeatable)")
    d.add_argument("--idle-timeout", type=float, default=30.0)
    d.set_defaults(func=cmd_devices)

    h = sub.add_parser("hil", help="run the flight software against devices on a serial line")
    _world_args(h)
    h.add_argument("--devices", required=True, help="serial:///dev/ttyX (or a pty path) of `opals-sim devices`")
    h.add_argument("--link", help="ground link URL (udp://... or serial://...)")
    h.add_argument("--plan", choices=("auto", "ground"), default="auto")
    h.add_argument("--duration", type=float, help="simulated seconds (default: to 20 s after the pass)")
    h.set_defaults(func=cmd_hil)


def _geometry(args):
    from sim.pass_geometry import FlyoverPass
    start = _parse_time(args.start)
    return FlyoverPass(tca_tai=start + args.pass_offset), start


def cmd_devices(args: argparse.Namespace) -> int:
    from sim.device_server import DeviceServer, open_pty, serve_fd
    from sim.faults import CATALOGUE
    from sim.world import World, WorldConfig
    geometry, start = _geometry(args)
    world = World(geometry, start, args.seed, WorldConfig(control_hz=args.control_hz, camera=_camera(args.camera)),
                  stow=_stow(args.stow))

    class _Shim:  # hardware faults only touch the world
        def __init__(self, w):
            self.world = w
    for name in args.fault:
        CATALOGUE[name].apply(_Shim(world))  # HIL: present from power-on
    if not args.pty:
        print("opals-sim devices: only --pty is implemented for serving", file=sys.stderr)
        return 2
    master, path = open_pty()
    print(path, flush=True)
    serve_fd(DeviceServer.for_world(world), master, args.idle_timeout)
    return 0


def cmd_hil(args: argparse.Namespace) -> int:
    from flight.app import FlightConfig
    from links import open_link
    from protocol.codec import make_codec
    from sim.hil import run_flight_hil
    from sim.pass_plan import plan_pass, timetag_packets
    geometry, start = _geometry(args)
    cfg = FlightConfig(control_hz=args.control_hz, stow=_stow(args.stow))
    items, times = plan_pass(geometry, start, stow=cfg.stow)
    packets = timetag_packets(make_codec(), items) if args.plan == "auto" else []
    link = open_link(args.link) if args.link else None
    device = args.devices.removeprefix("serial://")
    run = run_flight_hil(device, packets, start + args.duration if args.duration else times.end + 20.0, cfg, link)
    print(json.dumps({"final_mode": run.flight.mode, "onboard": run.flight.last_summary,
                      "bus_requests": run.client.requests, "bus_timeouts": run.client.timeouts}, indent=1))
    return 0
