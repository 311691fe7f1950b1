"""Optical downlink decoding speed, side by side with peers in the same run (``make bench``).

Groups (read the medians within a group as ratios):
* optical-rs-8err: RS(255,223) CCSDS (dual basis) decode, 8 symbol errors in every codeword:
  ours (batched, native/rs.c) vs Phil Karn's libfec decode_rs_ccsds (loop in C) vs reedsolo.
* optical-rs-clean: the same on error-free codewords (ours exits when all syndromes are zero).
* optical-chain-8err/-clean: the whole ground chain on a byte stream (bit-level ASM sync, de-randomize,
  de-interleave, RS, frame CRC) with 8 errors per codeword and clean; the link needs 50 Mbit/s.
* optical-noise-search: the marker search when there is no light.
Targets (benchmarks/report.py): chain >= 50 Mbit/s with errors, >= 400 Mbit/s clean; ours >= 2x libfec.
Timers are CPU time (time.process_time): the machine is shared, wall time would measure the
neighbours. Each test also asserts that the result is right before it is timed.
"""
from __future__ import annotations

import time

import numpy as np
import pytest
import reedsolo

import native.coding_kernels as k
from protocol.tm_coding import ChannelCoding, StreamDecoder, encode_cadus

try:
    from benchmarks.libfec_peer import load as load_libfec
except ImportError:  # run from inside benchmarks/
    from libfec_peer import load as load_libfec

CODING = ChannelCoding()            # I = 5, dual basis, randomized
N_CW = 2000                          # codewords per round (~0.5 MB)
RNG = np.random.default_rng(2014)


def _corrupt_codewords(cws: np.ndarray, nerr: int, rng: np.random.Generator) -> None:
    if nerr == 0:
        return
    pos = np.argsort(rng.random(cws.shape), axis=1)[:, :nerr]
    vals = rng.integers(1, 256, size=pos.shape, dtype=np.uint8)
    np.put_along_axis(cws, pos, np.take_along_axis(cws, pos, axis=1) ^ vals, axis=1)


