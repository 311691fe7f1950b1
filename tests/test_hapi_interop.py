"""The server as a real process on a loopback port: the real ``hapiclient`` reads it (binary and
CSV, cache off) and gets exactly what the archive holds; ``opals-ground hapi get`` imports from
it; new segments show up while it runs; 50 concurrent clients and a stream of malformed requests
get right answers or clean errors, never a 500, and the server stays up."""
from __future__ import annotations

import random
import socket
import subprocess
import sys
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from hapiclient import hapi

from ground.hapi.synthetic_archive import synthetic_table, write_segment
from ground.hapi.timefmt import format_times
from hapi_helpers import archive_table, build_archive, live_server
from protocol.opals import DICTIONARY

START, STOP = "2026-03-01T22:00:00Z", "2026-03-02T02:00:00Z"  # crosses a day partition


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    return build_archive(tmp_path_factory.mktemp("hapi-interop"))


@pytest.fixture(scope="module")
def server(archive):
    with live_server(archive) as url:
        yield url


def _expected(archive, packet, start=START, stop=STOP):
    return archive_table(archive, packet, start.rstrip("Z"), stop.rstrip("Z"))


@pytest.mark.parametrize("fmt", ["binary", "csv"])
def test_hapiclient_gets_exactly_what_the_archive_holds(server, archive, fmt):
    data, meta = hapi(server, "HOUSEKEEPING", "", START, STOP, logging=False, cache=False, usecache=False,
                      format=fmt)
    table = _expected(archive, "HOUSEKEEPING")
    assert len(data) == table.num_rows == 4 * 3600
    assert data["Time"].tolist() == format_times(table.column("time").cast(pa.int64()).to_numpy()).tolist()
    hk = DICTIONARY.telemetry["HOUSEKEEPING"]
    for f in hk.fields:
        assert data[f.name].tolist() == table.column(f.name).to_numpy().astype(data[f.name].dtype).tolist(), f.name
    states = hk.field("mode").states
    assert data["mode_name"].tolist() == [states[v] for v in table.column("mode").to_pylist()]
    assert data["tai"].tolist() == table.column("tai").to_pylist()


def test_hapiclient_reads_strings_and_messages_of_events(server, archive):
    data, _ = hapi(server, "EVENT", "event_name,message", "2026-03-01", "2026-03-02", logging=False, cache=False,
                   usecache=False)
    table = _expected(archive, "EVENT", "2026-03-01", "2026-03-02")
    events = {e.event_id: e for e in DICTIONARY.events.values()}
    assert data["event_name"].tolist() == [events[i].name for i in table.column("event_id").to_pylist()]
    assert data["message"].tolist() == [events[r["event_id"]].render([r[f"arg{i}"] for i in range(4)])
                                        for r in table.to_pylist()]


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ground.cli", *args], capture_output=True, text=True, timeout=120)


def test_hapi_get_imports_another_servers_data_into_the_archive_layout(server, archive, tmp_path):
    soc = tmp_path / "soc"
    done = _cli("hapi", "get", server, "SAFETY", "2026-03-01T10Z", "2026-03-01T11Z", "--parameters",
                "status_word,arm_remaining", "--archive", str(soc))
    assert done.returncode == 0, done.stderr
    port = urllib.parse.urlsplit(server).port
    base = soc / "parquet" / "imported" / f"127.0.0.1_{port}_hapi" / "SAFETY"
    assert [p.name for p in base.iterdir()] == ["date=2026-03-01"]
    imported = ds.dataset(base, format="parquet").to_table().sort_by("time")
    expected = _expected(archive, "SAFETY", "2026-03-01T10:00:00", "2026-03-01T11:00:00")
    assert imported.column_names == ["time", "tai", "status_word", "arm_remaining"]
    assert imported.column("time").equals(expected.column("time"))
    assert imported.column("tai").to_pylist() == expected.column("tai").to_pylist()
    assert imported.column("status_word").to_pylist() == expected.column("status_word").to_pylist()
    assert imported.column("arm_remaining").to_pylist() == expected.column("arm_remaining").cast(pa.float64()).to_pylist()
    assert imported.schema.field("arm_remaining").metadata[b"units"] == b"s"
    again = _cli("hapi", "get", server, "SAFETY", "2026-03-01T10Z", "2026-03-01T11Z", "--parameters",
                 "status_word,arm_remaining", "--archive", str(soc))
    assert again.returncode == 0 and ds.dataset(base, format="parquet").count_rows() == 3600  # replaced, not doubled


def test_hapi_get_writes_csv_and_parquet_files(server, archive, tmp_path):
    for name, chunk in (("acks.csv", "1"), ("acks.parquet", "0.25")):  # one window; four windows
        out = tmp_path / name
        done = _cli("hapi", "get", server, "COMMAND_ACK", "2026-03-01", "2026-03-02", "--format", "csv",
                    "--chunk-days", chunk, "-o", str(out))
        assert done.returncode == 0, done.stderr
        table = pacsv.read_csv(out) if name.endswith(".csv") else pq.read_table(out)
        expected = _expected(archive, "COMMAND_ACK", "2026-03-01", "2026-03-02")
        assert table.column("opcode").to_pylist() == expected.column("opcode").to_pylist()
        assert table.column("reason_name").to_pylist() == [DICTIONARY.telemetry["COMMAND_ACK"].field("reason").states[v]
                                                           for v in expected.column("reason").to_pylist()]
    bad = _cli("hapi", "get", server, "NOPE", "2026-03-01", "2026-03-02", "-o", str(tmp_path / "x.csv"))
    assert bad.returncode == 1 and "unknown dataset id" in bad.stderr


