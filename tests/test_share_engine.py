"""Jobs end to end through the chain and the sandbox, on the embedded process pool and on a real
Dask distributed cluster (LocalCluster, 2 worker processes): the results are byte-identical."""
from __future__ import annotations

import json
import textwrap

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from ground.share.chain import compose
from ground.share.engine import JobCode, JobFailed, LocalEngine, execute, open_engine
from ground.share.maps import ModifyingMap, Predicate, Transform
from ground.share.scan import packet_schema, work_units
from ground.share.synthetic import write_archive
from protocol.opals import DICTIONARY

SCHEMA = packet_schema(DICTIONARY, "TRACKING")
MAPREDUCE = textwrap.dedent("""
    def map(record):
        yield record["track_state"] % 4, record["err_total"]

    def reduce(key, values):
        return {"n": len(values), "max": max(values)}
""")
BATCHES = textwrap.dedent("""
    import pyarrow.compute as pc

    def map(batch):
        return {"frames": [pc.sum(batch["frame_count"]).as_py()], "rows": [batch.num_rows]}
""")
PROVIDER = ModifyingMap(columns=("time", "track_state", "err_total", "frame_count", "az", "el"))
PARTNER = ModifyingMap(filters=(Predicate("err_total", "<", 25.0),),
                       transforms=(Transform("time", "round_time", seconds=1),))


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    root = tmp_path_factory.mktemp("archive")
    write_archive(root, DICTIONARY.telemetry["TRACKING"], 1000, days=2, rate_hz=10.0, row_group_size=500)
    return root


@pytest.fixture(scope="module")
def dask_address():
    import distributed  # a dev dependency: its absence must fail, not skip

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  worker_dashboard_address=None) as cluster:
        yield cluster.scheduler_address


@pytest.fixture(scope="module")
def local_engine():
    engine = LocalEngine(2)
    yield engine
    engine.close()


def expected_rows(root, maps) -> pa.Table:
    plan = compose(SCHEMA, maps)
    return plan.apply_all(pa.concat_tables(pq.read_table(u.path) for u in
                                           {u.path: u for u in work_units(root, "TRACKING")}.values()).select(SCHEMA.names))


@pytest.mark.parametrize("kind,code", [("mapreduce", MAPREDUCE), ("batches", BATCHES)])
def test_local_and_dask_give_identical_results(archive, dask_address, local_engine, tmp_path, kind, code):
    plan = compose(SCHEMA, [PROVIDER, PARTNER])
    units = work_units(archive, "TRACKING")
    assert len(units) == 4
    dask = open_engine(dask_address.replace("tcp://", "dask://"))  # what `serve --engine` takes
    try:
        local_stats = execute(plan, units, JobCode(kind, code), local_engine, tmp_path / "local")
        dask_stats = execute(plan, units, JobCode(kind, code), dask, tmp_path / "dask")
    finally:
        dask.close()
    assert (tmp_path / "local").read_bytes() == (tmp_path / "dask").read_bytes()
    assert local_stats == dask_stats
    kept = expected_rows(archive, [PROVIDER, PARTNER])
    assert local_stats.records == kept.num_rows < 2000
    if kind == "mapreduce":
        result = [json.loads(line) for line in (tmp_path / "local").read_text().splitlines()]
        assert sum(r["value"]["n"] for r in result) == kept.num_rows
        assert max(r["value"]["max"] for r in result) == pytest.approx(pc.max(kept["err_total"]).as_py())
    else:
        table = pa.ipc.open_stream((tmp_path / "local").read_bytes()).read_all()
        assert table.num_rows == 4 and sum(table["rows"].to_pylist()) == kept.num_rows
        assert sum(table["frames"].to_pylist()) == pc.sum(kept["frame_count"]).as_py()


def test_analyst_code_receives_only_what_passed_every_map(archive, local_engine, tmp_path):
    spy = textwrap.dedent("""
        def map(record):
            yield "columns", sorted(record)
            yield "worst", record["err_total"]

        def reduce(key, values):
            return values[0] if key == "columns" else max(values)
    """)
    plan = compose(SCHEMA, [PROVIDER, PARTNER, ModifyingMap(columns=("time", "err_total"))])
    execute(plan, work_units(archive, "TRACKING"), JobCode("mapreduce", spy), local_engine, tmp_path / "r")
    result = {r["key"]: r["value"] for r in map(json.loads, (tmp_path / "r").read_text().splitlines())}
    assert result["columns"] == ["err_total", "time"]
    assert result["worst"] < 25.0


def test_failing_analyst_code_fails_the_job_with_the_reason(archive, local_engine, tmp_path):
    bad = "def map(record):\n    return 1 / 0\n\ndef reduce(key, values):\n    return None\n"
    with pytest.raises(JobFailed, match="ZeroDivisionError"):
        execute(compose(SCHEMA, [PROVIDER]), work_units(archive, "TRACKING")[:1], JobCode("mapreduce", bad),
                local_engine, tmp_path / "r")
    assert not (tmp_path / "r").exists()


def test_a_filter_that_keeps_nothing_never_starts_a_sandbox(archive, local_engine, tmp_path):
    nothing = ModifyingMap(filters=(Predicate("frame_count", ">", 10**9),))
    stats = execute(compose(SCHEMA, [PROVIDER, nothing]), work_units(archive, "TRACKING"),
                    JobCode("mapreduce", "this is not python"), local_engine, tmp_path / "r")
    assert stats.records == 0 and (tmp_path / "r").read_bytes() == b""


def test_service_runs_jobs_on_dask_with_engine_option(archive, dask_address, local_engine, tmp_path):
    """``opals-ground share serve --engine dask://host:port``: analysts use the REST API as usual."""
    import httpx

    from share_helpers import Authority, bearer, start_party, wait_job
    authority = Authority.create()
    party = start_party({"name": "soc-dask", "database": "db.sqlite", "results": "results", "archive": str(archive),
                         "trust": {authority.name: str(authority.write_public(tmp_path))},
                         "sources": [{"name": "tracking", "packet": "TRACKING", "map": PROVIDER.to_dict(),
                                      "run_attrs": ["partner"]}]},
                        tmp_path, engine=dask_address.replace("tcp://", "dask://"))
    try:
        with httpx.Client(base_url=party.url, headers=bearer(authority.token("alice", "partner")), timeout=60) as c:
            job = wait_job(c, c.post("/jobs", json={"source": "tracking", "kind": "mapreduce", "code": MAPREDUCE,
                                                    "wrap": [PARTNER.to_dict()]}).json()["id"])
            assert job["state"] == "completed", job["reason"]
            assert job["engine"].startswith("dask://")
            via_service = c.get(f"/jobs/{job['id']}/result").content
    finally:
        party.stop()
    execute(compose(SCHEMA, [PROVIDER, PARTNER]), work_units(archive, "TRACKING"), JobCode("mapreduce", MAPREDUCE),
            local_engine, tmp_path / "local")
    assert via_service == (tmp_path / "local").read_bytes()