def _dual_codewords(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(n, 255) clean dual-basis codewords and their data."""
    data = RNG.integers(0, 256, size=n * 223, dtype=np.uint8)
    return k.rs_encode_blocks(data, 1, 0, dual=True), data.reshape(n, 223)


CLEAN, DATA = _dual_codewords(N_CW)
NOISY = CLEAN.copy()
_corrupt_codewords(NOISY, 8, RNG)


def _mbps(benchmark, nbytes: int, role: str = "ours", **targets) -> None:
    """extra_info for benchmarks/report.py (items/unit/role/targets) plus Mbit/s, the link's unit."""
    benchmark.extra_info.update(items=nbytes, unit="bytes", role=role, **targets)
    benchmark.extra_info["Mbit_per_s_median"] = round(8 * nbytes / benchmark.stats.stats.median / 1e6, 1)


LINK_BYTES_PER_S = 50e6 / 8          # the OPALS downlink


def _ours(received: np.ndarray):
    def run(buf):
        return k.rs_decode_blocks(buf, 1, 0, dual=True)
    return run


@pytest.mark.parametrize("errors", [8, 0], ids=["8err", "clean"])
def test_rs_ours(benchmark, errors):
    benchmark.group = f"optical-rs-{'8err' if errors else 'clean'}"
    src = NOISY if errors else CLEAN
    check = src.copy()
    assert (k.rs_decode_blocks(check, 1) == errors).all() and (check == CLEAN).all()
    benchmark.pedantic(_ours(src), setup=lambda: ((src.copy(),), {}), rounds=15, warmup_rounds=1)
    _mbps(benchmark, src.size)


@pytest.mark.parametrize("errors", [8, 0], ids=["8err", "clean"])
def test_rs_libfec(benchmark, errors):
    benchmark.group = f"optical-rs-{'8err' if errors else 'clean'}"
    ffi, fec = load_libfec()
    src = NOISY if errors else CLEAN
    check = src.copy()
    assert fec.decode_many_ccsds(ffi.from_buffer("unsigned char[]", check, require_writable=True), len(check)) == 0
    assert (check == CLEAN).all()

    def run(buf):
        return fec.decode_many_ccsds(ffi.from_buffer("unsigned char[]", buf, require_writable=True), len(buf))

    benchmark.pedantic(run, setup=lambda: ((src.copy(),), {}), rounds=15, warmup_rounds=1)
    _mbps(benchmark, src.size, role="peer", **({"min_ratio": 2.0} if errors else {}))


@pytest.mark.parametrize("errors", [8, 0], ids=["8err", "clean"])
def test_rs_reedsolo(benchmark, errors):
    """Baseline (pure Python, conventional basis): a handful of codewords per round."""
    benchmark.group = f"optical-rs-{'8err' if errors else 'clean'}"
    to_dual, to_conv = k.dual_tables()
    table = bytes.maketrans(bytes(range(256)), to_conv)
    src = NOISY if errors else CLEAN
    words = [src[i].tobytes().translate(table) for i in range(50)]
    codec = reedsolo.RSCodec(32, nsize=255, fcr=112, prim=0x187, generator=173, c_exp=8)
    assert codec.decode(words[0])[0] == DATA[0].tobytes().translate(table)

    def run():
        for w in words:
            codec.decode(w)

    benchmark.pedantic(run, rounds=3, warmup_rounds=0)
    _mbps(benchmark, 255 * len(words), role="peer")


def _stream(errors: int, nframes: int = 400) -> tuple[bytes, np.ndarray]:
    from protocol.tm_frames import TmFrameFormat, build_frame

    fmt = TmFrameFormat(length=CODING.frame_len)
    frames = b"".join(build_frame(fmt, RNG.bytes(fmt.data_field_len), i, i) for i in range(nframes))
    cadus = encode_cadus(CODING, frames)
    if errors:
        cw = cadus[:, 4:].reshape(nframes, 255, CODING.depth).transpose(0, 2, 1).reshape(-1, 255).copy()
        _corrupt_codewords(cw, errors, RNG)
        cadus[:, 4:] = cw.reshape(nframes, CODING.depth, 255).transpose(0, 2, 1).reshape(nframes, -1)
    # not byte aligned: 3 leading bits
    v = int.from_bytes(cadus.tobytes(), "big")
    return (v << 5).to_bytes(cadus.size + 1, "big"), np.frombuffer(frames, np.uint8)


@pytest.mark.parametrize("errors", [8, 0], ids=["8err", "clean"])
@pytest.mark.benchmark(timer=time.process_time)
def test_decode_chain(benchmark, errors):
    """Targets: >= 50 Mbit/s with 8 errors per codeword, >= 400 Mbit/s clean."""
    benchmark.group = f"optical-chain-{'8err' if errors else 'clean'}"
    stream, truth = _stream(errors)

    def run():
        return StreamDecoder(CODING).feed(stream, final=True)

    out = run()
    assert all(b.crc_ok.all() and (b.corrected == errors).all() for b in out)
    assert np.array_equal(np.concatenate([b.frames for b in out]).reshape(-1), truth)
    benchmark.pedantic(run, rounds=10, warmup_rounds=1)
    _mbps(benchmark, len(stream), min_rate=LINK_BYTES_PER_S if errors else 400e6 / 8)


for _f in (test_rs_ours, test_rs_libfec, test_rs_reedsolo):
    pytest.mark.benchmark(timer=time.process_time)(_f)


@pytest.mark.benchmark(group="optical-noise-search", timer=time.process_time)
def test_search_through_noise(benchmark):
    """No light: the synchroniser correlates the marker at every bit offset and must still keep
    up with the link (50 Mbit/s) so the decoder never falls behind during a fade or a gap."""
    noise = np.random.default_rng(5).integers(0, 256, size=2_000_000, dtype=np.uint8).tobytes()

    def run():
        dec = StreamDecoder(CODING)
        for i in range(0, len(noise), 1 << 20):
            dec.feed(noise[i:i + (1 << 20)])
        return dec

    assert run().sync_stats().acquisitions == 0
    benchmark.pedantic(run, rounds=5, warmup_rounds=1)
    _mbps(benchmark, len(noise), min_rate=LINK_BYTES_PER_S)
