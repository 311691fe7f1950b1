"""Passes of the ISS over a station and the windows in which the payload can link with it.

A pass runs from rise to set at the geometric horizon and is kept when its maximum elevation
reaches ``min_elevation_deg``. Its ``feasible`` windows are where, at once, the ISS is north of
the station (its ground track passes north: the station is to starboard, see look.py), the gimbal
direction is inside the field of regard and the elevation is at least the minimum. Edges are found on a coarse grid and refined by bisection (to ~1 ms).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from protocol.geometry.earth import Station
from protocol.geometry.look import LookAngles, in_field_of_regard, look_angles
from protocol.geometry.orbit import Orbit

SEARCH_STEP_S = 10.0  # horizon search grid: a pass above 20 deg stays up for > 6 min
FINE_STEP_S = 1.0  # in-pass grid for windows and culmination
REFINE_ITERATIONS = 12  # bisection of a FINE_STEP_S bracket: 1 s / 2**12 ~ 0.25 ms


@dataclass(frozen=True)
class Window:
    """A time window, TAI seconds since 1958."""

    start_tai: float
    stop_tai: float

    @property
    def duration(self) -> float:
        return self.stop_tai - self.start_tai


@dataclass(frozen=True)
class Pass:
    """One pass of the ISS over ``station`` (times: TAI seconds since 1958; angles: deg)."""

    station: Station
    rise_tai: float
    set_tai: float
    culmination_tai: float
    max_elevation_deg: float
    min_elevation_deg: float
    above_min: Window  # elevation >= min_elevation_deg
    feasible: tuple[Window, ...]  # north of station, inside field of regard, elevation >= minimum
    peak_angular_rate_deg_s: float  # gimbal line-of-sight rate, max over the feasible windows

    @property
    def feasible_duration(self) -> float:
        return float(sum(w.duration for w in self.feasible))

    @property
    def is_feasible(self) -> bool:
        return bool(self.feasible)

    @property
    def feasible_start(self) -> float | None:
        return self.feasible[0].start_tai if self.feasible else None

    @property
    def feasible_stop(self) -> float | None:
        return self.feasible[-1].stop_tai if self.feasible else None


def feasibility_mask(la: LookAngles, min_elevation_deg: float, margin_deg: float = 0.0) -> np.ndarray:
    """Where a link is possible: ISS north of the station, gimbal inside the field of regard,
    station elevation at least the minimum."""
    return la.iss_north_of_station & in_field_of_regard(la.az, la.el, margin_deg) & (la.elevation >= min_elevation_deg)


def _refine(pred: Callable[[np.ndarray], np.ndarray], t_a: np.ndarray, t_b: np.ndarray) -> np.ndarray:
    """Bisect brackets [t_a, t_b] where ``pred`` differs at the ends; returns the switch times."""
    t_a, t_b = np.array(t_a, dtype=np.float64), np.array(t_b, dtype=np.float64)
    if t_a.size == 0:
        return t_a
    p_a = pred(t_a)
    for _ in range(REFINE_ITERATIONS):
        mid = 0.5 * (t_a + t_b)
        p_mid = pred(mid)
        same = p_mid == p_a
        t_a = np.where(same, mid, t_a)
        t_b = np.where(same, t_b, mid)
    return 0.5 * (t_a + t_b)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) index of each run of True."""
    padded = np.concatenate(([False], mask, [False])).astype(np.int8)
    d = np.diff(padded)
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1) - 1))


def _windows(pred: Callable[[np.ndarray], np.ndarray], t: np.ndarray, mask: np.ndarray) -> list[Window]:
    """Windows where ``mask`` (sampled ``pred`` on grid ``t``) holds, edges refined inside the grid."""
    runs = _runs(mask)
    if not runs:
        return []
    starts = np.array([t[i] for i, _ in runs])
    stops = np.array([t[j] for _, j in runs])
    inner_start = np.array([i > 0 for i, _ in runs])
    inner_stop = np.array([j < len(t) - 1 for _, j in runs])
    si = np.flatnonzero(inner_start)
    ei = np.flatnonzero(inner_stop)
    step_before = np.array([t[runs[k][0]] - t[runs[k][0] - 1] for k in si])
    step_after = np.array([t[runs[k][1] + 1] - t[runs[k][1]] for k in ei])
    starts[si] = _refine(pred, starts[si] - step_before, starts[si])
    stops[ei] = _refine(pred, stops[ei], stops[ei] + step_after)
    return [Window(float(a), float(b)) for a, b in zip(starts, stops)]


def find_passes(orbit: Orbit, station: Station, start_tai: float, stop_tai: float,
                min_elevation_deg: float = 20.0, dut1_s: float | None = None) -> list[Pass]:
    """Every pass between ``start_tai`` and ``stop_tai`` whose maximum elevation reaches the minimum.

    A pass already up at ``start_tai`` (or still up at ``stop_tai``) is cut at that bound.
    """
    if not stop_tai > start_tai:
        return []

    def elevation(t: np.ndarray) -> np.ndarray:
        return look_angles(orbit, station, t, dut1_s).elevation

    def above_horizon(t: np.ndarray) -> np.ndarray:
        return elevation(t) > 0.0

    n = int(np.ceil((stop_tai - start_tai) / SEARCH_STEP_S))
    grid = np.minimum(start_tai + SEARCH_STEP_S * np.arange(n + 1), stop_tai)
    # A day of grid at a time: a year's search keeps one boolean per sample, not every look angle.
    up_mask = np.concatenate([above_horizon(block) for block in np.array_split(grid, max(1, n // 8640))])
    ups = _windows(above_horizon, grid, up_mask)
    passes = []
    for up in ups:
        # In-pass grid from rise to set (both on the horizon): every window edge lies inside it.
        t = np.append(np.arange(up.start_tai, up.stop_tai, FINE_STEP_S), up.stop_tai)
        la = look_angles(orbit, station, t, dut1_s)
        k = int(np.nanargmax(la.elevation))
        t_cul, e_max = _culmination(t, la.elevation, k)
        if e_max < min_elevation_deg:
            continue

        def above_min(tt: np.ndarray) -> np.ndarray:
            return elevation(tt) >= min_elevation_deg

        def feasible(tt: np.ndarray) -> np.ndarray:
            return feasibility_mask(look_angles(orbit, station, tt, dut1_s), min_elevation_deg)

        above = _windows(above_min, t, la.elevation >= min_elevation_deg)
        above_w = Window(above[0].start_tai, above[-1].stop_tai) if above else Window(t_cul, t_cul)
        mask = feasibility_mask(la, min_elevation_deg)
        windows = tuple(_windows(feasible, t, mask))
        peak = float(np.max(la.angular_rate[mask])) if mask.any() else 0.0
        passes.append(Pass(station, up.start_tai, up.stop_tai, t_cul, e_max, min_elevation_deg,
                           above_w, windows, peak))
    return passes


def _culmination(t: np.ndarray, e: np.ndarray, k: int) -> tuple[float, float]:
    """Peak of a parabola through the three samples around the maximum."""
    if 0 < k < len(t) - 1:
        y0, y1, y2 = e[k - 1], e[k], e[k + 1]
        denom = y0 - 2.0 * y1 + y2
        if denom < 0.0:
            h = t[k + 1] - t[k]
            off = 0.5 * (y0 - y2) / denom
            return float(t[k] + off * h), float(y1 - 0.25 * (y0 - y2) * off)
    return float(t[k]), float(e[k])
