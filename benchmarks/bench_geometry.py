"""Vectorised look angles (protocol.geometry) against skyfield on the same samples.

Run: ``make bench`` or ``.venv/bin/pytest benchmarks/bench_geometry.py --benchmark-only``.
Each benchmark records samples/s in ``extra_info``; the skyfield one also records the ratio of
medians (ours / skyfield) measured in the same run.
"""
from __future__ import annotations

import numpy as np
import pytest

from protocol.geometry import OCTL, Orbit, find_passes, load_tle, look_angles
from protocol.geometry.timescale import JD_1958

SAME_SAMPLES = 20_000  # skyfield needs ~2 s for these
LARGE_SAMPLES = 500_000

_medians: dict[str, float] = {}


@pytest.fixture(scope="module")
def orbit() -> Orbit:
    return Orbit(*load_tle())


def _tai(orbit: Orbit, n: int) -> np.ndarray:
    return orbit.epoch_tai + np.linspace(0.0, 86400.0, n)


def test_look_angles_ours_same_samples(benchmark, orbit):
    tai = _tai(orbit, SAME_SAMPLES)
    benchmark(look_angles, orbit, OCTL, tai)
    _medians["ours"] = benchmark.stats["median"]
    benchmark.extra_info["samples_per_s"] = SAME_SAMPLES / benchmark.stats["median"]


def test_look_angles_skyfield_same_samples(benchmark, orbit):
    from skyfield.api import EarthSatellite, load, wgs84

    ts = load.timescale(builtin=True)
    sat = EarthSatellite(*load_tle(), "ISS", ts)
    site = wgs84.latlon(OCTL.lat_deg, OCTL.lon_deg, elevation_m=OCTL.alt_km * 1000.0)
    tai = _tai(orbit, SAME_SAMPLES)
    whole = np.floor(tai / 86400.0)

    def fresh_times():  # a skyfield Time caches its rotation matrices: new one per round
        return (ts.tai_jd(JD_1958 + whole, (tai - whole * 86400.0) / 86400.0),), {}

    def skyfield_alt_az(t):
        return (sat - site).at(t).altaz()

    skyfield_alt_az(fresh_times()[0][0])  # warm-up: first use loads skyfield's bundled tables
    benchmark.pedantic(skyfield_alt_az, setup=fresh_times, rounds=5, iterations=1)
    median = benchmark.stats["median"]
    benchmark.extra_info["samples_per_s"] = SAME_SAMPLES / median
    if "ours" in _medians:
        benchmark.extra_info["speedup_ours_vs_skyfield"] = median / _medians["ours"]


def test_look_angles_ours_500k_samples(benchmark, orbit):
    tai = _tai(orbit, LARGE_SAMPLES)
    benchmark.pedantic(look_angles, args=(orbit, OCTL, tai), rounds=5, iterations=1)
    benchmark.extra_info["samples_per_s"] = LARGE_SAMPLES / benchmark.stats["median"]


def test_look_angles_numpy_reference_500k_samples(benchmark, orbit):
    """The same algebra in numpy (the kernel's reference): the reason the C kernel exists."""
    from protocol.geometry.look import look_angles_reference

    tai = _tai(orbit, LARGE_SAMPLES)
    benchmark.pedantic(look_angles_reference, args=(orbit, OCTL, tai), rounds=5, iterations=1)
    benchmark.extra_info["samples_per_s"] = LARGE_SAMPLES / benchmark.stats["median"]


def test_sgp4_only_500k_samples(benchmark, orbit):
    """SGP4 alone: the floor under look_angles."""
    tai = _tai(orbit, LARGE_SAMPLES)
    benchmark.pedantic(orbit.state, args=(tai,), rounds=5, iterations=1)
    benchmark.extra_info["samples_per_s"] = LARGE_SAMPLES / benchmark.stats["median"]


def test_find_passes_one_week(benchmark, orbit):
    passes = benchmark.pedantic(find_passes, args=(orbit, OCTL, orbit.epoch_tai, orbit.epoch_tai + 7 * 86400.0),
                                rounds=3, iterations=1)
    assert len(passes) >= 14
