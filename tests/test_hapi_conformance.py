"""HAPI 3.3 conformance of the server (in-process ASGI client over a synthetic archive): every
metadata response against the official JSON schema, every error code, the data formats agreeing
with each other and with the archive, and the streaming, live-data and robustness rules."""
from __future__ import annotations

import csv
import email.utils
import gzip
import io
import json
import os
import shutil

import numpy as np
import pyarrow as pa
import pytest
from starlette.testclient import TestClient

from ground.hapi.app import ServerConfig, create_app
from ground.hapi.synthetic_archive import synthetic_table, write_segment
from ground.hapi.timefmt import format_times
from hapi_helpers import FIRST_DAY, archive_table, build_archive, schema_validators
from protocol.opals import DICTIONARY

DAY0 = f"{FIRST_DAY}T00:00:00Z"


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    return build_archive(tmp_path_factory.mktemp("hapi-archive"))


@pytest.fixture(scope="module")
def client(archive):
    return TestClient(create_app(ServerConfig(archive)), raise_server_exceptions=False)


@pytest.fixture(scope="module")
def validators():
    return schema_validators()


def status_of(r) -> int:
    return r.json()["status"]["code"]


def binary_records(info: dict, body: bytes) -> np.ndarray:
    dtype = []
    for p in info["parameters"]:
        if p["type"] in ("isotime", "string"):
            dtype.append((p["name"], f"S{p['length']}"))
        else:
            dtype.append((p["name"], "<i4" if p["type"] == "integer" else "<f8"))
    return np.frombuffer(body, dtype=np.dtype(dtype))


# ---------------------------------------------------------------- metadata and the official schema

def test_every_metadata_response_validates_against_the_official_schema(client, validators):
    validators["about"].validate(client.get("/hapi/about").json())
    validators["capabilities"].validate(client.get("/hapi/capabilities").json())
    for depth in ("", "?depth=dataset", "?depth=all"):
        validators["catalog"].validate(client.get(f"/hapi/catalog{depth}").json())
    for entry in client.get("/hapi/catalog").json()["catalog"]:
        r = client.get(f"/hapi/info?dataset={entry['id']}")
        assert r.status_code == 200
        validators["info"].validate(r.json())
    validators["info"].validate(client.get("/hapi/info?dataset=SAFETY&parameters=status_word_sw_armed").json())


def test_the_schema_check_can_fail(client, validators):
    info = client.get("/hapi/info?dataset=HOUSEKEEPING").json()
    info["parameters"][1]["type"] = "float"
    assert not validators["info"].is_valid(info)
    info = client.get("/hapi/info?dataset=HOUSEKEEPING").json()
    del info["parameters"][1]["units"]
    assert not validators["info"].is_valid(info)
    assert not validators["capabilities"].is_valid({"HAPI": "3.3", "status": {"code": 1200, "message": "OK"}})


def test_catalog_has_one_dataset_per_fixed_size_packet_and_depth_all_embeds_info(client):
    ids = [e["id"] for e in client.get("/hapi/catalog").json()["catalog"]]
    expected = [p.name for p in DICTIONARY.telemetry.values() if not p.is_variable] + ["PASSES"]
    assert ids == expected and "FILE_PDU" not in ids
    full = client.get("/hapi/catalog?depth=all").json()["catalog"]
    for entry in full:
        single = client.get(f"/hapi/info?dataset={entry['id']}").json()
        del single["HAPI"], single["status"]
        assert entry["info"] == single
    assert "catalogDepthOptions" in client.get("/hapi/capabilities").json()


