"""Data sharing (issue 7): what a chain of modifying maps costs, what pushing its filters into the
Parquet scan saves, and job throughput (records/s through chain + sandbox) on Dask.

Same analyst job throughout (a per-record Python map/reduce, run in the bubblewrap sandbox) over
400k TRACKING records in 2 row groups (2 units, one per pool process). The peer of each
comparison is the same job on the provider's unfiltered source, run interleaved with ours (in the
untimed setup of every round) because this 2-core machine is shared and its load drifts. Wall
medians and CPU medians (trusted side + the sandbox's own) are both reported; the targets are
checked on CPU, which contention does not distort:
- chain of three maps whose filters pass everything (plus a unit conversion and a time rounding):
  must cost < 10% more (min_ratio 0.91);
- the same chain keeping 10% of rows (filter on a uniformly random column, so no row group can be
  skipped by its statistics: the worst case for pushdown): must be >= 3x faster.
"""
from __future__ import annotations

import statistics
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from ground.share.chain import compose
from ground.share.engine import DaskEngine, JobCode, LocalEngine, execute
from ground.share.maps import ModifyingMap, Predicate, Transform
from ground.share.scan import packet_schema, work_units
from ground.share.synthetic import write_archive
from protocol.opals import DICTIONARY

ROWS = 400_000
ROUNDS = 7
SCHEMA = packet_schema(DICTIONARY, "TRACKING")
JOB = JobCode("mapreduce", textwrap.dedent("""
    def map(record):
        yield record["track_state"], record["err_total"]

    def reduce(key, values):
        return {"n": len(values), "mean": sum(values) / len(values)}
"""))
COLUMNS = ("time", "track_state", "az", "el", "err_total", "frame_count")
PROVIDER = ModifyingMap(columns=COLUMNS)


def chain(keep_fraction: float) -> list[ModifyingMap]:
    """Provider + two resellers; frame_count is uniform in [0, 1000]."""
    limit = 10**9 if keep_fraction >= 1 else int(1000 * keep_fraction)
    return [PROVIDER,
            ModifyingMap(filters=(Predicate("frame_count", "<", limit),),
                         transforms=(Transform("err_total", "scale", factor=1e-3, units="mrad"),)),
            ModifyingMap(filters=(Predicate("track_state", ">=", 0),),
                         transforms=(Transform("time", "round_time", seconds=0.1),))]


@pytest.fixture(scope="module")
def archive():
    with tempfile.TemporaryDirectory(prefix="bench-share-") as d:
        write_archive(d, DICTIONARY.telemetry["TRACKING"], ROWS, rate_hz=10.0, row_group_size=ROWS // 2)
        yield Path(d)


@pytest.fixture(scope="module")
def local_engine():
    engine = LocalEngine(2)
    yield engine
    engine.close()


def _runner(archive: Path, maps, engine):
    plan = compose(SCHEMA, maps)
    units = work_units(archive, "TRACKING")
    out = archive / "result.jsonl"
    return lambda: execute(plan, units, JOB, engine, out)


class Interleaved:
    """Runs the peer job in pytest-benchmark's (untimed) setup before every timed round of ours, so
    both see the same machine load (this 2-core machine is shared); keeps wall and CPU per run."""

    def __init__(self, ours, peer) -> None:
        self.ours_fn, self.peer_fn = ours, peer
        self.peer_wall: list[float] = []
        self.peer_cpu: list[float] = []
        self.ours_cpu: list[float] = []
        self.stats = None

    def setup(self):
        t0 = time.perf_counter()
        stats = self.peer_fn()
        self.peer_wall.append(time.perf_counter() - t0)
        self.peer_cpu.append(stats.cpu_seconds)

    def ours(self):
        self.stats = self.ours_fn()
        self.ours_cpu.append(self.stats.cpu_seconds)
        return self.stats

    def report(self, benchmark, target_ratio: float, peer_name: str) -> tuple[float, float]:
        """(wall ratio, CPU ratio) = peer time / ours time, medians (the warm-up round dropped)."""
        self.peer_wall, self.peer_cpu, self.ours_cpu = self.peer_wall[1:], self.peer_cpu[1:], self.ours_cpu[1:]
        wall = statistics.median(self.peer_wall) / benchmark.stats.stats.median
        cpu = statistics.median(self.peer_cpu) / statistics.median(self.ours_cpu)
        benchmark.extra_info.update(
            role="ours", items=self.stats.records, unit="records", peer=peer_name,
            peer_median_s=round(statistics.median(self.peer_wall), 3), wall_ratio=round(wall, 2),
            cpu_median_s=round(statistics.median(self.ours_cpu), 3),
            peer_cpu_median_s=round(statistics.median(self.peer_cpu), 3), cpu_ratio=round(cpu, 2),
            target_ratio=target_ratio)
        return wall, cpu


@pytest.mark.benchmark(group="share: chain of 3 maps, filters pass all (vs unfiltered source)")
def test_chain_passing_everything(benchmark, archive, local_engine):
    run = Interleaved(_runner(archive, chain(1.0), local_engine), _runner(archive, [PROVIDER], local_engine))
    benchmark.pedantic(run.ours, setup=run.setup, rounds=ROUNDS, warmup_rounds=1)
    assert run.stats.records == ROWS
    wall, cpu = run.report(benchmark, 1 / 1.1, "same job on the unfiltered provider source")
    assert cpu >= 1 / 1.1, f"chain adds {1 / cpu - 1:.0%} CPU (target < 10%)"


@pytest.mark.benchmark(group="share: chain keeping 10% (vs unfiltered source)")
def test_chain_keeping_ten_percent(benchmark, archive, local_engine):
    run = Interleaved(_runner(archive, chain(0.1), local_engine), _runner(archive, [PROVIDER], local_engine))
    benchmark.pedantic(run.ours, setup=run.setup, rounds=ROUNDS, warmup_rounds=1)
    assert 0.08 * ROWS < run.stats.records < 0.12 * ROWS
    wall, cpu = run.report(benchmark, 3.0, "same job on the unfiltered provider source")
    assert cpu >= 3.0, f"only {cpu:.1f}x less CPU (target >= 3x)"


@pytest.mark.benchmark(group="share: Dask throughput (chain + sandbox)")
@pytest.mark.parametrize("workers", [1, 2])
def test_dask_throughput(benchmark, archive, workers):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        engine = DaskEngine(cluster.scheduler_address)
        try:
            stats = benchmark.pedantic(_runner(archive, chain(1.0), engine), rounds=3, warmup_rounds=1)
        finally:
            engine.close()
    benchmark.extra_info.update(role="ours" if workers == 1 else "peer", items=stats.records, unit="records",
                                workers=workers, cpu_s=round(stats.cpu_seconds, 2))
