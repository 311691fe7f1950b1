"""The marketplace for real: a provider, a reseller and a reseller of that reseller, each an
``opals-ground share serve`` process on loopback, with analysts using the REST API and the CLI."""
from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
import time

import httpx
import psutil
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from ground.share.synthetic import write_archive
from protocol.opals import DICTIONARY

from share_helpers import Authority, bearer, start_party, wait_job

COUNT_BY_STATE = textwrap.dedent("""
    def map(record):
        yield record["track_state"], record["err_total"]

    def reduce(key, values):
        return {"n": len(values), "max": max(values)}
""")
POINTING = ["time", "az", "el", "az_cmd", "el_cmd", "err_x", "err_y", "err_total", "track_state"]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    base = tmp_path_factory.mktemp("share")
    archive = base / "archive"
    write_archive(archive, DICTIONARY.telemetry["HOUSEKEEPING"], 600, days=1)
    write_archive(archive, DICTIONARY.telemetry["TRACKING"], 2000, days=1, rate_hz=10.0, row_group_size=1000)
    write_archive(archive, DICTIONARY.telemetry["SAFETY"], 300, days=1)
    authority = Authority.create("opals-authority")
    pub = authority.write_public(base)
    tokens = {
        "alice": authority.token("alice", "public", "partner"),
        "bob": authority.token("bob", "public"),
        "carol": authority.token("carol", "public", "partner", "team"),
        "reseller": authority.token("reseller", "partner"),
        "reseller2": authority.token("reseller2", "public"),
    }
    provider = start_party({
        "name": "soc", "database": "soc.sqlite", "results": "soc-results", "archive": str(archive),
        "trust": {authority.name: str(pub)}, "limits": {"wall_seconds": 60},
        "sources": [
            {"name": "hk-public", "packet": "HOUSEKEEPING", "description": "housekeeping, 1-minute averages",
             "map": {"columns": ["time", "temp_laser", "temp_gimbal", "temp_electronics", "bus_voltage",
                                 "bus_current"], "average_seconds": 60},
             "see_attrs": [], "run_attrs": ["public"]},
            {"name": "tracking-partners", "packet": "TRACKING", "description": "full rate, pointing only",
             "map": {"columns": POINTING}, "see_attrs": ["partner"], "run_attrs": ["partner"]},
            {"name": "safety-team", "packet": "SAFETY", "see_attrs": ["team"], "run_attrs": ["team"]},
        ]}, base / "soc")
    reseller = start_party({
        "name": "reseller", "database": "r.sqlite", "results": "r-results",
        "trust": {authority.name: str(pub)}, "upstream_tokens": {provider.url: tokens["reseller"]},
        "sources": [{"name": "tracking-good", "upstream_url": provider.url, "upstream_source": "tracking-partners",
                     "map": {"filters": [["err_total", "<", 25.0]], "columns": ["time", "err_total", "az", "el",
                                                                                 "track_state"],
                             "transforms": [{"column": "time", "kind": "round_time", "seconds": 1}]},
                     "see_attrs": [], "run_attrs": ["public"]}]}, base / "reseller")
    reseller_c = start_party({
        "name": "reseller-c", "database": "c.sqlite", "results": "c-results",
        "trust": {authority.name: str(pub)}, "upstream_tokens": {reseller.url: tokens["reseller2"]},
        "sources": [{"name": "tracking-c", "upstream_url": reseller.url, "upstream_source": "tracking-good",
                     # asks for rows and columns its upstream withholds: gets nothing more
                     "map": {"filters": [["err_total", "<", 1000.0]],
                             "columns": ["time", "err_total", "track_state", "laser_state", "frame_count"]},
                     "see_attrs": [], "run_attrs": ["public"]}]}, base / "reseller-c")
    yield {"base": base, "archive": archive, "authority": authority, "tokens": tokens, "provider": provider,
           "reseller": reseller, "reseller_c": reseller_c}
    for p in (reseller_c, reseller, provider):
        p.stop()


def client(party, token) -> httpx.Client:
    return httpx.Client(base_url=party.url, headers=bearer(token), timeout=60)


def tracking(world) -> pa.Table:
    return pq.read_table(next((world["archive"] / "parquet" / "TRACKING").glob("*/*.parquet")))


def test_openapi_description(world):
    spec = httpx.get(world["provider"].url + "/openapi.json").json()
    assert {"/catalogue", "/catalogue/{name}", "/jobs", "/jobs/{job_id}", "/jobs/{job_id}/result"} <= set(spec["paths"])


