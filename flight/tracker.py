"""Beacon acquisition and tracking from camera frames: full-frame search, then a 32x32 window.

The centroid itself is the C kernel (native/centroid.py); this module decides where to look,
turns the centroid into a pointing error in microradians, and keeps the lock state."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from flight.hal import Frame, Window
from native.centroid import CentroidKernel, Moments

WINDOW = 32


@dataclass(frozen=True, slots=True)
class BeaconFix:
    """One frame's answer: where the beacon is (or that it is not there)."""

    found: bool
    err_x_urad: float = 0.0
    err_y_urad: float = 0.0
    signal: float = 0.0
    x: float = 0.0                  # full-frame pixel coordinates of the centroid
    y: float = 0.0


@dataclass
class CentroidEstimator:
    """Frame -> BeaconFix. A separate component so a fault can replace it ("centroid lies")."""

    width: int
    height: int
    ifov_urad: float
    threshold: int = 250            # DN: dark level + margin above the background noise
    detect_signal: float = 800.0    # DN summed above threshold for a detection
    kernel: CentroidKernel = field(default_factory=CentroidKernel)

    def __call__(self, frame: Frame) -> BeaconFix:
        px = frame.pixels
        w = frame.window
        m: Moments = self.kernel(px, self.threshold)
        if w.width > WINDOW or w.height > WINDOW:
            # Full frame: the brightest pixel says where; centroid a window around it.
            if m.peak <= self.threshold:
                return BeaconFix(False)
            x0 = min(max(m.peak_x - WINDOW // 2, 0), w.width - WINDOW)
            y0 = min(max(m.peak_y - WINDOW // 2, 0), w.height - WINDOW)
            m = self.kernel(px[y0:y0 + WINDOW, x0:x0 + WINDOW], self.threshold)
            ox, oy = w.x0 + x0, w.y0 + y0
        else:
            ox, oy = w.x0, w.y0
        c = m.centroid
        if c is None or m.sum < self.detect_signal:
            return BeaconFix(False, signal=m.sum)
        x, y = ox + c[0], oy + c[1]
        return BeaconFix(True, (x - (self.width - 1) / 2) * self.ifov_urad,
                         (y - (self.height - 1) / 2) * self.ifov_urad, m.sum, x, y)


@dataclass
class Tracker:
    """Lock logic: ``lock_frames`` consecutive detections to lock; one frame without the beacon
    in the window (or an implausible jump) loses it, so the laser is safed in that same cycle."""

    estimator: Callable[[Frame], BeaconFix]
    width: int
    height: int
    lock_frames: int = 3
    max_err_urad: float = 5000.0     # a fix further than this from centre is not the beacon
    state: str = "IDLE"             # TRACK_STATES names
    streak: int = 0
    last: BeaconFix = BeaconFix(False)
    locks: int = 0
    losses: int = 0

    def start(self) -> None:
        self.state, self.streak, self.last = "ACQUIRING", 0, BeaconFix(False)

    def stop(self) -> None:
        self.state, self.streak = "IDLE", 0

    @property
    def locked(self) -> bool:
        return self.state == "LOCKED"

    def window(self) -> Window | None:
        """Region to grab next: a window on the last fix once locked, else the full frame."""
        if self.state != "LOCKED" or not self.last.found:
            return None
        x0 = int(round(self.last.x)) - WINDOW // 2
        y0 = int(round(self.last.y)) - WINDOW // 2
        x0 = min(max(x0, 0), self.width - WINDOW)
        y0 = min(max(y0, 0), self.height - WINDOW)
        return Window(x0, y0, WINDOW, WINDOW)

    def update(self, frame: Frame) -> BeaconFix:
        fix = self.estimator(frame)
        good = fix.found and (fix.err_x_urad ** 2 + fix.err_y_urad ** 2) <= self.max_err_urad ** 2 \
            if self.state == "LOCKED" else fix.found
        if self.state == "LOCKED":
            if not good:
                self.state, self.streak = "LOST", 0
                self.losses += 1
        elif self.state in ("ACQUIRING", "LOST"):
            self.streak = self.streak + 1 if good else 0
            if self.streak >= self.lock_frames:
                self.state = "LOCKED"
                self.locks += 1
        self.last = fix
        return fix
