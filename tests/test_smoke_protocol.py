"""The contract's pinned constants: CRC check value, HK packet size, CUC epoch."""
from protocol.codec import make_codec
from protocol.crc import CHECK_VALUE, crc16, crc16_reference
from protocol.opals import DICTIONARY
from protocol.time_codes import datetime_to_tai, tai_to_datetime
import datetime as dt


def test_crc_check_value():
    assert crc16(b"123456789") == CHECK_VALUE == 0x29B1
    assert crc16_reference(b"123456789") == 0x29B1


def test_housekeeping_is_48_bytes():
    assert make_codec().tm_length("HOUSEKEEPING") == 48


def test_cuc_epoch_and_leap_seconds():
    # 2017-01-01T00:00:00Z is 37 s of leap offset after the 1958 TAI epoch.
    when = dt.datetime(2017, 1, 1, tzinfo=dt.timezone.utc)
    tai = datetime_to_tai(when)
    days = (when.date() - dt.date(1958, 1, 1)).days
    assert tai == days * 86400 + 37
    assert tai_to_datetime(tai) == when
    assert len(DICTIONARY.telemetry) >= 6


from hypothesis import given, settings, strategies as st  # noqa: E402

from protocol.time_codes import CucTime, tai_to_unix, unix_to_tai  # noqa: E402


def test_leap_second_boundary_2016():
    # TAI-UTC went 36 -> 37 s at 2017-01-01T00:00:00Z; one TAI second before it is 23:59:60,
    # which (Unix time having no leap seconds) maps onto the following instant.
    before = dt.datetime(2016, 12, 31, 23, 59, 59, tzinfo=dt.timezone.utc)
    after = dt.datetime(2017, 1, 1, tzinfo=dt.timezone.utc)
    assert datetime_to_tai(after) - datetime_to_tai(before) == 2


@settings(deadline=None)  # a loaded CI machine must not turn slowness into failure
@given(st.floats(min_value=63072000, max_value=4102444800, allow_nan=False))  # 1972..2100 UTC
def test_utc_tai_round_trip(unix):
    assert abs(tai_to_unix(unix_to_tai(unix)) - unix) < 1e-6


@settings(deadline=None)  # a loaded CI machine must not turn slowness into failure
@given(st.integers(0, 2**32 - 1), st.integers(0, 65535))
def test_cuc_round_trip(coarse, fine):
    t = CucTime(coarse, fine)
    assert CucTime.from_tai(t.tai) == t
