"""SGP4 propagation of a TLE on whole time arrays (the sgp4 library's vectorised C++ API)."""
from __future__ import annotations

import numpy as np
from sgp4.api import Satrec

from protocol.geometry.timescale import julian_date_split, utc_seconds_since_1958
from protocol.time_codes import unix_to_tai

_JD_UNIX_EPOCH = 2440587.5


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

    def __repr__(self) -> str:
        return f"Orbit(satnum={self.satrec.satnum}, epoch_tai={self.epoch_tai:.3f})"