def test_requests_without_a_valid_assertion_are_refused_with_the_reason(world):
    url = world["provider"].url
    assert httpx.get(url + "/catalogue").status_code == 401
    header, payload, sig = world["tokens"]["bob"].split(".")
    r = httpx.get(url + "/catalogue", headers=bearer(f"{header}.{payload}.{sig[:-4]}AAAA"))
    assert r.status_code == 401 and "signature does not verify" in r.json()["detail"]
    stranger = Authority.create("unknown-authority")
    r = httpx.get(url + "/catalogue", headers=bearer(stranger.token("eve", "team")))
    assert r.status_code == 401 and "unknown issuer" in r.json()["detail"]


def test_catalogue_lists_only_what_the_caller_may_see(world):
    with client(world["provider"], world["tokens"]["bob"]) as c:
        assert [e["name"] for e in c.get("/catalogue").json()] == ["hk-public"]
        assert c.get("/catalogue/safety-team").status_code == 404
    with client(world["provider"], world["tokens"]["carol"]) as c:
        entries = {e["name"]: e for e in c.get("/catalogue").json()}
    assert set(entries) == {"hk-public", "tracking-partners", "safety-team"}
    hk = entries["hk-public"]
    assert hk["chain"] == ["soc"] and hk["required"] == {"see": [], "run": ["public"]}
    assert hk["rows_at_most"] == 600
    assert [f["name"] for f in hk["schema"]] == ["time", "temp_laser", "temp_gimbal", "temp_electronics",
                                                  "bus_voltage", "bus_current", "n"]
    assert len(hk["sample"]) == 5 and all(list(row) == [f["name"] for f in hk["schema"]] for row in hk["sample"])
    assert sorted(f["name"] for f in entries["tracking-partners"]["schema"]) == sorted(POINTING)


def test_reseller_catalogues_show_the_chain_and_only_narrow(world):
    with client(world["reseller_c"], world["tokens"]["bob"]) as c:
        [entry] = c.get("/catalogue").json()
    assert entry["chain"] == ["soc", "reseller", "reseller-c"]
    assert [f["name"] for f in entry["schema"]] == ["time", "track_state", "err_total"]  # laser_state etc. withheld
    assert entry["required"]["run"] == ["public"]


def test_provider_job_runs_and_streams_its_result(world):
    with client(world["provider"], world["tokens"]["alice"]) as c:
        job = c.post("/jobs", json={"source": "tracking-partners", "kind": "mapreduce", "code": COUNT_BY_STATE}).json()
        assert job["state"] == "pending"
        job = wait_job(c, job["id"])
        assert job["state"] == "completed", job["reason"]
        assert job["records"] == 2000
        with c.stream("GET", f"/jobs/{job['id']}/result") as r:
            assert r.headers["content-type"].startswith("application/x-ndjson")
            lines = [json.loads(line) for line in r.iter_lines() if line]
    t = tracking(world)
    expected = {k: v for k, v in zip(*pc.value_counts(t["track_state"]).flatten())}
    assert {row["key"]: row["value"]["n"] for row in lines} == {k.as_py(): v.as_py() for k, v in expected.items()}


def test_jobs_are_rejected_with_reasons(world):
    with client(world["provider"], world["tokens"]["bob"]) as c:
        def submit(**kw):
            body = {"source": "hk-public", "kind": "mapreduce", "code": COUNT_BY_STATE} | kw
            return c.post("/jobs", json=body).json()
        assert c.post("/jobs", json={"source": "tracking-partners", "kind": "mapreduce",
                                     "code": COUNT_BY_STATE}).status_code == 404  # not even visible to bob
        assert "parse" in submit(code="def map(:")["reason"]
        assert "reduce" in submit(code="def map(r):\n    return []\n")["reason"]
        assert "kind" in submit(kind="spark")["reason"]
        bad_wrap = submit(wrap=[{"filters": [["laser_current", ">", 1]]}])
        assert bad_wrap["state"] == "rejected" and "laser_current" in bad_wrap["reason"]
        custom = submit(wrap=[{"transforms": [{"column": "n", "kind": "custom", "function": "os:system"}]}])
        assert custom["state"] == "rejected" and "custom" in custom["reason"]
        assert all(j["state"] == "rejected" for j in c.get("/jobs").json())
    with client(world["provider"], world["tokens"]["carol"]) as c:
        job = c.post("/jobs", json={"source": "hk-public", "kind": "mapreduce", "code": COUNT_BY_STATE}).json()
        assert job["state"] == "pending"


