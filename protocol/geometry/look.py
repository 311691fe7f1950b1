"""Where the station is seen from the payload gimbal, and where the ISS is seen from the station.

Payload (gimbal) frame = the ISS local-vertical/local-horizontal frame (the ISS flies nadir-
pointing, +XVV):

* ``z`` nadir (-r/|r|), ``y`` = -orbit normal (-(r x v)/|r x v|: starboard, which faces south for
  the eastward-moving ISS), ``x = y x z`` (along the velocity, ram). Right-handed: x × y = z.

Two-axis gimbal convention, for the unit line of sight ``u = (x, y, z)`` from payload to station:

* ``az = atan2(x, z)``: rotation from nadir toward ram (+x), in the x-z plane, first axis;
* ``el = asin(y)``: then the angle out of that plane toward starboard (+y).

So ``u = (cos el sin az, sin el, cos el cos az)``; nadir is az = el = 0. With this convention a
station south of the ISS ground track (the ISS north of the station) has el > 0, and the OPALS
derated range of motion is az -34..+73 deg, el 1..38 deg (protocol.opals AZ/EL_RANGE_DEG).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from protocol.geometry.earth import Station
from protocol.geometry.orbit import Orbit
from protocol.geometry.timescale import EARTH_ROTATION_RAD_S, gmst_rad, ut1_seconds_since_1958
from protocol.opals import AZ_RANGE_DEG, EL_RANGE_DEG

_DEG = 180.0 / np.pi
# WGS-72 constants, as SGP4 uses for element sets.
MU_KM3_S2 = 398600.8
EARTH_RADIUS_KM = 6378.135
J2 = 0.001082616


@dataclass(frozen=True)
class LookAngles:
    """Geometry at each sample time (numpy arrays of equal length; angles in deg, rates in deg/s).

    Gimbal side (payload frame, convention in the module docstring): ``az``, ``el`` of the
    station, their rates ``az_rate``, ``el_rate``, and ``angular_rate``, the magnitude of the
    line-of-sight rate in the payload frame (what the gimbal must slew). Station side:
    ``elevation`` of the ISS above the local horizon (geodetic), ``azimuth`` from north toward
    east in [0, 360), ``station_angular_rate`` (telescope tracking rate), ``range_km``, and
    ``iss_north_of_station`` (the ISS lies in the station's northern half-sky).
    """

    tai: np.ndarray
    az: np.ndarray
    el: np.ndarray
    range_km: np.ndarray
    elevation: np.ndarray
    azimuth: np.ndarray
    iss_north_of_station: np.ndarray
    az_rate: np.ndarray
    el_rate: np.ndarray
    angular_rate: np.ndarray
    station_angular_rate: np.ndarray

    def __len__(self) -> int:
        return len(self.tai)


def _rows_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", a, b)


def _unit(a: np.ndarray) -> np.ndarray:
    return a / np.sqrt(_rows_dot(a, a))[:, None]


def payload_axes(r: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Payload (LVLH) unit axes x (ram), y (starboard = -orbit normal), z (nadir), each (N, 3), in
    the frame of ``r``/``v`` (TEME for SGP4 states)."""
    r, v = np.atleast_2d(r), np.atleast_2d(v)
    z_ax = -_unit(r)
    y_ax = -_unit(np.cross(r, v))
    return np.cross(y_ax, z_ax), y_ax, z_ax


def gimbal_angles(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(az, el) in deg of unit vectors ``u`` (N, 3) given in payload-frame components."""
    u = np.atleast_2d(u)
    return (np.degrees(np.arctan2(u[:, 0], u[:, 2])), np.degrees(np.arcsin(np.clip(u[:, 1], -1.0, 1.0))))


def gimbal_direction(az_deg: np.ndarray | float, el_deg: np.ndarray | float) -> np.ndarray:
    """Unit line of sight (N, 3), payload-frame components, of gimbal angles (deg): the inverse
    of :func:`gimbal_angles` (for |az| <= 180, |el| <= 90)."""
    az, el = np.radians(np.atleast_1d(az_deg)), np.radians(np.atleast_1d(el_deg))
    return np.stack([np.cos(el) * np.sin(az), np.sin(el), np.cos(el) * np.cos(az)], axis=-1)


def lvlh_angular_velocity(r: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Angular velocity (rad/s, inertial components) of the payload frame defined by r, v.

    The orbit rate h/r² turns nadir; J2's out-of-plane pull a_h also turns the orbit plane
    about the radius at a_h·r/|h| (~1e-4 deg/s for the ISS), which the gimbal rates include.
    """
    h = np.cross(r, v)
    r2 = _rows_dot(r, r)
    h_norm = np.sqrt(_rows_dot(h, h))
    k = -1.5 * J2 * MU_KM3_S2 * EARTH_RADIUS_KM ** 2 / r2 ** 2.5
    z2 = r[:, 2] ** 2 / r2
    a_j2 = k[:, None] * r * np.stack([1.0 - 5.0 * z2, 1.0 - 5.0 * z2, 3.0 - 5.0 * z2], axis=1)
    a_h = _rows_dot(a_j2, h) / h_norm
    return h / r2[:, None] + (a_h / h_norm)[:, None] * r


def look_angles(orbit: Orbit, station: Station, tai: np.ndarray, dut1_s: float | None = None) -> LookAngles:
    """Vectorised look angles between the ISS payload and ``station`` at TAI seconds since 1958.

    ``dut1_s`` (UT1-UTC, |dut1| < 0.9 s) overrides the bundled IERS table; ignoring it would move
    the ISS up to ~0.15 km in the Earth-fixed frame, ~0.02 deg at closest approach.
    """
    tai = np.atleast_1d(np.asarray(tai, dtype=np.float64))
    r, v = orbit.state(tai)
    theta = gmst_rad(ut1_seconds_since_1958(tai, dut1_s))
    c, s = np.cos(theta), np.sin(theta)

    # Station in TEME (rotate Earth-fixed by -GMST) and its inertial velocity (Earth rotation).
    sx, sy, sz = station.ecef_km
    sta = np.empty_like(r)
    sta[:, 0] = c * sx - s * sy
    sta[:, 1] = s * sx + c * sy
    sta[:, 2] = sz
    sta_v = np.empty_like(r)
    sta_v[:, 0] = -EARTH_ROTATION_RAD_S * sta[:, 1]
    sta_v[:, 1] = EARTH_ROTATION_RAD_S * sta[:, 0]
    sta_v[:, 2] = 0.0

    # Line of sight ISS -> station, inertial (TEME) components and its inertial rate.
    rho = sta - r
    rho_dot = sta_v - v
    rng = np.sqrt(_rows_dot(rho, rho))
    u = rho / rng[:, None]
    u_dot = (rho_dot - u * _rows_dot(u, rho_dot)[:, None]) / rng[:, None]

    # LVLH (payload) axes and the frame's angular velocity (orbit rate about the orbit normal).
    x_ax, y_ax, z_ax = payload_axes(r, v)
    omega = lvlh_angular_velocity(r, v)
    u_rel_dot = u_dot - np.cross(omega, u)  # derivative as seen in the rotating payload frame

    ux, uy, uz = _rows_dot(u, x_ax), _rows_dot(u, y_ax), _rows_dot(u, z_ax)
    dx, dy, dz = _rows_dot(u_rel_dot, x_ax), _rows_dot(u_rel_dot, y_ax), _rows_dot(u_rel_dot, z_ax)
    az = np.arctan2(ux, uz)
    el = np.arcsin(np.clip(uy, -1.0, 1.0))
    xz2 = ux * ux + uz * uz
    az_rate = (uz * dx - ux * dz) / xz2
    el_rate = dy / np.sqrt(xz2)
    angular_rate = np.sqrt(dx * dx + dy * dy + dz * dz)

    # Station side: the ISS seen from the station, in local east/north/up.
    e_ax, n_ax, up_ax = station.enu_axes  # Earth-fixed rows; rotate them into TEME per sample
    def to_teme(axis: np.ndarray) -> np.ndarray:
        out = np.empty_like(r)
        out[:, 0] = c * axis[0] - s * axis[1]
        out[:, 1] = s * axis[0] + c * axis[1]
        out[:, 2] = axis[2]
        return out
    east, north, up = -_rows_dot(u, to_teme(e_ax)), -_rows_dot(u, to_teme(n_ax)), -_rows_dot(u, to_teme(up_ax))
    elevation = np.arcsin(np.clip(up, -1.0, 1.0))
    azimuth = np.mod(np.arctan2(east, north), 2.0 * np.pi)
    # Telescope rate: the line of sight's rate relative to the rotating Earth.
    earth_w = np.array([0.0, 0.0, EARTH_ROTATION_RAD_S])
    u_earth_dot = u_dot - np.cross(earth_w, u)
    station_rate = np.sqrt(_rows_dot(u_earth_dot, u_earth_dot))

    return LookAngles(
        tai=tai, az=az * _DEG, el=el * _DEG, range_km=rng,
        elevation=elevation * _DEG, azimuth=azimuth * _DEG, iss_north_of_station=north > 0.0,
        az_rate=az_rate * _DEG, el_rate=el_rate * _DEG, angular_rate=angular_rate * _DEG,
        station_angular_rate=station_rate * _DEG,
    )


def in_field_of_regard(az: np.ndarray | float, el: np.ndarray | float, margin_deg: float = 0.0) -> np.ndarray:
    """True where gimbal (az, el) lies inside the derated range of motion, shrunk by ``margin_deg``."""
    az, el = np.asarray(az), np.asarray(el)
    return ((az >= AZ_RANGE_DEG[0] + margin_deg) & (az <= AZ_RANGE_DEG[1] - margin_deg)
            & (el >= EL_RANGE_DEG[0] + margin_deg) & (el <= EL_RANGE_DEG[1] - margin_deg))
