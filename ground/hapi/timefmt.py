"""HAPI time strings (spec 3.7.6): parse the restricted ISO 8601 subset clients send, and write
the fixed-length strings the server streams, vectorised.

Times are integer nanoseconds since 1970-01-01 UTC (POSIX scale, like the archive's Arrow
``timestamp[ns, tz=UTC]``). A leap second ``23:59:60`` parses onto its successor, which is where
the archive puts it too.
"""
from __future__ import annotations

import calendar
import re

import numpy as np

NS_PER_S = 1_000_000_000
NS_PER_DAY = 86_400 * NS_PER_S
# Outgoing form: yyyy-mm-ddThh:mm:ss.nnnnnnnnnZ, every record the same length (spec 3.7.6.2).
TIME_LENGTH = 30

_DATE = r"(?P<year>\d{4})(?:-(?P<doy>\d{3})|-(?P<month>\d{2})(?:-(?P<day>\d{2}))?)?"
_TIME = r"(?:T(?P<hour>\d{2})(?::(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.(?P<frac>\d{0,9}))?)?)?)?"
_PATTERN = re.compile(_DATE + _TIME + r"Z?", re.ASCII)


def parse_hapi_time(text: str) -> int:
    """Restricted ISO 8601 (year-month-day or year-day-of-year, truncated or not, with or
    without the trailing Z) -> ns since the Unix epoch. Raises ValueError when malformed."""
    m = _PATTERN.fullmatch(text)
    if m is None:
        raise ValueError("not a HAPI time")
    g = m.groupdict()
    if g["hour"] is not None and g["doy"] is None and g["day"] is None:
        raise ValueError("time of day needs a full date")
    year = int(g["year"])
    if g["doy"] is not None:
        doy = int(g["doy"])
        if not 1 <= doy <= (366 if calendar.isleap(year) else 365):
            raise ValueError("day of year out of range")
        days = _days_from_civil(year, 1, 1) + doy - 1
    else:
        month = int(g["month"] or 1)
        day = int(g["day"] or 1)
        if not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(year, month)[1]:
            raise ValueError("month or day out of range")
        days = _days_from_civil(year, month, day)
    hour, minute, second = (int(g[k] or 0) for k in ("hour", "minute", "second"))
    frac = g["frac"] or ""
    frac_ns = int(frac.ljust(9, "0")) if frac else 0
    if hour == 24:  # 24:00[:00[.000]] is the end of the day, nothing else is
        if minute or second or frac_ns:
            raise ValueError("hour 24 only as 24:00:00")
    elif hour > 23 or minute > 59 or second > 60:
        raise ValueError("time of day out of range")
    return (days * 86_400 + hour * 3600 + minute * 60 + second) * NS_PER_S + frac_ns


def _days_from_civil(year: int, month: int, day: int) -> int:
    return calendar.timegm((year, month, day, 0, 0, 0)) // 86_400


def format_iso(ns: int) -> str:
    """One instant as a full HAPI time (used for metadata: startDate, stopDate)."""
    return format_times(np.array([ns], dtype=np.int64))[0].decode()


def format_day(ns: int) -> str:
    """An instant at day resolution as ``yyyy-mm-ddT00:00:00Z`` (metadata date bounds)."""
    day = np.datetime64(int(ns) // NS_PER_DAY, "D")
    return f"{day}T00:00:00Z"


# "00".."99" and "000".."999" as byte rows: two or three digits per gather instead of a div/mod each.
_DIGITS2 = np.array([f"{i:02d}".encode() for i in range(100)], dtype="S2").view(np.uint8).reshape(100, 2)
_DIGITS3 = np.array([f"{i:03d}".encode() for i in range(1000)], dtype="S3").view(np.uint8).reshape(1000, 3)


def format_times(ns: np.ndarray) -> np.ndarray:
    """int64 ns since epoch -> array of ``S30`` ``yyyy-mm-ddThh:mm:ss.nnnnnnnnnZ`` strings.

    Vectorised: the date part is formatted once per distinct day, the time of day by integer
    arithmetic into a byte matrix, so a million stamps cost a few numpy passes, not a loop."""
    ns = np.asarray(ns, dtype=np.int64)
    n = ns.shape[0]
    out = np.empty((n, TIME_LENGTH), dtype=np.uint8)
    if n == 0:
        return out.view(f"S{TIME_LENGTH}").reshape(0)
    days = np.floor_divide(ns, NS_PER_DAY)
    tod = ns - days * NS_PER_DAY
    if days[0] == days[-1] and bool((days == days[0]).all()):  # a batch within one day: the usual case
        out[:, :11] = np.frombuffer(f"{np.datetime64(int(days[0]), 'D')}T".encode(), dtype=np.uint8)
    else:
        uniq, inverse = np.unique(days, return_inverse=True)
        date_text = np.array([f"{np.datetime64(int(d), 'D')}T".encode() for d in uniq], dtype="S11")
        out[:, :11] = date_text.view(np.uint8).reshape(-1, 11)[inverse.reshape(-1)]
    secs, frac = np.divmod(tod, NS_PER_S)
    hh, rem = np.divmod(secs, 3600)
    mm, ss = np.divmod(rem, 60)
    for col, value in ((11, hh), (14, mm), (17, ss)):
        out[:, col:col + 2] = _DIGITS2[value]
    out[:, 13] = out[:, 16] = ord(":")
    out[:, 19] = ord(".")
    if frac.any():
        hi, low = np.divmod(frac, 1_000_000)
        mid, low = np.divmod(low, 1000)
        out[:, 20:23] = _DIGITS3[hi]
        out[:, 23:26] = _DIGITS3[mid]
        out[:, 26:29] = _DIGITS3[low]
    else:
        out[:, 20:29] = ord("0")
    out[:, 29] = ord("Z")
    return out.view(f"S{TIME_LENGTH}").reshape(n)
