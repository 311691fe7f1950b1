"""protocol.geometry: agreement with skyfield, the gimbal frame contract, pass statistics (2014 TLE)."""
from __future__ import annotations

import functools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.geometry import (
    OCTL, Orbit, OrbitError, Station, feasibility_mask, find_passes, gimbal_angles, gimbal_direction,
    in_field_of_regard, load_tle, load_tles, look_angles, payload_axes, teme_to_ecef, tle_checksum_ok,
)
from protocol.geometry.timescale import JD_1958
from protocol.opals import AZ_RANGE_DEG, EL_RANGE_DEG
from protocol.time_codes import datetime_to_tai

DAY = 86400.0


@pytest.fixture(scope="module")
def orbit() -> Orbit:
    return Orbit(*load_tle())


@functools.cache
def _week_passes() -> tuple:
    """The first week of the bundled TLE above 20 deg (shared with hypothesis tests, computed once)."""
    orbit = Orbit(*load_tle())
    return tuple(find_passes(orbit, OCTL, orbit.epoch_tai, orbit.epoch_tai + 7 * DAY, min_elevation_deg=20.0))


@pytest.fixture(scope="module")
def week() -> list:
    return list(_week_passes())


# ---------------------------------------------------------------- TLE and orbit
def test_bundled_tle_is_the_iss_near_first_light(orbit: Orbit):
    import datetime as dt
    first_light = datetime_to_tai(dt.datetime(2014, 6, 5, tzinfo=dt.timezone.utc))
    assert orbit.satrec.satnum == 25544
    assert abs(orbit.epoch_tai - first_light) < 7 * DAY
    assert len(load_tles()) >= 2


def test_tle_checksum_is_enforced(tmp_path):
    line1, line2 = load_tle()
    assert tle_checksum_ok(line1) and tle_checksum_ok(line2)
    broken = line2[:68] + str((int(line2[68]) + 1) % 10)
    path = tmp_path / "bad.tle"
    path.write_text(f"{line1}\n{broken}\n")
    with pytest.raises(ValueError, match="checksum"):
        load_tle(path)
    (tmp_path / "empty.tle").write_text("# nothing\n")
    with pytest.raises(ValueError, match="no two-line element set"):
        load_tle(tmp_path / "empty.tle")


def test_orbit_rejects_garbage_elements():
    with pytest.raises((OrbitError, ValueError)):
        Orbit("1 garbage", "2 garbage")


def test_state_is_a_leo_orbit_and_nan_not_exception_when_sgp4_fails(orbit: Orbit):
    r, v = orbit.state(orbit.epoch_tai + np.arange(0.0, 5600.0, 60.0))
    radius = np.linalg.norm(r, axis=1)
    assert np.all((6770 < radius) & (radius < 6820))  # ISS mid-2014: ~400-420 km altitude
    assert np.all(np.abs(np.linalg.norm(v, axis=1) - 7.67) < 0.05)
    # A huge drag term (B* = 0.5) decays the orbit within a day: SGP4 fails there, the batch survives.
    line1, line2 = load_tle()
    line1 = line1[:53] + " 50000-0" + line1[61:68]
    line1 += str(sum(int(c) if c.isdigit() else c == "-" for c in line1) % 10)
    heavy = Orbit(line1, line2)
    r, _ = heavy.state(heavy.epoch_tai + np.array([0.0, 10 * DAY]))
    assert np.isfinite(r[0]).all() and np.isnan(r[1]).all()


