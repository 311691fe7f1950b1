"""Ground stations on the WGS-84 ellipsoid: Earth-fixed position and local east/north/up axes."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

WGS84_A_KM = 6378.137
WGS84_F = 1.0 / 298.257223563
WGS84_E2 = WGS84_F * (2.0 - WGS84_F)


@dataclass(frozen=True)
class Station:
    """A ground station: geodetic latitude/longitude (deg, east positive) and height (km)."""

    name: str
    lat_deg: float
    lon_deg: float
    alt_km: float

    @cached_property
    def ecef_km(self) -> np.ndarray:
        """Earth-fixed position (km), WGS-84 (computed once per station; read-only)."""
        lat, lon = np.radians(self.lat_deg), np.radians(self.lon_deg)
        n = WGS84_A_KM / np.sqrt(1.0 - WGS84_E2 * np.sin(lat) ** 2)
        return _frozen(np.array([
            (n + self.alt_km) * np.cos(lat) * np.cos(lon),
            (n + self.alt_km) * np.cos(lat) * np.sin(lon),
            (n * (1.0 - WGS84_E2) + self.alt_km) * np.sin(lat),
        ]))

    @cached_property
    def enu_axes(self) -> np.ndarray:
        """Rows: local east, north and up (geodetic normal) unit vectors in Earth-fixed axes."""
        lat, lon = np.radians(self.lat_deg), np.radians(self.lon_deg)
        sl, cl, so, co = np.sin(lat), np.cos(lat), np.sin(lon), np.cos(lon)
        return _frozen(np.array([[-so, co, 0.0], [-sl * co, -sl * so, cl], [cl * co, cl * so, sl]]))


def _frozen(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


# NASA/JPL Optical Communications Telescope Laboratory, Table Mountain (REFERENCE.md).
OCTL = Station("OCTL", 34.38, -117.68, 2.2)
