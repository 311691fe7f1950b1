"""TAI seconds since 1958 -> the UTC Julian dates SGP4 wants and the Earth rotation angle (GMST).

SGP4 element sets are in UTC; TEME -> Earth-fixed uses GMST (IAU 1982) of UT1. UT1-UTC is under
0.9 s by definition but worth 0.02 deg at closest approach, so UT1 comes from a small bundled IERS
table (2013-2016); outside it UT1 = UTC, or the caller gives UT1-UTC (``dut1_s``).
"""
from __future__ import annotations

import datetime as _dt
import functools
from dataclasses import dataclass
from pathlib import Path

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


UT1_TABLE_PATH = Path(__file__).resolve().parent.parent / "data" / "ut1_tai_2013_2016.txt"


@dataclass(frozen=True)
class EarthOrientation:
    """UT1-TAI samples (IERS): the Earth rotation angle's clock. Outside the table, UT1 = UTC."""

    tai: np.ndarray
    ut1_minus_tai: np.ndarray

    def ut1_seconds_since_1958(self, tai: np.ndarray) -> np.ndarray:
        tai = np.asarray(tai, dtype=np.float64)
        inside = (tai >= self.tai[0]) & (tai <= self.tai[-1])
        if inside.all():
            return tai + np.interp(tai, self.tai, self.ut1_minus_tai)
        return np.where(inside, tai + np.interp(tai, self.tai, self.ut1_minus_tai), utc_seconds_since_1958(tai))


@functools.cache
def bundled_earth_orientation() -> EarthOrientation:
    """The bundled table (2013-2016, around OPALS operations), read once (immutable)."""
    return load_earth_orientation(UT1_TABLE_PATH)


def load_earth_orientation(path: str | Path) -> EarthOrientation:
    """Read 'YYYY-MM-DD ut1_minus_tai_s' rows (dates at 00:00 UTC; '#' lines are comments)."""
    from protocol.time_codes import datetime_to_tai

    tai, off = [], []
    for line in Path(path).read_text(encoding="ascii").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        day, value = line.split()
        tai.append(datetime_to_tai(_dt.datetime.fromisoformat(day).replace(tzinfo=_dt.timezone.utc)))
        off.append(float(value))
    tai_a, off_a = np.array(tai), np.array(off)
    tai_a.flags.writeable = off_a.flags.writeable = False  # shared by every caller: keep it constant
    if len(tai_a) < 2 or np.any(np.diff(tai_a) <= 0):
        raise ValueError(f"{path}: need at least two rows in increasing date order")
    return EarthOrientation(tai_a, off_a)


def ut1_seconds_since_1958(tai: np.ndarray, dut1_s: float | None = None) -> np.ndarray:
    """UT1 seconds since 1958 for TAI seconds: from the bundled IERS table, or UTC + ``dut1_s``."""
    if dut1_s is None:
        return bundled_earth_orientation().ut1_seconds_since_1958(tai)
    return utc_seconds_since_1958(tai) + dut1_s


def teme_to_ecef(r_teme: np.ndarray, tai: np.ndarray, dut1_s: float | None = None) -> np.ndarray:
    """Rotate (N, 3) TEME vectors into the Earth-fixed frame (GMST; polar motion, < 10 m, ignored)."""
    theta = gmst_rad(ut1_seconds_since_1958(np.atleast_1d(tai), dut1_s))
    c, s = np.cos(theta), np.sin(theta)
    r = np.atleast_2d(r_teme)
    return np.stack([c * r[:, 0] + s * r[:, 1], -s * r[:, 0] + c * r[:, 1], r[:, 2]], axis=1)
