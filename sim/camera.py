"""Acquisition camera: 640x512, the four-beam 976 nm beacon with scintillation, sky background
and noise. Only what flight asks for is rendered: a 32x32 window costs a few microseconds; a
full frame is a pre-drawn noise frame (from a small pool) with the beacon stamped in."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from flight.hal import Frame, Window

SUBPIXEL = 16


@dataclass
class CameraModel:
    rng: np.random.Generator
    width: int = 640
    height: int = 512
    ifov_urad: float = 50.0
    background_dn: float = 100.0
    noise_dn: float = 4.0
    spot_sigma_px: float = 0.9
    beacon_total_dn: float = 60000.0   # all four beams together at the reference range
    reference_range_km: float = 600.0
    beams: int = 4
    scintillation_sigma: float = 0.5   # log-intensity sigma per beam
    pool_size: int = 4
    _pool: list[np.ndarray] = field(default_factory=list, repr=False)
    count: int = 0

    def __post_init__(self) -> None:
        for _ in range(self.pool_size):
            f = self.rng.normal(self.background_dn, self.noise_dn, (self.height, self.width))
            self._pool.append(np.clip(f, 0, 65535).astype(np.uint16))
        self._cx = (self.width - 1) / 2.0
        self._cy = (self.height - 1) / 2.0
        self._fades: list[float] = []
        self._fade_i = 0
        # The spot (unit total) for every 1/16-pixel sub-pixel position, drawn once.
        r = self._r = int(math.ceil(4 * self.spot_sigma_px))
        k = np.arange(-r, r + 2, dtype=np.float64)
        sub = np.arange(SUBPIXEL) / SUBPIXEL
        g = np.exp(-0.5 * ((k[None, :] - sub[:, None]) / self.spot_sigma_px) ** 2)
        g /= math.sqrt(2 * math.pi) * self.spot_sigma_px
        self._spots = (g[:, None, :, None] * g[None, :, None, :]).astype(np.float32)  # [fy, fx, y, x]
        self._max_total = (65535.0 - 4 * self.background_dn) / float(self._spots.max())

    def in_view(self, err_x_urad: float, err_y_urad: float) -> bool:
        x = self._cx + err_x_urad / self.ifov_urad
        y = self._cy + err_y_urad / self.ifov_urad
        return 0.0 <= x <= self.width - 1 and 0.0 <= y <= self.height - 1

    def beacon_signal(self, range_km: float) -> float:
        """Total beacon DN this frame: four independently scintillating beams (log-normal,
        independent frame to frame at 100 Hz), inverse-square with range."""
        if self._fade_i >= len(self._fades):
            s = self.scintillation_sigma
            draws = np.exp(self.rng.normal(-s * s / 2, s, (4096, self.beams))).mean(axis=1)
            self._fades, self._fade_i = draws.tolist(), 0
        fade = self._fades[self._fade_i]
        self._fade_i += 1
        return self.beacon_total_dn * fade * (self.reference_range_km / max(range_km, 1.0)) ** 2

    def render(self, window: Window | None, beacon: tuple[float, float, float] | None) -> Frame:
        """``beacon``: (err_x_urad, err_y_urad, total_dn) or None when the beacon is off."""
        self.count += 1
        src = self._pool[int(self.rng.integers(self.pool_size))]
        w = window or Window(0, 0, self.width, self.height)
        if window is None:
            img = src.copy()
        else:
            img = src[w.y0:w.y0 + w.height, w.x0:w.x0 + w.width].copy()
        if beacon is not None:
            ex, ey, total = beacon
            px = self._cx + ex / self.ifov_urad - w.x0
            py = self._cy + ey / self.ifov_urad - w.y0
            self._stamp(img, px, py, total)
        return Frame(img, w, self.count)

    def _stamp(self, img: np.ndarray, px: float, py: float, total: float) -> None:
        h, w = img.shape
        r = self._r
        ix, iy = math.floor(px), math.floor(py)
        fx, fy = int((px - ix) * SUBPIXEL), int((py - iy) * SUBPIXEL)
        x0, y0 = ix - r, iy - r
        n = 2 * r + 2
        cx0, cy0 = max(x0, 0), max(y0, 0)
        cx1, cy1 = min(x0 + n, w), min(y0 + n, h)
        if cx0 >= cx1 or cy0 >= cy1:
            return
        # Saturate at full well: the brightest pixel never passes 65535 - 4*background.
        total = min(total, self._max_total)
        spot = self._spots[fy, fx, cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0] * np.float32(total)
        patch = img[cy0:cy1, cx0:cx1]
        np.add(patch, spot, out=patch, casting="unsafe")