# ---------------------------------------------------------------- skyfield agreement
@pytest.mark.parametrize("station, step_s", [
    (OCTL, 15.0),
    (Station("PERTH", -31.95, 115.86, 0.02), 60.0),  # other hemispheres: no sign may cancel out
])
def test_station_alt_az_range_agree_with_skyfield_over_a_day(orbit: Orbit, station: Station, step_s: float,
                                                            tmp_path, monkeypatch):
    from skyfield.api import EarthSatellite, load, wgs84

    monkeypatch.chdir(tmp_path)  # skyfield downloads into the working directory: there must be nothing
    ts = load.timescale(builtin=True)  # bundled leap seconds and UT1: nothing downloaded
    sat = EarthSatellite(*load_tle(), "ISS (ZARYA)", ts)
    site = wgs84.latlon(station.lat_deg, station.lon_deg, elevation_m=station.alt_km * 1000.0)
    tai = orbit.epoch_tai + np.arange(0.0, DAY, step_s)
    whole = np.floor(tai / DAY)
    t = ts.tai_jd(JD_1958 + whole, (tai - whole * DAY) / DAY)
    alt, az, dist = (sat - site).at(t).altaz()

    la = look_angles(orbit, station, tai)
    d_alt = np.abs(la.elevation - alt.degrees)
    d_az_on_sky = np.abs((la.azimuth - az.degrees + 180.0) % 360.0 - 180.0) * np.cos(np.radians(alt.degrees))
    assert (alt.degrees > 0).sum() * step_s > 1800  # the day holds real passes, not only below-horizon samples
    assert d_alt.max() < 0.02
    assert d_az_on_sky.max() < 0.02
    assert np.abs(la.range_km - dist.km).max() < 0.05
    # With skyfield's own UT1-UTC the two agree far below the requirement (same SGP4, same frames).
    exact = look_angles(orbit, station, tai, dut1_s=float(np.mean(t.dut1)))
    assert np.abs(exact.elevation - alt.degrees).max() < 1e-3
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- gimbal frame contract
def test_payload_frame_is_right_handed_ram_starboard_nadir(orbit: Orbit):
    r, v = orbit.state(orbit.epoch_tai + np.arange(0.0, 5600.0, 100.0))
    x, y, z = payload_axes(r, v)
    for a in (x, y, z):
        assert np.allclose(np.linalg.norm(a, axis=1), 1.0)
    assert np.allclose(np.einsum("ij,ij->i", np.cross(x, y), z), 1.0)  # right-handed
    assert np.allclose(z, -r / np.linalg.norm(r, axis=1)[:, None])  # nadir
    assert np.all(np.einsum("ij,ij->i", x, v) / np.linalg.norm(v, axis=1) > 0.999)  # ~velocity
    assert np.all(y[:, 2] < 0)  # starboard is the southern side (prograde orbit, +XVV)
    # Nadir, ram and starboard expressed in payload components: az/el of (0,0,1), (1,0,0), (0,1,0).
    def payload_components(w: np.ndarray) -> np.ndarray:
        return np.stack([np.einsum("ij,ij->i", w, a) for a in (x, y, z)], axis=1)

    az, el = gimbal_angles(payload_components(-r / np.linalg.norm(r, axis=1)[:, None]))
    assert np.allclose(az, 0.0, atol=1e-9) and np.allclose(el, 0.0, atol=1e-9)
    az, el = gimbal_angles(payload_components(x))
    assert np.allclose(az, 90.0) and np.allclose(el, 0.0, atol=1e-9)
    _, el = gimbal_angles(payload_components(y))
    assert np.allclose(el, 90.0)


@settings(max_examples=200, deadline=None)
@given(st.floats(-179.9, 179.9), st.floats(-89.9, 89.9))
def test_gimbal_direction_and_angles_are_inverse(az: float, el: float):
    u = gimbal_direction(az, el)
    assert np.isclose(np.linalg.norm(u), 1.0)
    az2, el2 = gimbal_angles(u)
    assert np.isclose(el2[0], el, atol=1e-9)
    assert np.isclose(az2[0], az, atol=1e-7)


def test_gimbal_az_el_match_the_line_of_sight_to_the_station(orbit: Orbit):
    tai = orbit.epoch_tai + np.arange(0.0, DAY, 97.0)
    la = look_angles(orbit, OCTL, tai)
    r, v = orbit.state_interpolated(tai)  # the states look_angles uses
    x, y, z = payload_axes(r, v)
    los = gimbal_direction(la.az, la.el)
    teme = los[:, :1] * x + los[:, 1:2] * y + los[:, 2:] * z
    # Back in the Earth-fixed frame, range x line of sight from the ISS lands on the station.
    assert np.allclose(teme_to_ecef(r + teme * la.range_km[:, None], tai), OCTL.ecef_km, atol=1e-6)