def test_missing_run_attribute_rejects(world):
    token = world["authority"].token("dave")  # no attributes at all
    with client(world["provider"], token) as c:
        job = c.post("/jobs", json={"source": "hk-public", "kind": "mapreduce", "code": COUNT_BY_STATE}).json()
    assert job["state"] == "rejected" and job["reason"].endswith("requires attributes: public")


def test_job_through_two_resellers(world):
    """Forwarded under each reseller's own identity, wrapped with each reseller's map."""
    with client(world["reseller_c"], world["tokens"]["bob"]) as c:
        job = c.post("/jobs", json={"source": "tracking-c", "kind": "batches",
                                    "code": "def map(batch):\n    return batch\n"}).json()
        job = wait_job(c, job["id"])
        assert job["state"] == "completed", job["reason"]
        result = pa.ipc.open_stream(c.get(f"/jobs/{job['id']}/result").content).read_all()
    t = tracking(world)
    kept = t.filter(pc.less(t["err_total"], 25.0))
    assert result.column_names == ["time", "track_state", "err_total"]
    assert result.num_rows == kept.num_rows == job["records"]
    assert all(ts.microsecond == 0 and ts.nanosecond == 0 for ts in result["time"].to_pandas())
    # the provider saw a job from the first reseller only: never bob, never reseller-c
    db = sqlite3.connect(f"file:{world['base'] / 'soc' / 'soc.sqlite'}?mode=ro", uri=True)
    owners = {row[0] for row in db.execute("SELECT owner FROM jobs WHERE kind = 'batches'")}
    db.close()
    assert owners == {"opals-authority/reseller"}
    with client(world["reseller"], world["tokens"]["bob"]) as c:
        assert c.get("/jobs").json() == []  # bob's job is reseller-c's job there, not bob's


def test_an_analyst_sees_only_their_own_jobs(world):
    with client(world["provider"], world["tokens"]["alice"]) as alice:
        job = alice.post("/jobs", json={"source": "hk-public", "kind": "mapreduce", "code": COUNT_BY_STATE}).json()
        mine = {j["id"] for j in alice.get("/jobs").json()}
    with client(world["provider"], world["tokens"]["bob"]) as bob:
        assert bob.get(f"/jobs/{job['id']}").status_code == 404
        assert bob.get(f"/jobs/{job['id']}/result").status_code == 404
        assert not mine & {j["id"] for j in bob.get("/jobs").json()}


