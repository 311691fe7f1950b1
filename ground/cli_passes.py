"""``opals-ground passes``: feasible OPALS passes over OCTL, and the command plan of one pass."""
from __future__ import annotations

import argparse
import sys

from ground.pass_plan import PlanError, format_plan_table, plan_pass, plan_to_json, plan_window
from ground.passes import (PassQuery, feasible_passes, format_pass_table, nearest_orbit, parse_iso_utc,
                           passes_to_json)
from protocol.geometry import Orbit, OrbitError, load_tle
from protocol.time_codes import datetime_to_tai


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("passes", help="list feasible passes over OCTL; --plan N prints the command plan of pass N")
    p.add_argument("--start", help="start of the search, ISO 8601 UTC (default: epoch of the first TLE)")
    p.add_argument("--days", type=float, default=1.0, help="length of the search in days (default 1)")
    p.add_argument("--tle", help="TLE file (default: the bundled ISS element sets of June 2014)")
    p.add_argument("--min-elevation", type=float, default=20.0, help="minimum station elevation, deg (default 20)")
    p.add_argument("--json", action="store_true", help="JSON instead of a table")
    p.add_argument("--plan", type=int, metavar="N", help="print the command plan of pass N (1-based)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        start = (datetime_to_tai(parse_iso_utc(args.start)) if args.start
                 else Orbit(*load_tle(args.tle)).epoch_tai)
        orbit = nearest_orbit(start + args.days * 43200.0, args.tle)
        passes = feasible_passes(orbit, PassQuery(start, args.days, min_elevation_deg=args.min_elevation))
    except (OSError, ValueError, OrbitError) as exc:
        print(f"opals-ground passes: {exc}", file=sys.stderr)
        return 2
    if args.plan is None:
        sys.stdout.write((passes_to_json(passes) if args.json else format_pass_table(passes)) + "\n")
        return 0
    if not 1 <= args.plan <= len(passes):
        print(f"opals-ground passes: no pass {args.plan}: {len(passes)} feasible pass(es) in the span",
              file=sys.stderr)
        return 1
    chosen = passes[args.plan - 1]
    try:
        plan = plan_pass(orbit, chosen)
    except PlanError as exc:
        print(f"opals-ground passes: pass {args.plan} cannot be planned: {exc}", file=sys.stderr)
        return 1
    text = plan_to_json(plan, chosen, args.plan) if args.json else format_plan_table(plan, plan_window(chosen).start_tai)
    sys.stdout.write(text + "\n")
    return 0