def test_segments_written_while_the_server_runs_are_served_seconds_later(tmp_path):
    hk = DICTIONARY.telemetry["TRACKING"]
    t0 = np.datetime64("2026-04-10T12:00:00", "ns").astype(np.int64)
    write_segment(tmp_path, hk, synthetic_table(hk, t0 + np.arange(100) * 10**8), "pass-0000")
    with live_server(tmp_path) as url:
        q = f"{url}/data?dataset=TRACKING&start=2026-04-10T12Z&stop=2026-04-10T13Z&parameters=az"
        assert len(httpx.get(q).text.splitlines()) == 100
        for k in range(1, 4):  # the ingest closes a segment every 10 s of the pass
            write_segment(tmp_path, hk, synthetic_table(hk, t0 + (100 * k + np.arange(100)) * 10**8), f"pass-{k:04d}")
            data, _ = hapi(url, "TRACKING", "az", "2026-04-10T12Z", "2026-04-10T13Z", logging=False, cache=False,
                           usecache=False)
            assert len(data) == 100 * (k + 1)


def _malformed_requests(url: str, rng: random.Random) -> list[str]:
    junk = ["", "%", "%zz", "\u00e9", "2026-02-30", "2026-366", "9999-99-99T99", "1e9", ",", ",,", "Time,Time",
            "../../etc/passwd", "'; DROP TABLE", "A" * 5000, "2026-03-01T00:00:00.0000000000Z", "-1", "null"]
    names = ["dataset", "id", "start", "stop", "parameters", "format", "include", "depth", "time.min", "bogus"]
    out = []
    for _ in range(150):
        endpoint = rng.choice(["data", "info", "catalog", "about", "x", "data/", "info//"])
        params = "&".join(f"{rng.choice(names)}={urllib.parse.quote(rng.choice(junk))}" for _ in range(rng.randint(0, 5)))
        out.append(f"{url}/{endpoint}?{params}")
    return out


def test_fifty_concurrent_clients_and_malformed_requests(server, archive):
    table = _expected(archive, "HOUSEKEEPING", "2026-03-01T00:00:00", "2026-03-02T00:00:00")
    uptime = table.column("uptime").to_numpy()
    times = format_times(table.column("time").cast(pa.int64()).to_numpy())

    def client(i: int) -> str:
        lo = i * 1000
        n = 500 + i
        start, stop = times[lo].decode(), times[lo + n].decode()
        with httpx.Client(timeout=60) as c:
            for fmt in ("binary", "csv"):
                r = c.get(f"{server}/data", params={"dataset": "HOUSEKEEPING", "start": start, "stop": stop,
                                                    "parameters": "uptime", "format": fmt})
                if r.status_code != 200:
                    return f"client {i}: HTTP {r.status_code}"
                if fmt == "binary":
                    rec = np.frombuffer(r.content, dtype=[("t", "S30"), ("u", "<f8")])
                    got_t, got_u = rec["t"].tolist(), rec["u"].tolist()
                else:
                    rows = [line.split(",") for line in r.text.splitlines()]
                    got_t, got_u = [x[0].encode() for x in rows], [float(x[1]) for x in rows]
                if got_t != times[lo:lo + n].tolist() or got_u != uptime[lo:lo + n].astype(float).tolist():
                    return f"client {i}: wrong data in {fmt}"
        return "ok"

    def hostile(seed: int) -> list[int]:
        rng = random.Random(seed)
        codes = []
        with httpx.Client(timeout=30) as c:
            for u in _malformed_requests(server, rng):
                codes.append(c.get(u).status_code)
        host, port = urllib.parse.urlsplit(server).hostname, urllib.parse.urlsplit(server).port
        for garbage in (b"\x00\xff" * 100, b"GET /hapi/data?dataset=" + b"A" * 70000 + b" HTTP/1.1\r\n\r\n",
                        b"GET /hapi HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", b"GET /hapi/cat"):
            with socket.create_connection((host, port), timeout=5) as s:
                s.sendall(garbage)
                try:
                    s.recv(1024)
                except OSError:
                    pass
        return codes

    with ThreadPoolExecutor(max_workers=52) as pool:
        hostile_runs = [pool.submit(hostile, seed) for seed in (1, 2)]
        results = list(pool.map(client, range(50)))
        codes = [c for h in hostile_runs for c in h.result()]
    assert results == ["ok"] * 50
    assert 500 not in codes and set(codes) <= {200, 301, 400, 404}
    assert httpx.get(f"{server}/capabilities").status_code == 200
