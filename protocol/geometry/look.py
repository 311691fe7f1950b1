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

"The ISS is north of the station" means the ISS orbit plane (its ground track) passes north of the
station: the station is on the starboard side (u·y > 0, so el > 0). It does not mean the ISS is
in the station's northern half-sky (``iss_in_northern_sky``): OPALS first light (5 June 2014,
8:20-8:23 pm PDT per NASA's media advisory) was sent while the ISS approached from the south-west
of OCTL, station ahead and to starboard, which this convention places inside the range of motion.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from protocol.geometry.earth import Station
from protocol.geometry.orbit import Orbit
from protocol.geometry.timescale import EARTH_ROTATION_RAD_S, gmst_rad, ut1_seconds_since_1958
from native.geometry_kernels import look_angles_kernel
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
    east in [0, 360), ``station_angular_rate`` (telescope tracking rate), ``range_km``.
    ``iss_north_of_station``: the ISS ground track passes north of the station (the station is
    on the starboard side, el > 0); ``iss_in_northern_sky``: azimuth within 90 deg of north.
    """

    tai: np.ndarray
    az: np.ndarray
    el: np.ndarray
    range_km: np.ndarray
    elevation: np.ndarray
    azimuth: np.ndarray
    iss_north_of_station: np.ndarray
    iss_in_northern_sky: np.ndarray
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


CHUNK = 65536  # samples per block: SGP4's output arrays stay in cache


def look_angles(orbit: Orbit, station: Station, tai: np.ndarray, dut1_s: float | None = None) -> LookAngles:
    """Vectorised look angles between the ISS payload and ``station`` at TAI seconds since 1958.

    ``dut1_s`` (UT1-UTC, |dut1| < 0.9 s) overrides the bundled IERS table; ignoring it would move
    the ISS up to ~0.15 km in the Earth-fixed frame, ~0.02 deg at closest approach. States come
    from :meth:`Orbit.state_interpolated` (SGP4 at 20-s nodes, within millimetres of SGP4).
    """
    tai = np.atleast_1d(np.asarray(tai, dtype=np.float64))
    if len(tai) <= CHUNK:
        return _look_angles_block(orbit, station, tai, dut1_s)
    blocks = [_look_angles_block(orbit, station, tai[i:i + CHUNK], dut1_s) for i in range(0, len(tai), CHUNK)]
    return LookAngles(*(np.concatenate([getattr(b, f.name) for b in blocks]) for f in fields(LookAngles)))


def _look_angles_block(orbit: Orbit, station: Station, tai: np.ndarray, dut1_s: float | None) -> LookAngles:
    """look_angles on one block: interpolated SGP4, then the frame algebra in the C kernel."""
    r, v = orbit.state_interpolated(tai)
    theta = gmst_rad(ut1_seconds_since_1958(tai, dut1_s))
    out = look_angles_kernel(r, v, theta, station.ecef_km, station.enu_axes, EARTH_ROTATION_RAD_S,
                             -1.5 * J2 * MU_KM3_S2 * EARTH_RADIUS_KM ** 2)
    return LookAngles(tai=tai, **out)


def look_angles_reference(orbit: Orbit, station: Station, tai: np.ndarray, dut1_s: float | None = None,
                          interpolated: bool = True) -> LookAngles:
    """The numpy reference of the C kernel (same algebra on (3, N) component rows). With
    ``interpolated`` it uses the same states as look_angles (tests hold the kernel to it); without,
    direct SGP4 at every sample (tests hold the node interpolation to it)."""
    tai = np.atleast_1d(np.asarray(tai, dtype=np.float64))
    r6, v6 = orbit.state_interpolated(tai) if interpolated else orbit.state(tai)
    rx, ry, rz = r6.T.copy()
    vx, vy, vz = v6.T.copy()
    theta = gmst_rad(ut1_seconds_since_1958(tai, dut1_s))
    c, s = np.cos(theta), np.sin(theta)

    # Line of sight ISS -> station in TEME; the station turns with the Earth (inertial velocity w x r).
    sx, sy, sz = station.ecef_km
    stx, sty = c * sx - s * sy, s * sx + c * sy
    px, py, pz = stx - rx, sty - ry, sz - rz
    pdx, pdy, pdz = -EARTH_ROTATION_RAD_S * sty - vx, EARTH_ROTATION_RAD_S * stx - vy, -vz
    rng = np.sqrt(px * px + py * py + pz * pz)
    inv = 1.0 / rng
    ux, uy, uz = px * inv, py * inv, pz * inv
    radial = ux * pdx + uy * pdy + uz * pdz
    udx, udy, udz = (pdx - ux * radial) * inv, (pdy - uy * radial) * inv, (pdz - uz * radial) * inv

    # Payload axes: z nadir, y = -orbit normal, x = y x z; frame rate omega (lvlh_angular_velocity).
    hx, hy, hz = ry * vz - rz * vy, rz * vx - rx * vz, rx * vy - ry * vx
    r2 = rx * rx + ry * ry + rz * rz
    rn = np.sqrt(r2)
    hn = np.sqrt(hx * hx + hy * hy + hz * hz)
    zx, zy, zz = -rx / rn, -ry / rn, -rz / rn
    yx, yy, yz = -hx / hn, -hy / hn, -hz / hn
    xx, xy, xz = yy * zz - yz * zy, yz * zx - yx * zz, yx * zy - yy * zx
    z2 = rz * rz / r2
    k = (-1.5 * J2 * MU_KM3_S2 * EARTH_RADIUS_KM ** 2) / (r2 * r2 * rn)
    a_h = k * ((1.0 - 5.0 * z2) * (rx * hx + ry * hy) + (3.0 - 5.0 * z2) * rz * hz) / hn
    w_h, w_r = 1.0 / r2, a_h / hn  # omega = w_h * h + w_r * r
    wx, wy, wz = w_h * hx + w_r * rx, w_h * hy + w_r * ry, w_h * hz + w_r * rz
    # Rate seen in the rotating payload frame: u_dot - omega x u.
    qx = udx - (wy * uz - wz * uy)
    qy = udy - (wz * ux - wx * uz)
    qz = udz - (wx * uy - wy * ux)

    gx, gy, gz = ux * xx + uy * xy + uz * xz, ux * yx + uy * yy + uz * yz, ux * zx + uy * zy + uz * zz
    dx, dy, dz = qx * xx + qy * xy + qz * xz, qx * yx + qy * yy + qz * yz, qx * zx + qy * zy + qz * zz
    xz2 = gx * gx + gz * gz
    az = np.arctan2(gx, gz)
    el = np.arcsin(np.clip(gy, -1.0, 1.0))
    az_rate = (gz * dx - gx * dz) / xz2
    el_rate = dy / np.sqrt(xz2)
    angular_rate = np.sqrt(dx * dx + dy * dy + dz * dz)

    # Station side: the ISS (-u) in Earth-fixed components, then local east/north/up.
    ex, ey = -(c * ux + s * uy), -(c * uy - s * ux)
    ez = -uz
    (e0, e1, e2), (n0, n1, n2), (u0, u1, u2) = station.enu_axes
    east, north, up = e0 * ex + e1 * ey, n0 * ex + n1 * ey + n2 * ez, u0 * ex + u1 * ey + u2 * ez
    elevation = np.arcsin(np.clip(up, -1.0, 1.0))
    azimuth = np.mod(np.arctan2(east, north), 2.0 * np.pi)
    # Telescope rate: the line of sight's rate relative to the rotating Earth (u_dot - w_E z x u).
    fx, fy = udx + EARTH_ROTATION_RAD_S * uy, udy - EARTH_ROTATION_RAD_S * ux
    station_rate = np.sqrt(fx * fx + fy * fy + udz * udz)

    return LookAngles(
        tai=tai, az=az * _DEG, el=el * _DEG, range_km=rng,
        elevation=elevation * _DEG, azimuth=azimuth * _DEG, iss_north_of_station=gy > 0.0,
        iss_in_northern_sky=north > 0.0,
        az_rate=az_rate * _DEG, el_rate=el_rate * _DEG, angular_rate=angular_rate * _DEG,
        station_angular_rate=station_rate * _DEG,
    )


def in_field_of_regard(az: np.ndarray | float, el: np.ndarray | float, margin_deg: float = 0.0) -> np.ndarray:
    """True where gimbal (az, el) lies inside the derated range of motion, shrunk by ``margin_deg``."""
    az, el = np.asarray(az), np.asarray(el)
    return ((az >= AZ_RANGE_DEG[0] + margin_deg) & (az <= AZ_RANGE_DEG[1] - margin_deg)
            & (el >= EL_RANGE_DEG[0] + margin_deg) & (el <= EL_RANGE_DEG[1] - margin_deg))