def test_info_carries_units_descriptions_states_and_bits_from_the_dictionary(client):
    info = client.get("/hapi/info?dataset=HOUSEKEEPING").json()
    params = {p["name"]: p for p in info["parameters"]}
    assert info["parameters"][0] == {"name": "Time", "type": "isotime", "units": "UTC", "fill": None, "length": 30,
                                     "description": "Packet time (CUC time code) in UTC"}
    field = DICTIONARY.telemetry["HOUSEKEEPING"].field("temp_laser")
    assert params["temp_laser"]["units"] == field.units == "degC"
    assert params["temp_laser"]["description"] == field.description
    assert params["temp_laser"]["type"] == "double"
    assert (params["temp_laser"]["x_yellowLimits"], params["temp_laser"]["x_redLimits"]) == ([0, 40], [-10, 50])
    assert params["temp_laser"]["x_validRange"] == list(field.valid_range)
    assert "6=TRACK" in params["mode"]["description"] and params["mode"]["type"] == "integer"
    assert params["mode_name"]["type"] == "string" and params["mode_name"]["length"] == len("HEALTH_CHECK")
    assert params["uptime"]["type"] == "double"  # u32 does not fit a HAPI integer
    assert info["cadence"] == "PT1S" and info["startDate"] == DAY0 and info["stopDate"] == "2026-03-03T00:00:00Z"
    sample = client.get(f"{H}&start={info['sampleStartDate']}&stop={info['sampleStopDate']}&parameters=seq")
    assert len(sample.text.splitlines()) == 3600  # the advertised sample holds data
    safety = {p["name"] for p in client.get("/hapi/info?dataset=SAFETY").json()["parameters"]}
    assert {f"status_word_{b}" for b in DICTIONARY.telemetry["SAFETY"].field("status_word").bits} <= safety
    events = {p["name"] for p in client.get("/hapi/info?dataset=EVENT").json()["parameters"]}
    assert {"event_name", "message", "severity_name"} <= events


# ---------------------------------------------------------------- errors

H = "/hapi/data?dataset=HOUSEKEEPING"
T = "start=2026-03-01T00:00:00Z&stop=2026-03-01T00:00:10Z"
ERRORS = [
    ("/hapi/nothing_here", 400, 1400),
    ("/hapi/info", 400, 1400),
    (f"/hapi/data?{T}", 400, 1400),
    (f"{H}&dataset=SAFETY&{T}", 400, 1400),
    (f"{H}&id=HOUSEKEEPING&{T}", 400, 1400),
    ("/hapi/info?dataset=HOUSEKEEPING&averagingInterval=5s", 400, 1401),
    ("/hapi/about?x=1", 400, 1401),
    (f"{H}&{T}&fields=mode", 400, 1401),
    (f"{H}&start=2026-13-01&stop=2026-03-02", 400, 1402),
    (f"{H}&start=yesterday&stop=2026-03-02", 400, 1402),
    (f"{H}&stop=2026-03-02", 400, 1402),
    (f"{H}&start=2026-03-01&stop=2026-03-01T25", 400, 1403),
    (f"{H}&start=2026-03-01", 400, 1403),
    (f"{H}&start=2026-03-01T01Z&stop=2026-03-01T01Z", 400, 1404),
    (f"{H}&start=2026-03-02&stop=2026-03-01", 400, 1404),
    (f"{H}&start=2026-02-28&stop=2026-03-01T01Z", 400, 1405),
    (f"{H}&start=2026-03-01&stop=2026-03-04", 400, 1405),
    (f"/hapi/data?dataset=NOPE&{T}", 404, 1406),
    ("/hapi/info?dataset=NOPE", 404, 1406),
    ("/hapi/info?dataset=FILE_PDU", 404, 1406),
    (f"{H}&{T}&parameters=mode,bogus", 404, 1407),
    ("/hapi/info?dataset=HOUSEKEEPING&parameters=bogus", 404, 1407),
    (f"{H}&{T}&format=xml", 400, 1409),
    (f"{H}&{T}&include=everything", 400, 1410),
    (f"{H}&{T}&parameters=temp_laser,mode", 400, 1411),
    (f"{H}&{T}&parameters=mode,mode", 400, 1411),
    ("/hapi/info?dataset=HOUSEKEEPING&parameters=uptime,mode", 400, 1411),
    (f"{H}&{T}&resolve_references=maybe", 400, 1412),
    ("/hapi/catalog?depth=everything", 400, 1413),
]


