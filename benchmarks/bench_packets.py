"""Packet-layer speed, as ratios against peers measured in the same run (issue 2 targets).

Every benchmark states ``extra_info``: ``items`` processed per round and their ``unit`` (so
``benchmarks/report.py`` turns medians into throughput), ``role`` ("ours" or "peer"), and the
targets: ``min_rate`` (items/s) on ours, ``min_ratio`` (how many times faster ours must be) on
each peer. Peers that are too slow for the full data set run on a sample and are scaled per item.
"""
from __future__ import annotations

import binascii
import io
import json
import os
import subprocess
import sys
import statistics
import tempfile
import time
from pathlib import Path

import crcmod.predefined
import numpy as np
import pytest

from native import crc16, reference
from protocol import construct_defs
from protocol.codec import Codec
from protocol.dtypes import make_batch_decoder
from protocol.export import ccsdspy_packet
from protocol.framing import Deframer, frame_all
from protocol.opals import DICTIONARY

CODEC = Codec(DICTIONARY)
HK = DICTIONARY.telemetry["HOUSEKEEPING"]
N_HK = 1_000_000
CONSTRUCT_SAMPLE = 300
MB = 1 << 20
RSS_LIMIT_MB = 150
HERE = Path(__file__).parent


def _hk_packets(n: int) -> list[bytes]:
    return [CODEC.encode_tm("HOUSEKEEPING", [6, 3, i & 0xFFFF, 0, 21.5, 18.0 + i % 7, 30.0, 28.1, 2.5, 3.0, i],
                            i & 0x3FFF, 1_100_000_000.0 + i) for i in range(n)]


