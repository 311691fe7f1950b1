"""The HAPI server over an archive written by the real ground ingest (``ground.archive``):
packets encoded with the codec, flushed into segments, compacted; every packet is served once,
with the values that were sent, and new flushes are served by the next request."""
from __future__ import annotations

import json
import shutil

import pytest
from starlette.testclient import TestClient

from ground import archive_layout as layout
from ground.archive import Archive
from ground.hapi.app import ServerConfig, create_app
from protocol.codec import Codec
from protocol.opals import DICTIONARY
from protocol.time_codes import unix_to_tai

T0 = 1_780_000_000  # 2026-05-28T20:26:40Z
HK = DICTIONARY.telemetry["HOUSEKEEPING"]


def _values(i: int) -> dict:
    return {"mode": i % 12, "laser_state": i % 5, "cmd_accepted": i, "cmd_rejected": 2 * i,
            "temp_laser": 20.0 + i * 0.25, "temp_gimbal": -5.5, "temp_electronics": 30.0, "bus_voltage": 28.0,
            "bus_current": 1.5, "laser_current": 0.0, "uptime": 100_000 + i}


def _append(archive: Archive, codec: Codec, first: int, count: int) -> None:
    archive.append([codec.encode_tm("HOUSEKEEPING", _values(i), i % 16384, unix_to_tai(T0 + i))
                    for i in range(first, first + count)])
    archive.flush()


@pytest.fixture
def ingest(tmp_path):
    archive = Archive(tmp_path, DICTIONARY, durable=False)
    yield archive, Codec(DICTIONARY)


def _served(client: TestClient) -> list[list]:
    r = client.get("/hapi/data?dataset=HOUSEKEEPING&start=2026-05-28&stop=2026-05-29&format=json"
                   "&parameters=seq,mode,mode_name,cmd_accepted,temp_laser,uptime")
    return r.json()["data"]


def test_packets_ingested_by_the_ground_archive_are_served_once_with_their_values(ingest, tmp_path):
    archive, codec = ingest
    for k in range(4):  # four flushes: four segments in the day partition
        _append(archive, codec, 50 * k, 50)
    client = TestClient(create_app(ServerConfig(tmp_path)))
    rows = _served(client)
    modes = HK.field("mode").states
    assert rows == [[f"{_iso(T0 + i)}", i, i % 12, modes[i % 12], i, 20.0 + i * 0.25, 100_000 + i] for i in range(200)]

    day = layout.day_dirs(tmp_path, "HOUSEKEEPING")[0][1]
    small = sorted(day.glob("seg-*.parquet"))
    kept = tmp_path / "kept"
    kept.mkdir()
    for p in small:
        shutil.copy(p, kept / p.name)
    assert archive.compact(min_segments=2) >= 2
    for p in kept.iterdir():  # a compaction interrupted before deleting the small segments
        shutil.copy(p, day / p.name)
    assert len(list(day.glob("seg-*.parquet"))) == len(small) + 1
    assert _served(client) == rows  # superseded segments are not served twice

    _append(archive, codec, 200, 25)  # the pass goes on: the next flush is served at once
    assert len(_served(client)) == 225


def _iso(unix: int) -> str:
    import datetime as dt
    return dt.datetime.fromtimestamp(unix, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000000000Z")


def test_info_of_an_ingested_archive(ingest, tmp_path):
    archive, codec = ingest
    _append(archive, codec, 0, 10)
    info = TestClient(create_app(ServerConfig(tmp_path))).get("/hapi/info?dataset=HOUSEKEEPING").json()
    assert (info["startDate"], info["stopDate"]) == ("2026-05-28T00:00:00Z", "2026-05-29T00:00:00Z")
    assert json.dumps(info)  # plain JSON