@pytest.mark.parametrize("url,http,code", ERRORS)
def test_errors_have_the_spec_http_status_and_hapi_code(client, validators, url, http, code):
    r = client.get(url)
    assert (r.status_code, status_of(r)) == (http, code)
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    if code == 1413:  # the spec defines 1413, but the official 3.3 schema's status enum omits it
        assert not validators["error"].is_valid(body)
        body["status"]["code"] = 1400
    validators["error"].validate(body)


def test_error_messages_do_not_echo_client_input(client):
    for url in (f"{H}&start=<script>&stop=2026-03-02", f"{H}&{T}&evil<b>=1", "/hapi/info?dataset=<img>"):
        text = client.get(url).text
        assert "<" not in text and "evil" not in text


def test_too_long_request_is_1408_when_the_server_has_a_limit(archive):
    limited = TestClient(create_app(ServerConfig(archive, max_request_days=1)))
    r = limited.get(f"{H}&start=2026-03-01&stop=2026-03-03")
    assert (r.status_code, status_of(r)) == (400, 1408)
    assert limited.get(f"{H}&start=2026-03-01&stop=2026-03-02").status_code == 200


def test_internal_failures_are_1500_and_a_missing_archive_is_1501(archive, tmp_path, monkeypatch):
    import ground.hapi.app as app_module

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(app_module, "open_stream", broken)
    c = TestClient(create_app(ServerConfig(archive)), raise_server_exceptions=False)
    r = c.get(f"{H}&{T}")
    assert (r.status_code, status_of(r)) == (500, 1500) and "fire" not in r.text
    gone = tmp_path / "gone"
    gone.mkdir()
    c = TestClient(create_app(ServerConfig(gone)), raise_server_exceptions=False)
    gone.rmdir()
    r = c.get("/hapi/catalog")
    assert (r.status_code, status_of(r)) == (500, 1501)


def test_only_get_and_head(client):
    assert client.post("/hapi/capabilities").status_code == 405
    head, get = client.head(f"{H}&{T}"), client.get(f"{H}&{T}")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["last-modified"] == get.headers["last-modified"]
    assert head.headers["content-type"] == get.headers["content-type"]
    assert client.head("/hapi/data?dataset=NOPE").status_code == 404


# ---------------------------------------------------------------- HTTP behaviour

def test_trailing_slash_is_a_301_to_the_url_without_it(client):
    r = client.get("/hapi/", follow_redirects=False)
    assert r.status_code == 301 and r.headers["location"].endswith("/hapi")
    r = client.get("/hapi/info/?dataset=SAFETY", follow_redirects=False)
    assert r.status_code == 301 and r.headers["location"].endswith("/hapi/info?dataset=SAFETY")
    assert client.get("/hapi/info/?dataset=SAFETY").json()["status"]["code"] == 1200


def test_cors_headers_on_success_and_error(client):
    for r in (client.get("/hapi/catalog"), client.get("/hapi/info?dataset=NOPE"), client.get(f"{H}&{T}")):
        assert r.headers["access-control-allow-origin"] == "*"
        assert "GET" in r.headers["access-control-allow-methods"]


def test_last_modified_is_the_newest_segment(client, archive):
    newest = max(p.stat().st_mtime for p in (archive / "parquet" / "HOUSEKEEPING").rglob("*.parquet"))
    for url in ("/hapi/info?dataset=HOUSEKEEPING", f"{H}&start=2026-03-01&stop=2026-03-03"):
        stamp = email.utils.parsedate_to_datetime(client.get(url).headers["last-modified"]).timestamp()
        assert stamp == int(newest)


