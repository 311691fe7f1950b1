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