def test_cli_catalogue_submit_status_result(world, tmp_path):
    token_file = tmp_path / "alice.jwt"
    token_file.write_text(world["tokens"]["alice"])
    code = tmp_path / "job.py"
    code.write_text("import pyarrow.compute as pc\n\ndef map(batch):\n"
                    "    return {'hot': [pc.sum(pc.greater(batch['temp_laser'], 20.0)).as_py()]}\n")
    cli = [sys.executable, "-m", "ground.cli", "share"]
    common = ["--url", world["provider"].url, "--token-file", str(token_file)]
    out = subprocess.run(cli + ["catalogue", *common], capture_output=True, text=True, check=True).stdout
    assert "hk-public" in out and "tracking-partners" in out and "safety-team" not in out
    out = subprocess.run(cli + ["submit", *common, "--source", "hk-public", "--kind", "batches", "--code", str(code),
                                "--wait", "-o", str(tmp_path / "r.arrows")], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    job = json.loads(out.stdout)
    assert job["state"] == "completed" and job["records"] == 10  # ten 1-minute averages
    assert sum(pa.ipc.open_stream((tmp_path / "r.arrows").read_bytes()).read_all()["hot"].to_pylist()) <= 10
    status = json.loads(subprocess.run(cli + ["status", *common, job["id"]], capture_output=True, text=True,
                                       check=True).stdout)
    assert status["id"] == job["id"]
    res = subprocess.run(cli + ["result", *common, job["id"]], capture_output=True, check=True).stdout
    assert res == (tmp_path / "r.arrows").read_bytes()
    bad = subprocess.run(cli + ["catalogue", "--url", world["provider"].url, "--token", "x.y.z"],
                         capture_output=True, text=True)
    assert bad.returncode != 0 and "401" in bad.stderr


def test_restart_mid_job_keeps_results_and_reports_the_interrupted_job(world, tmp_path):
    authority, archive = world["authority"], world["archive"]
    config = {"name": "soc2", "database": "soc2.sqlite", "results": "results", "archive": str(archive),
              "trust": {authority.name: str(world["base"] / f"{authority.name}.pub")},
              "sources": [{"name": "hk", "packet": "HOUSEKEEPING", "run_attrs": ["public"]}]}
    token = world["tokens"]["alice"]
    party = start_party(config, tmp_path)
    try:
        with client(party, token) as c:
            done = wait_job(c, c.post("/jobs", json={"source": "hk", "kind": "mapreduce",
                                                     "code": COUNT_BY_STATE.replace("track_state", "mode")
                                                     .replace("err_total", "temp_laser")}).json()["id"])
            assert done["state"] == "completed"
            before = c.get(f"/jobs/{done['id']}/result").content
            slow = c.post("/jobs", json={"source": "hk", "kind": "batches",
                                         "code": "import time\n\ndef map(batch):\n    time.sleep(60)\n"}).json()
            deadline = time.monotonic() + 60
            while c.get(f"/jobs/{slow['id']}").json()["state"] != "executing" and time.monotonic() < deadline:
                time.sleep(0.05)
            queued = c.post("/jobs", json={"source": "hk", "kind": "batches",
                                           "code": "def map(batch):\n    return {'n': [batch.num_rows]}\n"}).json()
        tree = psutil.Process(party.proc.pid).children(recursive=True)
        while not any(p.name() == "bwrap" for p in tree) and time.monotonic() < deadline:
            time.sleep(0.05)
            tree = psutil.Process(party.proc.pid).children(recursive=True)
        assert any(p.name() == "bwrap" for p in tree)  # the slow job's sandbox is running
        party.kill()
        _, alive = psutil.wait_procs(tree, timeout=15)
        assert not alive  # pool workers and the sandbox die with the service
        party = start_party(config, tmp_path)
        with client(party, token) as c:
            interrupted = c.get(f"/jobs/{slow['id']}").json()
            assert interrupted["state"] == "failed" and "restarted" in interrupted["reason"]
            assert c.get(f"/jobs/{done['id']}").json()["state"] == "completed"
            assert c.get(f"/jobs/{done['id']}/result").content == before
            resumed = wait_job(c, queued["id"])  # pending when killed: run after the restart
            assert resumed["state"] == "completed" and resumed["records"] == 600
    finally:
        party.stop()


def test_a_reseller_restarted_mid_job_resumes_following_its_upstream_job(world, tmp_path):
    config = {"name": "reseller-r", "database": "rr.sqlite", "results": "rr-results",
              "trust": {world["authority"].name: str(world["base"] / f"{world['authority'].name}.pub")},
              "upstream_tokens": {world["provider"].url: world["tokens"]["reseller"]},
              "sources": [{"name": "tracking", "upstream_url": world["provider"].url,
                           "upstream_source": "tracking-partners", "map": {"columns": ["time", "err_total"]},
                           "run_attrs": ["public"]}]}
    party = start_party(config, tmp_path)
    try:
        with client(party, world["tokens"]["bob"]) as c:
            job = c.post("/jobs", json={"source": "tracking", "kind": "batches",
                                        "code": "import time\n\ndef map(batch):\n    time.sleep(1.5)\n"
                                                "    return {'rows': [batch.num_rows]}\n"}).json()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # until it has been forwarded
            db = sqlite3.connect(f"file:{tmp_path / 'rr.sqlite'}?mode=ro", uri=True)
            upstream = db.execute("SELECT upstream_job FROM jobs WHERE id = ?", (job["id"],)).fetchone()[0]
            db.close()
            if upstream:
                break
            time.sleep(0.05)
        party.kill()
        party = start_party(config, tmp_path)
        with client(party, world["tokens"]["bob"]) as c:
            done = wait_job(c, job["id"])
            assert done["state"] == "completed", done["reason"]
            rows = pa.ipc.open_stream(c.get(f"/jobs/{job['id']}/result").content).read_all()["rows"].to_pylist()
        assert sum(rows) == 2000
    finally:
        party.stop()


def test_cli_reports_a_dead_party_and_bad_config_in_one_line(tmp_path):
    """A user mistake (nothing listening, missing or malformed config) is a clear message and a
    non-zero status, never a traceback."""
    garbage = tmp_path / "party.json"
    garbage.write_text("{garbage")
    cases = [(["catalogue", "--url", "http://127.0.0.1:1", "--token", "x"], 1, "cannot reach"),
             (["serve", "--config", str(tmp_path / "missing.json")], 2, "missing.json"),
             (["serve", "--config", str(garbage)], 2, "Expecting property name")]
    for args, code, message in cases:
        done = subprocess.run([sys.executable, "-m", "ground.cli", "share", *args], capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == code, (args, done.stderr)
        assert message in done.stderr and "Traceback" not in done.stderr, (args, done.stderr)
