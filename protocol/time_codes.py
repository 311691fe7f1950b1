"""CCSDS Unsegmented time Code (CUC): 4 octets coarse + 2 octets fine seconds since 1958-01-01 TAI.

The P-field is implicit (mission-fixed), as in OPALS-class payloads. Conversion to UTC applies
leap seconds from the IERS table below (TAI-UTC); dates before 1972 are not supported.
"""
from __future__ import annotations

import bisect
import datetime as _dt
from dataclasses import dataclass

import construct as cs

CUC = cs.Struct("coarse" / cs.Int32ub, "fine" / cs.Int16ub)
FINE_PER_SECOND = 1 << 16
# Seconds from 1958-01-01 to 1970-01-01 (both midnight, no leap seconds existed in between).
EPOCH_1958_TO_1970 = 378_691_200

# (UTC instant as Unix time at which the offset takes effect, TAI-UTC in seconds), IERS Bulletin C.
_LEAP_TABLE: tuple[tuple[int, int], ...] = tuple(
    (int(_dt.datetime(y, m, 1, tzinfo=_dt.timezone.utc).timestamp()), off)
    for (y, m, off) in (
        (1972, 1, 10), (1972, 7, 11), (1973, 1, 12), (1974, 1, 13), (1975, 1, 14),
        (1976, 1, 15), (1977, 1, 16), (1978, 1, 17), (1979, 1, 18), (1980, 1, 19),
        (1981, 7, 20), (1982, 7, 21), (1983, 7, 22), (1985, 7, 23), (1988, 1, 24),
        (1990, 1, 25), (1991, 1, 26), (1992, 7, 27), (1993, 7, 28), (1994, 7, 29),
        (1996, 1, 30), (1997, 7, 31), (1999, 1, 32), (2006, 1, 33), (2009, 1, 34),
        (2012, 7, 35), (2015, 7, 36), (2017, 1, 37),
    )
)
_LEAP_UTC = [t for t, _ in _LEAP_TABLE]
# The same instants on the TAI-since-1958 scale, for the inverse lookup.
_LEAP_TAI = [t + EPOCH_1958_TO_1970 + off for t, off in _LEAP_TABLE]
_LEAP_OFF = [off for _, off in _LEAP_TABLE]


def tai_minus_utc_at_utc(unix_utc: float) -> int:
    i = bisect.bisect_right(_LEAP_UTC, unix_utc) - 1
    if i < 0:
        raise ValueError("dates before 1972-01-01 UTC are not supported")
    return _LEAP_OFF[i]


def tai_minus_utc_at_tai(tai: float) -> int:
    i = bisect.bisect_right(_LEAP_TAI, tai) - 1
    if i < 0:
        raise ValueError("dates before 1972-01-01 UTC are not supported")
    return _LEAP_OFF[i]


def unix_to_tai(unix_utc: float) -> float:
    """UTC as Unix time -> TAI seconds since the CCSDS epoch."""
    return unix_utc + EPOCH_1958_TO_1970 + tai_minus_utc_at_utc(unix_utc)


def tai_to_unix(tai: float) -> float:
    """TAI seconds since the CCSDS epoch -> UTC as Unix time (a leap second maps onto its successor)."""
    return tai - EPOCH_1958_TO_1970 - tai_minus_utc_at_tai(tai)


def tai_to_datetime(tai: float) -> _dt.datetime:
    return _dt.datetime.fromtimestamp(tai_to_unix(tai), tz=_dt.timezone.utc)


def datetime_to_tai(when: _dt.datetime) -> float:
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.timezone.utc)
    return unix_to_tai(when.timestamp())


@dataclass(frozen=True, slots=True)
class CucTime:
    coarse: int
    fine: int

    @classmethod
    def from_tai(cls, tai: float) -> "CucTime":
        coarse = int(tai)
        fine = int(round((tai - coarse) * FINE_PER_SECOND))
        if fine >= FINE_PER_SECOND:
            coarse, fine = coarse + 1, fine - FINE_PER_SECOND
        return cls(coarse & 0xFFFFFFFF, fine)

    @property
    def tai(self) -> float:
        return self.coarse + self.fine / FINE_PER_SECOND

    def to_datetime(self) -> _dt.datetime:
        return tai_to_datetime(self.tai)


def cuc_to_tai(coarse, fine):
    """Works on scalars and numpy arrays alike (batch decode output)."""
    return coarse + fine / FINE_PER_SECOND