def test_if_modified_since_gives_304_until_a_new_segment_lands(tmp_path):
    hk = DICTIONARY.telemetry["HOUSEKEEPING"]
    t0 = np.datetime64("2026-11-01T00:00:00", "ns").astype(np.int64)
    path = write_segment(tmp_path, hk, synthetic_table(hk, t0 + np.arange(10) * 10**9), "a")
    os.utime(path, (1_700_000_000, 1_700_000_000))
    c = TestClient(create_app(ServerConfig(tmp_path)))
    url = "/hapi/data?dataset=HOUSEKEEPING&start=2026-11-01&stop=2026-11-02&parameters=seq"
    stamp = c.get(url).headers["last-modified"]
    for u in (url, "/hapi/info?dataset=HOUSEKEEPING"):
        assert c.get(u, headers={"If-Modified-Since": stamp}).status_code == 304
        assert c.get(u, headers={"If-Modified-Since": "Tue, 14 Nov 2023 22:13:19 GMT"}).status_code == 200
        assert c.get(u, headers={"If-Modified-Since": "garbage"}).status_code == 200
    write_segment(tmp_path, hk, synthetic_table(hk, t0 + (10 + np.arange(10)) * 10**9), "b")
    r = c.get(url, headers={"If-Modified-Since": stamp})
    assert r.status_code == 200 and len(r.text.splitlines()) == 20


def test_gzip_when_asked_and_identical_content(client):
    url = f"{H}&start=2026-03-01T00Z&stop=2026-03-01T01Z"
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    zipped = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.content == plain.content  # httpx decodes; the decoded bytes are identical
    raw = client.stream("GET", url, headers={"Accept-Encoding": "gzip"})
    with raw as r:
        compressed = b"".join(r.iter_raw())
    assert gzip.decompress(compressed) == plain.content and len(compressed) < len(plain.content) / 2


# ---------------------------------------------------------------- request parameters and time

def test_hapi2_names_are_accepted(client):
    new = client.get(f"{H}&{T}").content
    old = client.get("/hapi/data?id=HOUSEKEEPING&time.min=2026-03-01T00:00:00Z&time.max=2026-03-01T00:00:10Z").content
    assert new == old and len(new.splitlines()) == 10
    assert client.get("/hapi/info?id=SAFETY").json()["status"]["code"] == 1200


@pytest.mark.parametrize("start,stop", [
    ("2026-03-01T01:00:00.000Z", "2026-03-01T01:00:05.000Z"),
    ("2026-03-01T01:00:00Z", "2026-03-01T01:00:05Z"),
    ("2026-060T01:00:00Z", "2026-060T01:00:05Z"),
    ("2026-060T01:00:00", "2026-060T01:00:05.0"),
    ("2026-03-01T01Z", "2026-03-01T01:00:05.000000000"),
    ("2026-060T01:00", "2026-03-01T01:00:05"),
])
def test_time_forms_are_equivalent(client, start, stop):
    body = client.get(f"{H}&start={start}&stop={stop}&parameters=uptime").text.splitlines()
    assert [line.split(",")[0] for line in body] == [f"2026-03-01T01:00:0{i}.000000000Z" for i in range(5)]


def test_day_truncated_times(client):
    a = client.get(f"{H}&start=2026-03-02&stop=2026-03-03&parameters=mode").content
    b = client.get(f"{H}&start=2026-061Z&stop=2026-062Z&parameters=mode").content
    assert a == b and len(a.splitlines()) == 86_400


def test_start_inclusive_stop_exclusive(client):
    lines = client.get(f"{H}&start=2026-03-01T00:00:01Z&stop=2026-03-01T00:00:04Z&parameters=seq").text.splitlines()
    assert [line.split(",")[0][:19] for line in lines] == ["2026-03-01T00:00:01", "2026-03-01T00:00:02",
                                                            "2026-03-01T00:00:03"]


def test_parameter_subsets_keep_time_first_and_dataset_order(client):
    def columns(params):
        r = client.get(f"{H}&{T}&format=json&parameters={params}")
        return [p["name"] for p in r.json()["parameters"]], len(r.json()["data"][0])
    assert columns("mode,temp_laser") == (["Time", "mode", "temp_laser"], 3)
    assert columns("Time") == (["Time"], 1)
    assert columns("Time,uptime") == (["Time", "uptime"], 2)
    all_names = [p["name"] for p in client.get("/hapi/info?dataset=HOUSEKEEPING").json()["parameters"]]
    assert columns("")[0] == all_names


# ---------------------------------------------------------------- data formats

