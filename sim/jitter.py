"""ISS structural jitter at the payload mount: a first-order Gauss-Markov process per axis."""
from __future__ import annotations

import math

import numpy as np


class MountJitter:
    """Per-axis RMS ``rms_urad`` with correlation time ``tau_s``; drawn in blocks (fast)."""

    def __init__(self, rms_urad: float, tau_s: float, dt: float, rng: np.random.Generator, block: int = 4096):
        self.rho = math.exp(-dt / tau_s) if tau_s > 0 else 0.0
        self.rms = rms_urad
        self.drive = rms_urad * math.sqrt(1.0 - self.rho ** 2)
        self.rng = rng
        self.block = block
        self._x = rng.normal(0.0, rms_urad) if rms_urad > 0 else 0.0
        self._y = rng.normal(0.0, rms_urad) if rms_urad > 0 else 0.0
        self._buf: list[tuple[float, float]] = []
        self._i = 0

    def _refill(self) -> None:
        e = self.rng.normal(0.0, 1.0, (self.block, 2)) * self.drive
        out = np.empty((self.block, 2))
        x, y, r = self._x, self._y, self.rho
        for k in range(self.block):
            x = r * x + e[k, 0]
            y = r * y + e[k, 1]
            out[k, 0], out[k, 1] = x, y
        self._x, self._y = x, y
        self._buf = out.tolist()
        self._i = 0

    def step(self) -> tuple[float, float]:
        if self.rms <= 0:
            return 0.0, 0.0
        if self._i >= len(self._buf):
            self._refill()
        v = self._buf[self._i]
        self._i += 1
        return v[0], v[1]
