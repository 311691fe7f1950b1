"""Feasible OPALS passes over a ground station, from a TLE: the list operations plans from.

Ground knows the payload only through the dictionary, and the sky only through protocol.geometry:
the same geometry the simulator uses for truth, so planned and simulated passes agree.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from protocol.geometry import OCTL, Orbit, Pass, Station, find_passes, load_tles
from protocol.time_codes import tai_to_datetime

DAY_S = 86400.0


def nearest_orbit(tai: float, tle_path: str | Path | None = None) -> Orbit:
    """The element set in the file whose epoch is closest to ``tai`` (SGP4 degrades with age)."""
    orbits = [Orbit(l1, l2) for l1, l2 in load_tles(tle_path)]
    return min(orbits, key=lambda o: abs(o.epoch_tai - tai))


@dataclass(frozen=True)
class PassQuery:
    """What to search: a span, a station and the minimum elevation of a usable link."""

    start_tai: float
    days: float = 1.0
    station: Station = OCTL
    min_elevation_deg: float = 20.0

    @property
    def stop_tai(self) -> float:
        return self.start_tai + self.days * DAY_S


MAX_SEARCH_DAYS = 366.0   # a TLE is stale long before this; an infinite span would never end


def feasible_passes(orbit: Orbit, query: PassQuery) -> list[Pass]:
    """Passes with at least one feasible window (ISS north, inside the field of regard, above the minimum)."""
    if not 0 < query.days <= MAX_SEARCH_DAYS:
        raise ValueError(f"days must be positive and at most {MAX_SEARCH_DAYS:g}, got {query.days}")
    if not -90.0 <= query.min_elevation_deg <= 90.0:
        raise ValueError(f"minimum elevation must be within -90..90 deg, got {query.min_elevation_deg}")
    return [p for p in find_passes(orbit, query.station, query.start_tai, query.stop_tai, query.min_elevation_deg)
            if p.is_feasible]


def iso_utc(tai: float) -> str:
    return tai_to_datetime(tai).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def pass_to_dict(p: Pass, number: int) -> dict[str, Any]:
    """JSON-ready record of a pass (times both as TAI seconds since 1958 and as UTC ISO strings)."""
    return {
        "number": number,
        "station": p.station.name,
        "rise_tai": p.rise_tai, "rise_utc": iso_utc(p.rise_tai),
        "culmination_tai": p.culmination_tai, "culmination_utc": iso_utc(p.culmination_tai),
        "set_tai": p.set_tai, "set_utc": iso_utc(p.set_tai),
        "max_elevation_deg": round(p.max_elevation_deg, 3),
        "min_elevation_deg": p.min_elevation_deg,
        "above_min_s": round(p.above_min.duration, 3),
        "feasible": [{"start_tai": w.start_tai, "start_utc": iso_utc(w.start_tai),
                      "stop_tai": w.stop_tai, "stop_utc": iso_utc(w.stop_tai),
                      "duration_s": round(w.duration, 3)} for w in p.feasible],
        "feasible_duration_s": round(p.feasible_duration, 3),
        "peak_angular_rate_deg_s": round(p.peak_angular_rate_deg_s, 4),
    }


def passes_to_json(passes: list[Pass]) -> str:
    return json.dumps([pass_to_dict(p, i) for i, p in enumerate(passes, 1)], indent=2)


def _hms(tai: float | None) -> str:
    return "-" if tai is None else tai_to_datetime(tai).strftime("%H:%M:%S")


def format_pass_table(passes: list[Pass]) -> str:
    """One line per pass: rise, feasible start/stop, maximum elevation, feasible duration."""
    head = f"{'#':>3}  {'rise (UTC)':<20} {'feasible start':>14} {'feasible stop':>13} {'max el':>7} {'feasible':>9} {'windows':>7}"
    lines = [head, "-" * len(head)]
    for i, p in enumerate(passes, 1):
        rise = tai_to_datetime(p.rise_tai).strftime("%Y-%m-%d %H:%M:%S")
        lines.append(f"{i:>3}  {rise:<20} {_hms(p.feasible_start):>14} {_hms(p.feasible_stop):>13} "
                     f"{p.max_elevation_deg:>6.1f}° {p.feasible_duration:>8.1f}s {len(p.feasible):>7}")
    if not passes:
        lines.append("  (no feasible pass in the span)")
    return "\n".join(lines)


def parse_iso_utc(text: str) -> dt.datetime:
    """ISO 8601 date or date-time; naive means UTC ('Z' accepted)."""
    when = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)