@pytest.fixture(scope="module")
def hk_stream() -> bytes:
    """1,000,000 HOUSEKEEPING packets (48 MB), back to back."""
    block = b"".join(_hk_packets(1000))
    return block * (N_HK // 1000)


@pytest.fixture(scope="module")
def framed_stream() -> bytes:
    """About 100 MB of ASM-framed packets with 1% random garbage between runs of frames."""
    rng = np.random.default_rng(2)
    kinds = [_hk_packets(500),
             [CODEC.encode_tm("TRACKING", [3, 2, 1.0, 2.0, 1.0, 2.0, 0.5, 0.5, 0.7, 1e3, s], s, 5.0) for s in range(500)]]
    blocks = []
    for k in range(8):
        frames = frame_all(kinds[k % 2])
        garbage = rng.integers(0, 256, len(frames) // 99, dtype=np.uint8).tobytes()
        blocks.append(garbage + frames)
    unit = b"".join(blocks)
    return unit * (100 * MB // len(unit) + 1)


def _info(benchmark, role: str, items: int, unit: str, **targets) -> None:
    benchmark.extra_info.update(role=role, items=items, unit=unit, **targets)


class CpuTimed:
    """Wraps a benchmarked call to also record its CPU time: on a shared 2-core machine the
    wall-clock median moves with the neighbours' load, the CPU time much less."""

    def __init__(self, fn):
        self.fn = fn
        self.cpu: list[float] = []

    def __call__(self, *args):
        t = time.process_time()
        out = self.fn(*args)
        self.cpu.append(time.process_time() - t)
        return out

    def rate(self, items: int) -> float:
        return items / statistics.median(self.cpu)


# ---------------------------------------------------------------- batch decode of HOUSEKEEPING
@pytest.mark.benchmark(group="batch decode 1M HOUSEKEEPING")
def test_batch_decode_native_with_crc(benchmark, hk_stream):
    dec = make_batch_decoder(DICTIONARY, capacity=N_HK)
    timed = CpuTimed(dec.decode)
    arrays, used = benchmark.pedantic(timed, (hk_stream,), rounds=7, warmup_rounds=1)
    assert used == len(hk_stream) and len(arrays[HK.apid]) == N_HK
    assert dec.stats().crc_failures == 0
    _info(benchmark, "ours", N_HK, "packets", min_rate=10e6, cpu_time_rate=round(timed.rate(N_HK)))


@pytest.mark.benchmark(group="batch decode 1M HOUSEKEEPING")
def test_construct_parse_per_packet(benchmark, hk_stream):
    sample = [hk_stream[i * 48:(i + 1) * 48] for i in range(CONSTRUCT_SAMPLE)]
    struct_ = construct_defs.telemetry_struct(HK)

    def parse_all():
        return [struct_.parse(p) for p in sample]

    out = benchmark.pedantic(parse_all, rounds=5, warmup_rounds=1)
    assert out[-1].packet.value.data.uptime == CONSTRUCT_SAMPLE - 1
    _info(benchmark, "peer", CONSTRUCT_SAMPLE, "packets", min_ratio=500, note="sample, scaled per packet")


@pytest.mark.benchmark(group="batch decode 1M HOUSEKEEPING")
def test_ccsdspy_batch_decode_without_crc(benchmark, hk_stream):
    definition = ccsdspy_packet(HK)

    def load():
        return definition.load(io.BytesIO(hk_stream))

    out = benchmark.pedantic(load, rounds=3, warmup_rounds=0)
    assert len(out["uptime"]) == N_HK
    _info(benchmark, "peer", N_HK, "packets", min_ratio=4, note="ccsdspy checks no CRC")


# ---------------------------------------------------------------- deframing
@pytest.mark.benchmark(group="deframe 100 MB, 1% garbage")
def test_deframe_native_feed_batch(benchmark, framed_stream):
    chunk = 8 * MB
    chunks = [framed_stream[i:i + chunk] for i in range(0, len(framed_stream), chunk)]

    def run():
        d = Deframer()
        n = 0
        for c in chunks:
            n += sum(len(b) for b in d.feed_batch(c))
        n += sum(len(b) for b in d.feed_batch(b"", final=True))
        return n, d.stats()

    timed = CpuTimed(run)
    n, stats = benchmark.pedantic(timed, rounds=5, warmup_rounds=1)
    assert n > 1_900_000 and stats.crc_failures + stats.bad_headers < n // 1000
    _info(benchmark, "ours", len(framed_stream), "bytes", min_rate=200 * MB, packets=n,
          cpu_time_mb_s=round(timed.rate(len(framed_stream)) / MB))


@pytest.mark.benchmark(group="deframe 100 MB, 1% garbage")
def test_deframe_python_reference(benchmark, framed_stream):
    sample = framed_stream[:4 * MB]
    packets, _ = benchmark.pedantic(reference.deframe, (sample,), rounds=3, warmup_rounds=0)
    assert len(packets) > 70_000
    _info(benchmark, "peer", len(sample), "bytes", note="native/reference.py on a 4 MB sample")


# ---------------------------------------------------------------- CRC-16
@pytest.fixture(scope="module")
def random_100mb() -> bytes:
    return np.random.default_rng(3).integers(0, 256, 100 * MB, dtype=np.uint8).tobytes()


@pytest.mark.benchmark(group="CRC-16-CCITT 100 MB")
def test_crc16_native(benchmark, random_100mb):
    timed = CpuTimed(crc16)
    c = benchmark.pedantic(timed, (random_100mb,), rounds=7, warmup_rounds=1)
    assert c == reference.crc16_crcmod(random_100mb)
    _info(benchmark, "ours", len(random_100mb), "bytes", cpu_time_mb_s=round(timed.rate(len(random_100mb)) / MB))


@pytest.mark.benchmark(group="CRC-16-CCITT 100 MB")
def test_crc16_binascii_crc_hqx(benchmark, random_100mb):
    c = benchmark.pedantic(binascii.crc_hqx, (random_100mb, 0xFFFF), rounds=3, warmup_rounds=0)
    assert c == crc16(random_100mb)
    _info(benchmark, "peer", len(random_100mb), "bytes", min_ratio=4)


@pytest.mark.benchmark(group="CRC-16-CCITT 100 MB")
def test_crc16_crcmod(benchmark, random_100mb):
    fn = crcmod.predefined.mkCrcFun("crc-ccitt-false")
    c = benchmark.pedantic(fn, (random_100mb,), rounds=3, warmup_rounds=0)
    assert c == crc16(random_100mb)
    _info(benchmark, "peer", len(random_100mb), "bytes", min_ratio=4)


# ---------------------------------------------------------------- memory: 1 GB packet file
@pytest.mark.benchmark(group="stream-decode 1 GB file (peak RSS)")
def test_stream_decode_1gb_file_in_bounded_memory(benchmark, hk_stream):
    """Decoding a 1 GB packet file streams in chunks: peak RSS of the decoding process < 150 MB."""
    with tempfile.TemporaryDirectory(prefix="opals-bench-") as tmp:
        path = Path(tmp) / "hk.bin"
        block = hk_stream[:16 * MB // 48 * 48]
        with open(path, "wb") as fh:
            for _ in range(1024 * MB // len(block) + 1):
                fh.write(block)
        size = path.stat().st_size

        def run():
            out = subprocess.run([sys.executable, str(HERE / "stream_decode_rss.py"), str(path)],
                                 capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": str(HERE.parent)})
            return json.loads(out.stdout)

        result = benchmark.pedantic(run, rounds=1, warmup_rounds=0)
    assert result["packets"] == size // 48 and result["crc_failures"] == 0
    assert result["peak_rss_mb"] < RSS_LIMIT_MB, result
    _info(benchmark, "ours", size, "bytes", peak_rss_mb=result["peak_rss_mb"], max_rss_mb=RSS_LIMIT_MB)
