"""Python face of the look-angle kernel in geometry.c (reference: protocol.geometry.look's numpy path)."""
from __future__ import annotations

import numpy as np

from native._geometry import ffi, lib

OUTPUTS = ("az", "el", "range_km", "elevation", "azimuth", "iss_north_of_station", "iss_in_northern_sky",
           "az_rate", "el_rate", "angular_rate", "station_angular_rate")


def look_angles_kernel(r: np.ndarray, v: np.ndarray, theta: np.ndarray, station_ecef: np.ndarray,
                       enu: np.ndarray, earth_rate: float, j2_coeff: float) -> dict[str, np.ndarray]:
    """Gimbal and station look angles (deg, deg/s) of TEME states (N, 3) at Earth angles ``theta``."""
    r = np.ascontiguousarray(r, dtype=np.float64)
    v = np.ascontiguousarray(v, dtype=np.float64)
    theta = np.ascontiguousarray(theta, dtype=np.float64)
    n = len(theta)
    if r.shape != (n, 3) or v.shape != (n, 3):
        raise ValueError(f"r and v must be ({n}, 3), got {r.shape} and {v.shape}")
    params = ffi.new("opals_look_params *")
    params.station_ecef = [float(x) for x in station_ecef]
    params.enu = [float(x) for x in np.asarray(enu, dtype=np.float64).ravel()]
    params.earth_rate = earth_rate
    params.j2_coeff = j2_coeff
    flags = ("iss_north_of_station", "iss_in_northern_sky")
    out = {name: np.empty(n, dtype=np.uint8 if name in flags else np.float64) for name in OUTPUTS}
    buf = {name: ffi.from_buffer("uint8_t[]" if a.dtype == np.uint8 else "double[]", a, require_writable=True)
           for name, a in out.items()}
    lib.opals_look_angles(n, ffi.from_buffer("double[]", r), ffi.from_buffer("double[]", v),
                          ffi.from_buffer("double[]", theta), params,
                          *(buf[name] for name in OUTPUTS))
    for name in flags:
        out[name] = out[name].view(np.bool_)
    return out


def hermite_states_kernel(tai: np.ndarray, pos: np.ndarray, node_tai: np.ndarray, node_r: np.ndarray,
                          node_v: np.ndarray, h: float) -> tuple[np.ndarray, np.ndarray]:
    """Cubic Hermite (position and velocity at both ends) between nodes ``h`` s apart: (N, 3) r, v."""
    tai = np.ascontiguousarray(tai, dtype=np.float64)
    pos = np.ascontiguousarray(pos, dtype=np.int64)
    node_tai = np.ascontiguousarray(node_tai, dtype=np.float64)
    node_r = np.ascontiguousarray(node_r, dtype=np.float64)
    node_v = np.ascontiguousarray(node_v, dtype=np.float64)
    n, m = len(tai), len(node_tai)
    if pos.shape != (n,) or node_r.shape != (m, 3) or node_v.shape != (m, 3):
        raise ValueError("hermite_states_kernel: inconsistent shapes")
    if n and (pos.min() < 0 or pos.max() > m - 2):
        raise ValueError("hermite_states_kernel: node index out of range")
    r = np.empty((n, 3))
    v = np.empty((n, 3))
    lib.opals_hermite_states(n, ffi.from_buffer("double[]", tai), ffi.from_buffer("int64_t[]", pos),
                             ffi.from_buffer("double[]", node_tai), ffi.from_buffer("double[]", node_r),
                             ffi.from_buffer("double[]", node_v), h,
                             ffi.from_buffer("double[]", r, require_writable=True),
                             ffi.from_buffer("double[]", v, require_writable=True))
    return r, v


def hermite_states_reference(tai: np.ndarray, pos: np.ndarray, node_tai: np.ndarray, node_r: np.ndarray,
                             node_v: np.ndarray, h: float) -> tuple[np.ndarray, np.ndarray]:
    """numpy reference of :func:`hermite_states_kernel`."""
    s = ((np.asarray(tai) - node_tai[pos]) / h)[:, None]
    r0, r1, v0, v1 = node_r[pos], node_r[pos + 1], node_v[pos], node_v[pos + 1]
    r = (2 * s**3 - 3 * s**2 + 1) * r0 + (s**3 - 2 * s**2 + s) * h * v0 + (-2 * s**3 + 3 * s**2) * r1 + (s**3 - s**2) * h * v1
    v = (6 * s**2 - 6 * s) / h * r0 + (3 * s**2 - 4 * s + 1) * v0 + (-6 * s**2 + 6 * s) / h * r1 + (3 * s**2 - 2 * s) * v1
    return r, v
