"""HAPI server throughput: one day of 10 Hz housekeeping (864,000 records) served end to end over
loopback by a real ``opals-ground serve`` process, in binary, CSV and JSON, against in-run peers
doing the same encoding: pyarrow's own C++ CSV writer, and naive per-row Python encoders
(``csv.writer`` / ``struct.pack``, run on a tenth of the day and compared as MB/s).

Figures go to ``extra_info`` (MB/s from the median); nothing here asserts a wall-clock time."""
from __future__ import annotations

import csv
import io
import struct
import sys
from pathlib import Path

import httpx
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from ground.hapi.datasets import datasets_from_dictionary  # noqa: E402
from ground.hapi.encoders import ENCODERS  # noqa: E402
from ground.hapi.synthetic_archive import synthetic_table, write_segment  # noqa: E402
from ground.hapi.timefmt import format_times  # noqa: E402
from hapi_helpers import live_server  # noqa: E402
from protocol.opals import DICTIONARY  # noqa: E402

RECORDS = 864_000
DAY = "2026-01-01"
MB = 1e6


@pytest.fixture(scope="module")
def day_table() -> pa.Table:
    hk = DICTIONARY.telemetry["HOUSEKEEPING"]
    t0 = np.datetime64(DAY, "ns").astype(np.int64)
    return synthetic_table(hk, t0 + np.arange(RECORDS, dtype=np.int64) * 100_000_000, seed=7)


@pytest.fixture(scope="module")
def server(tmp_path_factory, day_table):
    root = tmp_path_factory.mktemp("hapi-bench")
    write_segment(root, DICTIONARY.telemetry["HOUSEKEEPING"], day_table, "day")
    with live_server(root) as url:
        yield url


def _fetch(url: str, fmt: str) -> int:
    size = 0
    with httpx.stream("GET", f"{url}/data", params={"dataset": "HOUSEKEEPING", "start": f"{DAY}Z",
                                                    "stop": "2026-01-02Z", "format": fmt},
                      headers={"Accept-Encoding": "identity"}, timeout=120) as r:
        r.raise_for_status()
        for chunk in r.iter_raw(1 << 20):
            size += len(chunk)
    return size


def _report(benchmark, size: int, records: int = RECORDS) -> None:
    median = benchmark.stats.stats.median
    benchmark.extra_info.update({"bytes": size, "records": records, "MB_per_s": round(size / MB / median, 1),
                                 "records_per_s": round(records / median)})


@pytest.mark.parametrize("fmt", ["binary", "csv", "json"])
def test_hapi_server_day_over_loopback(benchmark, server, fmt):
    size = benchmark.pedantic(_fetch, args=(server, fmt), rounds=3, iterations=1, warmup_rounds=1)
    _report(benchmark, size)


@pytest.mark.parametrize("fmt", ["binary", "csv", "json"])
def test_ours_encode_in_process(benchmark, day_table, fmt):
    """The server's compute + encode of the day, single-threaded, without scan or HTTP: the
    like-for-like figure against the in-process peers below."""
    params = list(datasets_from_dictionary(DICTIONARY)["HOUSEKEEPING"].parameters)
    batches = day_table.to_batches(max_chunksize=32_768)
    encode = ENCODERS[fmt]

    def run() -> int:
        return sum(len(encode(params, [p.compute(b) for p in params])) for b in batches)
    _report(benchmark, benchmark.pedantic(run, rounds=3, iterations=1))


def _hapi_table(table: pa.Table) -> pa.Table:
    """The same columns the server sends, as an Arrow table (time as ISO strings)."""
    cols = {"Time": pa.array(format_times(table.column("time").cast(pa.int64()).to_numpy()).astype(str))}
    for name in table.column_names[1:]:
        cols[name] = table.column(name)
    return pa.table(cols)


def test_peer_pyarrow_csv_writer(benchmark, day_table):
    table = _hapi_table(day_table)

    def write() -> int:
        buf = io.BytesIO()
        pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=False))
        return buf.tell()
    _report(benchmark, benchmark.pedantic(write, rounds=3, iterations=1))


def test_peer_naive_python_csv(benchmark, day_table):
    rows = _hapi_table(day_table.slice(0, RECORDS // 10)).to_pylist()

    def write() -> int:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        for row in rows:
            w.writerow(row.values())
        return len(buf.getvalue())
    _report(benchmark, benchmark.pedantic(write, rounds=1, iterations=1), RECORDS // 10)


def test_peer_naive_python_binary(benchmark, day_table):
    table = _hapi_table(day_table.slice(0, RECORDS // 10))
    rows = [tuple(r.values()) for r in table.to_pylist()]
    fmt = struct.Struct("<30s" + "".join("i" if pa.types.is_integer(t) and t.bit_width < 32 else "d"
                                         for t in table.schema.types[1:]))

    def write() -> int:
        return len(b"".join(fmt.pack(r[0].encode(), *r[1:]) for r in rows))
    _report(benchmark, benchmark.pedantic(write, rounds=1, iterations=1), RECORDS // 10)