def _three_formats(client, dataset, start, stop):
    base = f"/hapi/data?dataset={dataset}&start={start}&stop={stop}"
    info = client.get(f"/hapi/info?dataset={dataset}").json()
    rows_csv = list(csv.reader(io.StringIO(client.get(base + "&format=csv").text)))
    rec = binary_records(info, client.get(base + "&format=binary").content)
    rows_json = client.get(base + "&format=json").json()["data"]
    return info, rows_csv, rec, rows_json


@pytest.mark.parametrize("dataset", ["HOUSEKEEPING", "SAFETY", "EVENT", "COMMAND_ACK"])
def test_csv_binary_and_json_give_the_same_values(client, dataset):
    info, rows_csv, rec, rows_json = _three_formats(client, dataset, "2026-03-01T00Z", "2026-03-01T02Z")
    assert len(rows_csv) == len(rec) == len(rows_json) > 0
    for i, p in enumerate(info["parameters"]):
        b = rec[p["name"]]
        c = [row[i] for row in rows_csv]
        j = [row[i] for row in rows_json]
        if p["type"] in ("isotime", "string"):
            assert [x.decode() for x in b] == c == j
        elif p["type"] == "integer":
            assert b.tolist() == [int(x) for x in c] == j
        else:
            assert b.tolist() == [float(x) for x in c] == j


def test_values_are_exactly_what_the_archive_holds(client, archive):
    info, _, rec, _ = _three_formats(client, "SAFETY", "2026-03-01T05Z", "2026-03-01T06Z")
    table = archive_table(archive, "SAFETY", "2026-03-01T05:00:00", "2026-03-01T06:00:00")
    assert len(rec) == table.num_rows == 3600
    assert rec["Time"].tolist() == format_times(table.column("time").cast(pa.int64()).to_numpy()).tolist()
    for name in ("tai", "seq", "status_word", "laser_state", "arm_remaining", "h1_inhibits"):
        assert rec[name].tolist() == table.column(name).to_numpy().astype(rec[name].dtype).tolist()
    word = table.column("status_word").to_numpy()
    assert rec["status_word_sw_armed"].tolist() == ((word >> 2) & 1).tolist()
    names = DICTIONARY.telemetry["SAFETY"].field("last_safing").states
    assert [x.decode() for x in rec["last_safing_name"]] == [names[v] for v in table.column("last_safing").to_pylist()]


def test_event_messages_are_rendered_from_the_dictionary(client, archive):
    rows = client.get("/hapi/data?dataset=EVENT&start=2026-03-01&stop=2026-03-02&format=json").json()
    names = [p["name"] for p in rows["parameters"]]
    table = archive_table(archive, "EVENT", "2026-03-01", "2026-03-02")
    by_id = {e.event_id: e for e in DICTIONARY.events.values()}
    assert len(rows["data"]) == table.num_rows
    for row, rec in zip(rows["data"], table.to_pylist()):
        ev = by_id[rec["event_id"]]
        assert row[names.index("event_name")] == ev.name
        assert row[names.index("message")] == ev.render([rec[f"arg{i}"] for i in range(4)])


def test_include_header_for_csv_binary_and_json(client):
    url = f"{H}&{T}&parameters=mode,temp_laser&include=header"
    text = client.get(url).text
    header_lines = [line for line in text.splitlines() if line.startswith("#")]
    header = json.loads("".join(line[1:] for line in header_lines))
    assert header["format"] == "csv" and header["status"]["code"] == 1200
    assert [p["name"] for p in header["parameters"]] == ["Time", "mode", "temp_laser"]
    assert len(text.splitlines()) == len(header_lines) + 10
    body = client.get(url + "&format=binary").content
    cut = body.rfind(b"}\n") + 2
    header = json.loads(b"".join(line[1:] for line in body[:cut].splitlines()))
    assert header["format"] == "binary" and len(binary_records(header, body[cut:])) == 10
    j = client.get(url.replace("&include=header", "") + "&format=json").json()
    assert j["format"] == "json" and j["status"]["code"] == 1200 and len(j["data"]) == 10