def test_c_kernel_matches_the_numpy_reference(orbit: Orbit):
    import dataclasses

    from protocol.geometry.look import look_angles_reference

    tai = orbit.epoch_tai + np.arange(0.0, DAY, 3.0)
    fast, ref = look_angles(orbit, OCTL, tai), look_angles_reference(orbit, OCTL, tai)
    for f in dataclasses.fields(fast):
        a, b = getattr(fast, f.name), getattr(ref, f.name)
        assert a.dtype == b.dtype and a.shape == b.shape, f.name
        assert np.allclose(a, b, rtol=0, atol=1e-9), f.name
    assert ref.elevation.max() > 80  # the day spans near-zenith geometry, where az is sensitive


def test_node_interpolation_stays_within_sgp4s_own_noise(orbit: Orbit):
    """SGP4's velocity differs from the derivative of its position by up to ~0.6 m/s; interpolating
    between 20-s nodes adds far less than that, for dense, sparse and unsorted samples."""
    from protocol.geometry.look import look_angles_reference

    rng = np.random.default_rng(7)
    for tai in (orbit.epoch_tai + np.arange(0.0, DAY, 0.37),
                orbit.epoch_tai + rng.uniform(0.0, 30 * DAY, 2000),
                np.array([orbit.epoch_tai + 7.5])):
        r, v = orbit.state(tai)
        ri, vi = orbit.state_interpolated(tai)
        assert np.abs(ri - r).max() < 1e-4 and np.abs(vi - v).max() < 1e-4  # < 10 cm, < 10 cm/s
        fast, direct = look_angles(orbit, OCTL, tai), look_angles_reference(orbit, OCTL, tai, interpolated=False)
        for f in ("az", "el", "elevation", "azimuth", "az_rate", "el_rate"):
            assert np.abs(getattr(fast, f) - getattr(direct, f)).max() < 1e-3, f
    d = 1e-3  # the noise floor quoted above, measured: SGP4 velocity vs central difference of position
    tai = orbit.epoch_tai + np.arange(0.0, DAY, 7.0)
    slope = (orbit.state(tai + d)[0] - orbit.state(tai - d)[0]) / (2 * d)
    assert 1e-4 < np.abs(slope - orbit.state(tai)[1]).max() < 1e-3


def test_hermite_kernel_matches_its_numpy_reference(orbit: Orbit):
    from native.geometry_kernels import hermite_states_kernel, hermite_states_reference

    node_tai = orbit.epoch_tai + 20.0 * np.arange(50)
    node_r, node_v = orbit.state(node_tai)
    rng = np.random.default_rng(3)
    pos = rng.integers(0, 49, 1000)
    tai = node_tai[pos] + rng.uniform(0.0, 20.0, 1000)
    for a, b in zip(hermite_states_kernel(tai, pos, node_tai, node_r, node_v, 20.0),
                    hermite_states_reference(tai, pos, node_tai, node_r, node_v, 20.0)):
        assert np.allclose(a, b, rtol=0, atol=1e-9)
    r, v = hermite_states_kernel(node_tai[:-1], np.arange(49), node_tai, node_r, node_v, 20.0)
    assert np.array_equal(r, node_r[:-1]) and np.array_equal(v, node_v[:-1])  # exact at the nodes
    with pytest.raises(ValueError):
        hermite_states_kernel(tai, pos + 1, node_tai, node_r, node_v, 20.0)  # 49 has no right node


def test_failed_propagation_gives_nan_angles_not_an_exception(orbit: Orbit):
    line1, line2 = load_tle()
    line1 = line1[:53] + " 50000-0" + line1[61:68]
    line1 += str(sum(int(c) if c.isdigit() else c == "-" for c in line1) % 10)
    heavy = Orbit(line1, line2)
    la = look_angles(heavy, OCTL, heavy.epoch_tai + np.array([0.0, 10 * DAY]))
    assert np.isfinite(la.az[0]) and np.isnan(la.az[1]) and np.isnan(la.elevation[1])
    assert not la.iss_north_of_station[1]


