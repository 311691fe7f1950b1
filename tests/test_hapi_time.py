"""HAPI time strings: every form the spec allows parses to the same instant, malformed ones are
refused, the vectorised writer agrees with numpy, and no query string makes the server fail."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from starlette.testclient import TestClient

from ground.hapi.app import ServerConfig, create_app
from ground.hapi.timefmt import format_day, format_iso, format_times, parse_hapi_time

instants = st.integers(min_value=np.datetime64("1972-01-01", "ns").astype(np.int64),
                       max_value=np.datetime64("2099-12-31T23:59:59", "ns").astype(np.int64))


@given(instants)
def test_written_times_parse_back_exactly(ns):
    text = format_iso(ns)
    assert len(text) == 30 and text.endswith("Z")
    assert parse_hapi_time(text) == ns
    assert parse_hapi_time(text[:-1]) == ns  # without Z: still UTC


@given(st.lists(instants, min_size=0, max_size=50))
def test_vectorised_writer_matches_numpy(values):
    ns = np.array(values, dtype=np.int64)
    expected = [f"{s}Z".encode() for s in np.datetime_as_string(ns.astype("datetime64[ns]"), unit="ns")]
    assert format_times(ns).tolist() == expected


@given(instants)
def test_day_of_year_and_truncated_forms_agree(ns):
    when = dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=ns // 1000)
    doy = when.timetuple().tm_yday
    assert parse_hapi_time(f"{when:%Y-%m-%dT%H:%M:%S}Z") == parse_hapi_time(f"{when:%Y}-{doy:03d}T{when:%H:%M:%S}Z")
    assert parse_hapi_time(f"{when:%Y}-{doy:03d}") == parse_hapi_time(f"{when:%Y-%m-%d}Z")
    assert parse_hapi_time(f"{when:%Y-%m-%dT%H}Z") == parse_hapi_time(f"{when:%Y-%m-%dT%H}:00:00.000Z")
    assert parse_hapi_time(f"{when:%Y-%m}") == parse_hapi_time(f"{when:%Y-%m}-01T00:00")
    assert parse_hapi_time(f"{when:%Y}Z") == parse_hapi_time(f"{when:%Y}-001")


def test_end_of_day_and_leap_second():
    assert parse_hapi_time("2026-03-01T24:00:00Z") == parse_hapi_time("2026-03-02")
    assert parse_hapi_time("2016-12-31T23:59:60Z") == parse_hapi_time("2017-01-01T00:00:00Z")
    assert format_day(parse_hapi_time("2026-03-01T13:14:15.5Z")) == "2026-03-01T00:00:00Z"


@pytest.mark.parametrize("bad", ["", "202", "26-01-01", "2026-1-1", "2026-00-10", "2026-02-29", "2026-366",
                                 "2024-367", "2026-01-01T", "2026-01T10Z", "2026-01-01T10:61", "2026-01-01T24:01",
                                 "2026-01-01 10:00", "2026-01-01T10:00:00.1234567890Z", "2026-01-01T10:00+01:00",
                                 "2026-01-01ZZ", "now", "\u0662\u0660\u0662\u0666-01-01"])
def test_malformed_times_are_refused(bad):
    with pytest.raises(ValueError):
        parse_hapi_time(bad)


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    from hapi_helpers import build_archive
    return TestClient(create_app(ServerConfig(build_archive(tmp_path_factory.mktemp("fuzz")))),
                      raise_server_exceptions=False)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["dataset", "id", "start", "stop", "time.min", "parameters", "format",
                                           "include", "depth", "resolve_references", "x"]),
                          st.text(max_size=40)), max_size=6),
       st.sampled_from(["data", "info", "catalog", "about", "capabilities"]))
def test_no_query_string_makes_the_server_fail(client, items, endpoint):
    r = client.get(f"/hapi/{endpoint}", params=items)
    assert r.status_code in (200, 400, 404)
    if r.status_code != 200 or endpoint != "data":
        assert r.json()["status"]["code"] in range(1200, 1500)


def test_the_client_reads_every_time_form_a_server_may_send():
    from ground.hapi.client import hapi_times_to_ns

    ymd = np.array([b"2026-03-01T01:02:03.500Z", b"2026-03-02T00:00:00.000Z"])
    doy = np.array(["2026-060T01:02:03.500Z", "2026-061T00:00:00.000Z"])
    assert hapi_times_to_ns(ymd).tolist() == hapi_times_to_ns(doy).tolist() == [
        parse_hapi_time("2026-03-01T01:02:03.5Z"), parse_hapi_time("2026-03-02")]


def test_import_windows_cut_at_midnights_and_keep_the_callers_edges():
    from ground.hapi.client import windows

    assert windows("2026-03-01T12Z", "2026-03-03T06:00Z") == [
        ("2026-03-01T12Z", "2026-03-02T00:00:00Z"), ("2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z"),
        ("2026-03-03T00:00:00Z", "2026-03-03T06:00Z")]
    assert windows("2026-060", "2026-061") == [("2026-060", "2026-061")]
    assert len(windows("2026-01-01", "2027-01-01", 7)) == 53
    with pytest.raises(ValueError):
        windows("2026-03-02", "2026-03-01")
    for bad in (0, -1, 1e-10, float("nan")):  # would loop (or build a list) of billions of windows
        with pytest.raises(ValueError, match="at least one minute"):
            windows("2026-01-01", "2026-01-02", bad)