def test_no_data_in_range_is_1201(client):
    url = "/hapi/data?dataset=EVENT&start=2026-03-01T00:00:01Z&stop=2026-03-01T00:00:02Z"
    r = client.get(url)
    assert r.status_code == 200 and r.content == b"" and r.headers["x-hapi-status"].startswith("1201")
    r = client.get(url + "&include=header")
    assert json.loads("".join(line[1:] for line in r.text.splitlines()))["status"]["code"] == 1201
    j = client.get(url + "&format=json").json()
    assert j["status"]["code"] == 1201 and j["data"] == []


def test_dataset_without_data_is_listed_and_answers_1201(client, validators):
    info = client.get("/hapi/info?dataset=TRACKING").json()
    validators["info"].validate(info)
    r = client.get("/hapi/data?dataset=TRACKING&start=2026-03-01&stop=2026-03-02&format=json").json()
    assert r["status"]["code"] == 1201 and r["data"] == []


# ---------------------------------------------------------------- live data and robustness

def test_a_new_segment_is_served_by_the_next_request(tmp_path):
    hk = DICTIONARY.telemetry["HOUSEKEEPING"]
    t0 = np.datetime64("2026-05-01T10:00:00", "ns").astype(np.int64)
    write_segment(tmp_path, hk, synthetic_table(hk, t0 + np.arange(60) * 10**9), "seg-a")
    c = TestClient(create_app(ServerConfig(tmp_path)))
    url = "/hapi/data?dataset=HOUSEKEEPING&start=2026-05-01T10Z&stop=2026-05-02T12Z&parameters=seq"
    assert status_of(c.get(url + "&format=json")) == 1405  # 2026-05-02 is not archived yet
    assert len(c.get(url.replace("05-02", "05-01").replace("T12Z", "T11Z")).text.splitlines()) == 60
    # a pass goes on: the next minute arrives, then the next day starts
    write_segment(tmp_path, hk, synthetic_table(hk, t0 + (60 + np.arange(60)) * 10**9), "seg-b")
    t1 = np.datetime64("2026-05-02T11:59:00", "ns").astype(np.int64)
    write_segment(tmp_path, hk, synthetic_table(hk, t1 + np.arange(30) * 10**9), "seg-c")
    assert c.get("/hapi/info?dataset=HOUSEKEEPING").json()["stopDate"] == "2026-05-03T00:00:00Z"
    assert len(c.get(url).text.splitlines()) == 150


def test_segments_out_of_order_overlapping_or_unsorted_are_served_in_time_order(tmp_path):
    hk = DICTIONARY.telemetry["HOUSEKEEPING"]
    t0 = np.datetime64("2026-06-01T00:00:00", "ns").astype(np.int64)
    times = t0 + np.arange(300, dtype=np.int64) * 10**9
    write_segment(tmp_path, hk, synthetic_table(hk, times[200:]), "a-late")  # name sorts first
    write_segment(tmp_path, hk, synthetic_table(hk, times[0:200:2]), "b-even")  # interleaved with c
    write_segment(tmp_path, hk, synthetic_table(hk, times[1:200:2][::-1]), "c-odd-reversed")
    c = TestClient(create_app(ServerConfig(tmp_path, batch_rows=7)))
    body = c.get("/hapi/data?dataset=HOUSEKEEPING&start=2026-06-01&stop=2026-06-02&parameters=seq").text
    stamps = [line.split(",")[0] for line in body.splitlines()]
    assert stamps == format_times(times).astype(str).tolist()