@settings(max_examples=40, deadline=None)
@given(st.floats(-89.0, 89.0), st.floats(-180.0, 180.0), st.floats(0.0, 5.0), st.floats(0.0, 7 * DAY))
def test_both_sides_reconstruct_the_same_line_of_sight_anywhere(lat: float, lon: float, alt_km: float, dt_s: float):
    """From the payload (gimbal az/el) and from the station (alt/az), range x direction closes the
    triangle ISS-station-Earth centre, for any station and time."""
    orbit = Orbit(*load_tle())
    station = Station("ANY", lat, lon, alt_km)
    tai = np.array([orbit.epoch_tai + dt_s])
    la = look_angles(orbit, station, tai)
    r, v = orbit.state_interpolated(tai)
    x, y, z = payload_axes(r, v)
    los = gimbal_direction(la.az, la.el)
    from_payload = teme_to_ecef(r + (los[:, :1] * x + los[:, 1:2] * y + los[:, 2:] * z) * la.range_km[:, None], tai)
    assert np.allclose(from_payload[0], station.ecef_km, atol=1e-6)
    e, n, u = station.enu_axes
    alt, az = np.radians(la.elevation[0]), np.radians(la.azimuth[0])
    to_iss = la.range_km[0] * (np.cos(alt) * np.sin(az) * e + np.cos(alt) * np.cos(az) * n + np.sin(alt) * u)
    assert np.allclose(station.ecef_km + to_iss, teme_to_ecef(r, tai)[0], atol=1e-6)
    assert 0.0 <= la.azimuth[0] < 360.0 and la.range_km[0] > 300.0


def test_blocked_evaluation_matches_one_shot_and_empty_input(orbit: Orbit):
    from protocol.geometry.look import CHUNK

    tai = orbit.epoch_tai + np.arange(0.0, CHUNK + 1000.0)
    whole = look_angles(orbit, OCTL, tai)
    tail = look_angles(orbit, OCTL, tai[CHUNK - 5:])
    assert np.array_equal(whole.az[CHUNK - 5:], tail.az) and np.array_equal(whole.elevation[CHUNK - 5:], tail.elevation)
    assert len(look_angles(orbit, OCTL, np.array([]))) == 0


def test_station_is_ahead_at_rise_and_behind_at_set(orbit: Orbit, week):
    for p in week:
        la = look_angles(orbit, p.station, np.array([p.rise_tai + 1.0, p.set_tai - 1.0]))
        assert la.az[0] > 0 > la.az[1]  # ahead (ram) while approaching, behind while leaving


def test_iss_north_means_its_ground_track_passes_north_of_the_station(orbit: Orbit, week):
    for p in week:
        if p.max_elevation_deg > 80:  # near-overhead: which side is a matter of metres
            continue
        la = look_angles(orbit, p.station, np.array([p.culmination_tai]))
        r, _ = orbit.state(np.array([p.culmination_tai]))
        iss_lat = np.degrees(np.arcsin(teme_to_ecef(r, np.array([p.culmination_tai]))[0, 2] / np.linalg.norm(r)))
        sx, sy, sz = p.station.ecef_km
        station_lat = np.degrees(np.arcsin(sz / np.linalg.norm(p.station.ecef_km)))  # both geocentric
        assert bool(la.iss_north_of_station[0]) == (iss_lat > station_lat)
        assert bool(la.iss_north_of_station[0]) == (la.el[0] > 0)  # station to starboard


