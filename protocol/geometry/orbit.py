"""SGP4 propagation of a TLE on whole time arrays (the sgp4 library's vectorised C++ API)."""
from __future__ import annotations

import numpy as np
from sgp4.api import Satrec

from native.geometry_kernels import hermite_states_kernel
from protocol.geometry.timescale import julian_date_split, utc_seconds_since_1958
from protocol.time_codes import unix_to_tai

_JD_UNIX_EPOCH = 2440587.5
# SGP4 nodes for interpolation, on multiples of this many TAI seconds: cubic Hermite between them
# is within ~5 mm and ~1 mm/s of SGP4 itself (the fourth derivative of a LEO orbit is ~1e-8 km/s^4).
NODE_STEP_S = 20.0


class OrbitError(ValueError):
    """The element set cannot be propagated (bad TLE or decayed orbit)."""


class Orbit:
    """One satellite's TLE, propagated with SGP4 (states in TEME, km and km/s)."""

    def __init__(self, line1: str, line2: str) -> None:
        self.line1, self.line2 = line1, line2
        self.satrec = Satrec.twoline2rv(line1, line2)
        if self.satrec.error:
            raise OrbitError(f"SGP4 rejects the element set (error {self.satrec.error})")
        self.epoch_tai: float = unix_to_tai((self.satrec.jdsatepoch - _JD_UNIX_EPOCH) * 86400.0
                                            + self.satrec.jdsatepochF * 86400.0)

    def state(self, tai: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """TEME position (N, 3) km and velocity (N, 3) km/s at TAI seconds since 1958.

        Samples SGP4 cannot propagate (error code != 0) come back as NaN rather than raising, so
        one bad instant never loses a whole batch.
        """
        tai = np.atleast_1d(np.asarray(tai, dtype=np.float64))
        jd, fr = julian_date_split(utc_seconds_since_1958(tai))
        err, r, v = self.satrec.sgp4_array(jd, fr)
        if err.any():
            bad = err != 0
            r[bad] = np.nan
            v[bad] = np.nan
        return r, v

    def state_interpolated(self, tai: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`state` for dense time arrays: SGP4 only at the 20-s nodes around the samples,
        cubic Hermite in between (C kernel). Nodes sit on fixed multiples of NODE_STEP_S, so a
        sample's value never depends on the other samples of the batch."""
        tai = np.atleast_1d(np.asarray(tai, dtype=np.float64))
        if tai.size == 0 or not np.isfinite(tai).all():
            return self.state(tai)
        k = np.floor(tai / NODE_STEP_S)
        lo, hi = float(k.min()), float(k.max())
        if hi - lo + 2 <= 2 * len(tai):  # dense: every node of the span
            nodes = np.arange(lo, hi + 2.0)
            pos = (k - lo).astype(np.int64)
        else:  # sparse: only the nodes either side of each sample (k + 1 follows k once sorted)
            nodes, inverse = np.unique(np.concatenate([k, k + 1.0]), return_inverse=True)
            pos = inverse[:len(k)].astype(np.int64)
        node_tai = nodes * NODE_STEP_S
        node_r, node_v = self.state(node_tai)
        return hermite_states_kernel(tai, pos, node_tai, node_r, node_v, NODE_STEP_S)

    def __repr__(self) -> str:
        return f"Orbit(satnum={self.satrec.satnum}, epoch_tai={self.epoch_tai:.3f})"
