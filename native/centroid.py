"""Python face of the beacon centroid kernel (centroid.c), and the numpy reference it is held to.

The flight tracker calls this every camera frame (100 Hz): on the full 640x512 frame while
acquiring and on a 32x32 window once locked. Both paths return the same ``Moments``.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from native._centroid import ffi, lib

_U16 = np.dtype(np.uint16)


class Moments(NamedTuple):
    """Thresholded moments of an image region (pixel coordinates relative to the region):
    v = max(pixel - threshold, 0); sum = sum(v); sx = sum(v*x); sy = sum(v*y)."""

    sum: float
    sx: float
    sy: float
    count: int
    peak: int
    peak_x: int
    peak_y: int

    @property
    def centroid(self) -> tuple[float, float] | None:
        """(x, y) of the light above threshold, or None when there is none."""
        if self.sum <= 0:
            return None
        return self.sx / self.sum, self.sy / self.sum


class CentroidKernel:
    """Reusable C centroid; keeps its output block so a call allocates only the result."""

    def __init__(self) -> None:
        self._out = ffi.new("double[7]")
        self._fn = lib.opals_centroid_u16

    def __call__(self, img: np.ndarray, threshold: int) -> Moments:
        """``img``: 2-D uint16 with contiguous rows (a slice of a frame is fine)."""
        if img.dtype != _U16 or img.ndim != 2:
            raise ValueError("centroid needs a 2-D uint16 array")
        h, w = img.shape
        rs, cs = img.strides
        if cs == 2 and rs == 2 * w:
            buf = ffi.from_buffer("uint16_t[]", img)
        elif cs == 2 and rs > 0:  # a window view into a larger frame: walk the parent's rows
            buf = ffi.cast("uint16_t *", img.ctypes.data)
        else:
            img = np.ascontiguousarray(img)
            rs, buf = 2 * w, ffi.from_buffer("uint16_t[]", img)
        o = self._out
        self._fn(buf, rs >> 1, w, h, threshold if 0 <= threshold <= 65535 else min(max(int(threshold), 0), 65535), o)
        s, sx, sy, n, peak, px, py = ffi.unpack(o, 7)
        return Moments(s, sx, sy, int(n), int(peak), int(px), int(py))


def centroid_numpy(img: np.ndarray, threshold: int) -> Moments:
    """Reference implementation: the same definition written with numpy."""
    v = img.astype(np.int64) - int(threshold)
    np.maximum(v, 0, out=v)
    h, w = img.shape
    if not img.size:
        return Moments(0.0, 0.0, 0.0, 0, 0, 0, 0)
    total = int(v.sum())
    sx = int(v.sum(axis=0) @ np.arange(w, dtype=np.int64))
    sy = int(v.sum(axis=1) @ np.arange(h, dtype=np.int64))
    flat = int(np.argmax(img))
    py, px = divmod(flat, w)
    return Moments(float(total), float(sx), float(sy), int(np.count_nonzero(v)), int(img.flat[flat]), px, py)