def test_opals_first_light_pass_is_feasible_when_nasa_announced_it():
    """NASA media advisory (4 June 2014): downlink 5 June between 8:20 and 8:23 pm PDT, the ISS
    pass visible from 8:20 to 8:26 pm; the video was looped for 148 s."""
    import datetime as dt

    def tai(h: int, m: int) -> float:
        return datetime_to_tai(dt.datetime(2014, 6, 6, h, m, tzinfo=dt.timezone.utc))  # PDT = UTC-7

    orbit = Orbit(*load_tles()[0])  # 31 May elements: the set operations had before the pass
    (p,) = find_passes(orbit, OCTL, tai(3, 0), tai(3, 40))
    assert p.max_elevation_deg > 75
    visible = look_angles(orbit, OCTL, np.array([tai(3, 20), tai(3, 26)])).elevation
    assert np.all((visible > 5) & (visible < 20))  # the 'visible pass' span starts and ends low
    (w,) = p.feasible
    assert w.duration >= 148.0
    assert w.start_tai < tai(3, 23) and w.stop_tai > tai(3, 23)  # overlaps the announced downlink
    assert look_angles(orbit, OCTL, np.array([tai(3, 22)])).azimuth[0] > 180  # ISS then south-west


def test_rates_match_finite_differences(orbit: Orbit):
    tai = orbit.epoch_tai + np.arange(0.0, DAY, 30.0)
    la = look_angles(orbit, OCTL, tai)
    up = la.elevation > 0
    h = 0.01
    a, b = look_angles(orbit, OCTL, tai - h), look_angles(orbit, OCTL, tai + h)
    assert np.allclose(la.az_rate[up], ((b.az - a.az) / (2 * h))[up], rtol=0, atol=2e-5)
    assert np.allclose(la.el_rate[up], ((b.el - a.el) / (2 * h))[up], rtol=0, atol=2e-5)
    s_rate = np.hypot(np.cos(np.radians(la.elevation)) * ((b.azimuth - a.azimuth) / (2 * h)),
                      (b.elevation - a.elevation) / (2 * h))
    assert np.allclose(la.station_angular_rate[up], s_rate[up], rtol=0, atol=2e-5)
    g_rate = np.hypot(np.cos(np.radians(la.el)) * la.az_rate, la.el_rate)
    assert np.allclose(la.angular_rate, g_rate, atol=1e-9)


def test_payload_frame_turns_at_lvlh_angular_velocity(orbit: Orbit):
    from protocol.geometry.look import lvlh_angular_velocity

    tai = orbit.epoch_tai + np.arange(0.0, 5600.0, 50.0)
    h = 0.5
    r, v = orbit.state(tai)
    omega = lvlh_angular_velocity(r, v)
    orbit_rate_only = np.cross(r, v) / np.einsum("ij,ij->i", r, r)[:, None]
    before, after = payload_axes(*orbit.state(tai - h)), payload_axes(*orbit.state(tai + h))
    for axis, a, b in zip(payload_axes(r, v), before, after):
        # d(axis)/dt = omega x axis to 2e-8 rad/s (J3+ and drag left out); the J2 turn is ~1.5e-6
        assert np.abs((b - a) / (2 * h) - np.cross(omega, axis)).max() < 2e-8
    x_rate = (after[0] - before[0]) / (2 * h)
    assert np.abs(x_rate - np.cross(orbit_rate_only, payload_axes(r, v)[0])).max() > 1e-6


def test_in_field_of_regard_bounds_and_margin():
    lo_az, hi_az = AZ_RANGE_DEG
    lo_el, hi_el = EL_RANGE_DEG
    assert in_field_of_regard(lo_az, lo_el) and in_field_of_regard(hi_az, hi_el)
    assert not in_field_of_regard(lo_az - 0.01, 10.0) and not in_field_of_regard(0.0, hi_el + 0.01)
    assert not in_field_of_regard(lo_az + 0.5, 10.0, margin_deg=1.0)
    assert list(in_field_of_regard(np.array([0.0, 80.0]), np.array([10.0, 10.0]))) == [True, False]


