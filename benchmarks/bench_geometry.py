"""Look-angle speed against skyfield on the same samples, and against our own numpy reference.

Every benchmark states ``extra_info`` in the convention of ``benchmarks/report.py``: ``items``
per round and their ``unit``, ``role`` ("ours" or "peer"), and targets (``min_rate`` samples/s
on ours, ``min_ratio`` on a peer). Run: ``make bench``, or
``.venv/bin/pytest benchmarks/bench_geometry.py --benchmark-only -p no:xdist``.
"""
from __future__ import annotations

import numpy as np
import pytest

from protocol.geometry import OCTL, Orbit, find_passes, load_tle, look_angles
from protocol.geometry.look import look_angles_reference
from protocol.geometry.timescale import JD_1958

SAME_SAMPLES = 20_000  # skyfield needs about a second for these
LARGE_SAMPLES = 500_000


@pytest.fixture(scope="module")
def orbit() -> Orbit:
    return Orbit(*load_tle())


def _tai(orbit: Orbit, n: int) -> np.ndarray:
    return orbit.epoch_tai + np.linspace(0.0, 86400.0, n)


def _info(benchmark, role: str, items: int, unit: str, **targets) -> None:
    benchmark.extra_info.update(role=role, items=items, unit=unit, **targets)


# ---------------------------------------------------------------- same samples as skyfield
@pytest.mark.benchmark(group="look angles, 20k samples over a day")
def test_look_angles_ours(benchmark, orbit):
    la = benchmark(look_angles, orbit, OCTL, _tai(orbit, SAME_SAMPLES))
    assert len(la) == SAME_SAMPLES
    _info(benchmark, "ours", SAME_SAMPLES, "samples", min_rate=500e3)


@pytest.mark.benchmark(group="look angles, 20k samples over a day")
def test_look_angles_skyfield(benchmark, orbit):
    from skyfield.api import EarthSatellite, load, wgs84

    ts = load.timescale(builtin=True)
    sat = EarthSatellite(*load_tle(), "ISS", ts)
    site = wgs84.latlon(OCTL.lat_deg, OCTL.lon_deg, elevation_m=OCTL.alt_km * 1000.0)
    tai = _tai(orbit, SAME_SAMPLES)
    whole = np.floor(tai / 86400.0)

    def fresh_times():  # a skyfield Time caches its rotation matrices: a new one every round
        return (ts.tai_jd(JD_1958 + whole, (tai - whole * 86400.0) / 86400.0),), {}

    def skyfield_alt_az(t):
        return (sat - site).at(t).altaz()

    skyfield_alt_az(fresh_times()[0][0])  # warm-up: the first call loads skyfield's bundled tables
    alt, _, _ = benchmark.pedantic(skyfield_alt_az, setup=fresh_times, rounds=5, iterations=1)
    assert len(alt.degrees) == SAME_SAMPLES
    _info(benchmark, "peer", SAME_SAMPLES, "samples", min_ratio=20)


# ---------------------------------------------------------------- half a million samples
@pytest.mark.benchmark(group="look angles, 500k samples")
def test_look_angles_ours_500k(benchmark, orbit):
    benchmark.pedantic(look_angles, args=(orbit, OCTL, _tai(orbit, LARGE_SAMPLES)), rounds=5, iterations=1)
    _info(benchmark, "ours", LARGE_SAMPLES, "samples", min_rate=500e3)


@pytest.mark.benchmark(group="look angles, 500k samples")
def test_look_angles_numpy_reference_500k(benchmark, orbit):
    """The same algebra in numpy on SGP4 at every sample (the direct reference)."""
    benchmark.pedantic(look_angles_reference, args=(orbit, OCTL, _tai(orbit, LARGE_SAMPLES)),
                       kwargs={"interpolated": False}, rounds=5, iterations=1)
    _info(benchmark, "peer", LARGE_SAMPLES, "samples")


@pytest.mark.benchmark(group="look angles, 500k samples")
def test_sgp4_every_sample_500k(benchmark, orbit):
    """SGP4 alone at every sample (sgp4's array API): the floor look_angles had before it
    interpolated between 20-s SGP4 nodes."""
    benchmark.pedantic(orbit.state, args=(_tai(orbit, LARGE_SAMPLES),), rounds=5, iterations=1)
    _info(benchmark, "peer", LARGE_SAMPLES, "samples", note="states only, no angles")


# ---------------------------------------------------------------- pass search
@pytest.mark.benchmark(group="find passes")
def test_find_passes_one_week(benchmark, orbit):
    passes = benchmark.pedantic(find_passes, args=(orbit, OCTL, orbit.epoch_tai, orbit.epoch_tai + 7 * 86400.0),
                                rounds=3, iterations=1)
    assert len(passes) >= 14
    _info(benchmark, "ours", 7, "days")
