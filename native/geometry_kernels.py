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