# ---------------------------------------------------------------- passes (REFERENCE.md statistics)
def test_pass_statistics_over_a_week_match_the_reference(orbit: Orbit, week):
    durations = np.array([p.above_min.duration for p in week])
    assert 2.0 <= len(week) / 7 <= 3.0  # ~2.5 passes a day above 20 deg
    assert 200 <= np.median(durations) <= 250  # median 225 s above 20 deg
    assert 0.85 <= max(p.peak_angular_rate_deg_s for p in week) <= 1.15  # peak ~1 deg/s
    assert all(p.max_elevation_deg >= 20 for p in week)
    assert all(p.rise_tai < p.above_min.start_tai <= p.culmination_tai <= p.above_min.stop_tai < p.set_tai
               for p in week)
    # "133-145 s when the ISS is also north": high passes, above 20 deg with the ISS in the northern sky.
    for p in week:
        if p.max_elevation_deg > 70:
            t = np.arange(p.above_min.start_tai, p.above_min.stop_tai, 0.5)
            assert 125 <= 0.5 * look_angles(orbit, OCTL, t).iss_in_northern_sky.sum() <= 155
    # Feasible windows (north, inside the derated range, >= 20 deg): room for first light's 148 s.
    feasible = np.array([p.feasible_duration for p in week])
    assert 148 <= feasible.max() <= 180
    assert 0 < (feasible > 0).sum() < len(week)  # passes south of the station are not feasible


def test_two_weeks_reproduce_the_reference_medians_above_20_and_25_deg(orbit: Orbit):
    span = (orbit.epoch_tai, orbit.epoch_tai + 14 * DAY)
    for min_el, reference_median_s in ((20.0, 225.0), (25.0, 185.0)):
        passes = find_passes(orbit, OCTL, *span, min_elevation_deg=min_el)
        assert abs(np.median([p.above_min.duration for p in passes]) - reference_median_s) < 10.0


def test_feasible_window_edges_are_where_the_conditions_switch(orbit: Orbit, week):
    windows = [w for p in week for w in p.feasible]
    assert windows
    for w in windows:
        inside = look_angles(orbit, OCTL, np.linspace(w.start_tai + 0.01, w.stop_tai - 0.01, 50))
        assert feasibility_mask(inside, 20.0).all()
        outside = look_angles(orbit, OCTL, np.array([w.start_tai - 0.01, w.stop_tai + 0.01]))
        assert not feasibility_mask(outside, 20.0).any()
        assert in_field_of_regard(inside.az, inside.el).all() and inside.iss_north_of_station.all()


def test_rise_and_set_are_on_the_horizon(orbit: Orbit, week):
    edges = np.array([[p.rise_tai, p.set_tai] for p in week]).ravel()
    assert np.abs(look_angles(orbit, OCTL, edges).elevation).max() < 0.01


def test_a_pass_in_progress_at_the_start_is_cut_there(orbit: Orbit, week):
    p = week[0]
    mid = p.culmination_tai
    cut = find_passes(orbit, OCTL, mid, mid + 3600.0, min_elevation_deg=0.0)
    assert cut[0].rise_tai == pytest.approx(mid)
    assert cut[0].set_tai == pytest.approx(p.set_tai, abs=0.01)
    assert find_passes(orbit, OCTL, mid, mid) == []


@settings(max_examples=8, deadline=None)
@given(st.floats(0.0, 5.0), st.floats(0.3, 2.0))
def test_passes_do_not_depend_on_the_search_span(offset_days: float, span_days: float):
    orbit = Orbit(*load_tle())
    start = orbit.epoch_tai + offset_days * DAY
    stop = start + span_days * DAY
    inside = [p for p in _week_passes() if start < p.rise_tai and p.set_tai < stop]
    found = [p for p in find_passes(orbit, OCTL, start, stop) if start < p.rise_tai and p.set_tai < stop]
    assert len(found) == len(inside)
    for a, b in zip(found, inside):
        assert abs(a.rise_tai - b.rise_tai) < 0.01 and abs(a.set_tai - b.set_tai) < 0.01
        assert abs(a.feasible_duration - b.feasible_duration) < 0.01
        assert abs(a.max_elevation_deg - b.max_elevation_deg) < 1e-3


def test_a_station_the_iss_never_sees_has_no_passes(orbit: Orbit):
    pole = Station("SOUTH_POLE", -89.9, 0.0, 2.8)
    assert find_passes(orbit, pole, orbit.epoch_tai, orbit.epoch_tai + DAY, min_elevation_deg=0.0) == []
