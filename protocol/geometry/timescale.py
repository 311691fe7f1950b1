"""TAI seconds since 1958 -> the UTC Julian dates SGP4 wants and the Earth rotation angle (GMST).

SGP4 element sets are in UTC; TEME -> Earth-fixed uses GMST (IAU 1982) of UT1. UT1-UTC is under
0.9 s by definition; callers that need the last 0.01 deg near zenith pass it in (``dut1_s``).
"""
from __future__ import annotations

import numpy as np

from protocol.time_codes import tai_minus_utc_at_tai

JD_1958 = 2436204.5  # Julian date of 1958-01-01 00:00
DAYS_1958_TO_J2000 = 2451545.0 - JD_1958
EARTH_ROTATION_RAD_S = 7.292115146706979e-5  # WGS-84 / Vallado (TEME -> PEF rotation rate)


def utc_seconds_since_1958(tai: np.ndarray) -> np.ndarray:
    """UTC seconds since 1958 (leap seconds removed), for an array of TAI seconds since 1958."""
    tai = np.asarray(tai, dtype=np.float64)
    if tai.size == 0:
        return tai.copy()
    lo, hi = tai_minus_utc_at_tai(float(tai.min())), tai_minus_utc_at_tai(float(tai.max()))
    if lo == hi:  # the common case: no leap second inside the span
        return tai - lo
    return tai - np.vectorize(tai_minus_utc_at_tai, otypes=[np.float64])(tai)


def julian_date_split(utc_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(whole Julian day, day fraction): the two-part date keeps SGP4 at microsecond precision."""
    days = np.floor(utc_s / 86400.0)
    return JD_1958 + days, (utc_s - days * 86400.0) / 86400.0


def gmst_rad(ut1_s: np.ndarray) -> np.ndarray:
    """Greenwich mean sidereal time (IAU 1982, as in Vallado's gstime) of UT1 seconds since 1958."""
    t = (np.asarray(ut1_s, dtype=np.float64) / 86400.0 - DAYS_1958_TO_J2000) / 36525.0
    seconds = 67310.54841 + ((-6.2e-6 * t + 0.093104) * t + (876600.0 * 3600.0 + 8640184.812866)) * t
    return np.mod(seconds, 86400.0) * (2.0 * np.pi / 86400.0)