def test_an_unreadable_segment_is_skipped_counted_and_good_data_still_served(tmp_path):
    hk = DICTIONARY.telemetry["HOUSEKEEPING"]
    t0 = np.datetime64("2026-07-01T00:00:00", "ns").astype(np.int64)
    path = write_segment(tmp_path, hk, synthetic_table(hk, t0 + np.arange(100) * 10**9), "good")
    (path.parent / "bad.parquet").write_bytes(b"PAR1 this is not parquet")
    shutil.copy(path, path.parent / ".in-progress.parquet.tmp")  # hidden: ignored, not double-counted
    c = TestClient(create_app(ServerConfig(tmp_path)))
    r = c.get("/hapi/data?dataset=HOUSEKEEPING&start=2026-07-01&stop=2026-07-02&parameters=seq")
    assert r.status_code == 200 and len(r.text.splitlines()) == 100
    assert c.get("/hapi/x_status").json()["unreadableFiles"] == 1
    os.remove(path.parent / "bad.parquet")


# ---------------------------------------------------------------- derived product: passes

def _events(rows: list[tuple[float, str, int]]) -> pa.Table:
    """An EVENT table from (seconds after 2026-08-01, event name, arg0)."""
    ev = DICTIONARY.telemetry["EVENT"]
    t0 = np.datetime64("2026-08-01T00:00:00", "ns").astype(np.int64)
    table = synthetic_table(ev, t0 + np.array([int(r[0] * 1e9) for r in rows], dtype=np.int64))
    ids = pa.array([DICTIONARY.events[r[1]].event_id for r in rows], type=pa.uint16())
    table = table.set_column(table.schema.get_field_index("event_id"), "event_id", ids)
    return table.set_column(table.schema.get_field_index("arg0"), "arg0", pa.array([r[2] for r in rows], pa.int32()))


def test_passes_are_derived_from_events(tmp_path, validators):
    write_segment(tmp_path, DICTIONARY.telemetry["EVENT"], _events([
        (10, "PASS_STARTED", 120), (12, "PING", 1), (15, "LOCK_ACQUIRED", 2500), (20, "LOCK_ACQUIRED", 100),
        (100, "LASER_SAFED", 10), (160, "PASS_ENDED", 140000),
        (3600, "PASS_STARTED", 90), (3800, "PASS_ENDED", 0),
        (7200, "PASS_STARTED", 60), (7210, "LASER_SAFED", 1),
    ]), "events")
    c = TestClient(create_app(ServerConfig(tmp_path)))
    info = c.get("/hapi/info?dataset=PASSES").json()
    validators["info"].validate(info)

    def passes(start, stop):
        return c.get(f"/hapi/data?dataset=PASSES&start={start}&stop={stop}&format=json").json()["data"]
    rows = passes("2026-08-01", "2026-08-02")
    assert rows == [
        ["2026-08-01T00:00:10.000000000Z", "2026-08-01T00:02:40.000000000Z", 150.0, 120, 5000, 140000, 1],
        ["2026-08-01T01:00:00.000000000Z", "2026-08-01T01:03:20.000000000Z", 200.0, 90, -1, 0, 0],
        ["2026-08-01T02:00:00.000000000Z", "0000-01-01T00:00:00.000000000Z", None, 60, -1, -1, 1],
    ]
    # a pass that starts in the range is complete even if it ends after stop; one that started before is not listed
    assert passes("2026-08-01T00:00:05Z", "2026-08-01T00:01Z") == rows[:1]
    assert passes("2026-08-01T00:00:11Z", "2026-08-01T01:30Z") == rows[1:2]
    csv_text = c.get("/hapi/data?dataset=PASSES&start=2026-08-01&stop=2026-08-02").text
    assert csv_text.splitlines()[2].split(",")[2] == "NaN"


