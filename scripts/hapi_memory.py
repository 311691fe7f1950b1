"""Peak RSS of the HAPI server process during a year-long data request.

Generates an archive of ``--days`` days of HOUSEKEEPING at ``--rate`` Hz in a temporary
directory (values tiled from a short random pattern so the Parquet files stay small on disk),
starts ``opals-ground serve`` as a real process, streams the whole range over loopback while
sampling the server's RSS with psutil, and prints the figures. Exit status 1 if the peak exceeds
``--limit-mb`` (200 MB by default): the server must stream, not load the range.

    .venv/bin/python scripts/hapi_memory.py [--days 365] [--rate 1] [--format binary]
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import psutil
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ground.hapi.synthetic_archive import synthetic_table, write_segment  # noqa: E402
from protocol.opals import DICTIONARY  # noqa: E402

NS_PER_S = 1_000_000_000


def build(root: Path, days: int, rate: float) -> int:
    hk = DICTIONARY.telemetry["HOUSEKEEPING"]
    per_day = int(86_400 * rate)
    step = int(NS_PER_S / rate)
    pattern = synthetic_table(hk, np.arange(1000, dtype=np.int64) * step + 1_767_225_600 * NS_PER_S)
    reps = -(-per_day // 1000)
    tiled = pa.concat_tables([pattern] * reps).slice(0, per_day)
    start = np.datetime64("2025-01-01", "ns").astype(np.int64)
    for d in range(days):
        times = start + d * 86_400 * NS_PER_S + np.arange(per_day, dtype=np.int64) * step
        table = tiled.set_column(0, "time", pa.array(times, type=pa.timestamp("ns", tz="UTC")))
        write_segment(root, hk, table, f"seg-{d:04d}")
    return per_day * days


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--rate", type=float, default=1.0)
    ap.add_argument("--format", default="binary", choices=("binary", "csv", "json"))
    ap.add_argument("--limit-mb", type=float, default=200.0)
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="hapi-memory-"))
    proc = None
    try:
        t0 = time.perf_counter()
        records = build(root, args.days, args.rate)
        print(f"archive: {records:,} records over {args.days} days in {time.perf_counter() - t0:.1f} s")
        with socket_port() as port:
            pass
        proc = subprocess.Popen([sys.executable, "-m", "ground.cli", "serve", "--archive", str(root),
                                 "--port", str(port)])
        url = f"http://127.0.0.1:{port}/hapi"
        for _ in range(200):
            try:
                httpx.get(f"{url}/capabilities", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        server = psutil.Process(proc.pid)
        idle = server.memory_info().rss
        peak = idle
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, server.memory_info().rss)
                time.sleep(0.02)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        stop_day = np.datetime64("2025-01-01") + np.timedelta64(args.days, "D")
        t0 = time.perf_counter()
        size = 0
        with httpx.stream("GET", f"{url}/data", params={"dataset": "HOUSEKEEPING", "start": "2025-01-01Z",
                                                        "stop": f"{stop_day}Z", "format": args.format},
                          headers={"Accept-Encoding": "identity"}, timeout=None) as r:
            r.raise_for_status()
            for chunk in r.iter_raw(1 << 20):
                size += len(chunk)
        elapsed = time.perf_counter() - t0
        done.set()
        sampler.join()
        mb = 1024 * 1024
        print(f"{args.format}: {size / mb:,.0f} MiB in {elapsed:.1f} s ({size / mb / elapsed:,.0f} MiB/s); "
              f"server RSS idle {idle / mb:.0f} MiB, peak {peak / mb:.0f} MiB (limit {args.limit_mb:.0f})")
        return 0 if peak / mb < args.limit_mb else 1
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


class socket_port:
    """A free loopback port (context manager for symmetry with the server's lifetime)."""

    def __enter__(self) -> int:
        import socket
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    def __exit__(self, *exc: object) -> None:
        return None


if __name__ == "__main__":
    sys.exit(main())