def test_a_long_request_is_streamed_day_by_day_not_loaded(tmp_path, monkeypatch):
    """The response starts before later days are even opened, and each chunk is one bounded batch."""
    import ground.hapi.archive_scan as scan_module
    from ground.hapi.synthetic_archive import write_days

    write_days(tmp_path, DICTIONARY.telemetry["HOUSEKEEPING"], "2026-09-01", 5, 0.5)
    opened: list[str] = []
    real = scan_module._pieces

    def spy(path, schema, flt):
        opened.append(path.parent.name)
        return real(path, schema, flt)

    monkeypatch.setattr(scan_module, "_pieces", spy)
    c = TestClient(create_app(ServerConfig(tmp_path, batch_rows=1000, encode_threads=1)))
    with c.stream("GET", "/hapi/data?dataset=HOUSEKEEPING&start=2026-09-01&stop=2026-09-06&format=binary",
                  headers={"Accept-Encoding": "identity"}) as r:
        chunks = r.iter_raw()
        first = next(chunks)
        assert opened == ["date=2026-09-01"]
        sizes = [len(first)] + [len(c) for c in chunks]
    assert opened == [f"date=2026-09-0{d}" for d in range(1, 6)]
    record = 30 + sum(8 if p["type"] == "double" else 4 if p["type"] == "integer" else p.get("length", 0)
                      for p in c.get("/hapi/info?dataset=HOUSEKEEPING").json()["parameters"][1:])
    assert sum(sizes) == 5 * 43_200 * record and max(sizes) <= 1000 * record


def test_a_column_older_segments_lack_is_served_as_fill_never_as_zero(tmp_path):
    hk = DICTIONARY.telemetry["HOUSEKEEPING"]
    t0 = np.datetime64("2026-10-01T00:00:00", "ns").astype(np.int64)
    old = synthetic_table(hk, t0 + np.arange(3) * 10**9).drop_columns(["mode", "uptime"])
    path = write_segment(tmp_path, hk, synthetic_table(hk, t0 + (3 + np.arange(2)) * 10**9), "new")
    import pyarrow.parquet as pq
    pq.write_table(old, path.parent / "old.parquet")
    c = TestClient(create_app(ServerConfig(tmp_path)))
    info = c.get("/hapi/info?dataset=HOUSEKEEPING&parameters=mode,mode_name,uptime").json()
    fills = [p["fill"] for p in info["parameters"][1:]]
    assert fills == ["-2147483648", "UNDEFINED", "NaN"]
    rows = list(csv.reader(io.StringIO(c.get(
        "/hapi/data?dataset=HOUSEKEEPING&start=2026-10-01&stop=2026-10-02&parameters=mode,mode_name,uptime").text)))
    assert [r[1:] for r in rows[:3]] == [fills] * 3
    assert all(r[1] != "-2147483648" and r[2] != "UNDEFINED" and r[3] != "NaN" for r in rows[3:]) and len(rows) == 5


def test_a_derived_name_that_would_shadow_a_field_is_refused():
    from construct import Int8ub

    from ground.hapi.datasets import packet_dataset
    from protocol.model import Field, TelemetryPacket

    clash = TelemetryPacket("CLASH", 0x02F, (Field("mode", Int8ub, states={0: "A"}), Field("MODE_NAME", Int8ub)))
    with pytest.raises(ValueError, match="clash"):
        packet_dataset(clash, DICTIONARY)


def test_segments_replaced_by_a_compaction_during_a_request_are_neither_lost_nor_repeated(tmp_path):
    from ground.archive_layout import arrow_schema
    from ground.hapi.archive_scan import ScanCounters, list_partitions, scan

    hk = DICTIONARY.telemetry["HOUSEKEEPING"]
    t0 = np.datetime64("2026-12-01T00:00:00", "ns").astype(np.int64)
    times = t0 + np.arange(300, dtype=np.int64) * 10**9
    small = [write_segment(tmp_path, hk, synthetic_table(hk, times[i:i + 100]), f"part-{i}") for i in (0, 100, 200)]
    stale = list_partitions(tmp_path, "HOUSEKEEPING")  # the request listed the day here...
    counters = ScanCounters()
    batches = scan(tmp_path, "HOUSEKEEPING", arrow_schema(hk), int(t0), int(t0 + 86_400 * 10**9), ["seq"],
                   counters, 40, stale)
    got = [next(batches)]  # ...and has sent its first batch when the compaction replaces the segments
    write_segment(tmp_path, hk, synthetic_table(hk, times), "compacted")
    for p in small:
        p.unlink()
    got += list(batches)
    served = np.concatenate([b.column("time").cast(pa.int64()).to_numpy() for b in got])
    assert served.tolist() == times.tolist() and counters.unreadable_files == 0
