"""Orbit geometry shared by the simulator (truth) and the ground (planning).

The gimbal frame defined in :mod:`protocol.geometry.look` is part of the flight-ground contract:
ground uploads pointing predicts as gimbal (az, el) in it. Pure computation; the only I/O is
reading the bundled data (ISS TLEs of June 2014, a UT1 table). The per-sample frame algebra runs
in a C kernel (native/geometry.c) held to the numpy reference ``look.look_angles_reference``.
"""
from protocol.geometry.earth import OCTL, Station
from protocol.geometry.look import (LookAngles, gimbal_angles, gimbal_direction, in_field_of_regard, look_angles,
                                    payload_axes)
from protocol.geometry.orbit import Orbit, OrbitError
from protocol.geometry.passes import Pass, Window, feasibility_mask, find_passes
from protocol.geometry.timescale import gmst_rad, teme_to_ecef, utc_seconds_since_1958
from protocol.geometry.tle import DEFAULT_TLE_PATH, load_tle, load_tles, tle_checksum_ok

__all__ = [
    "DEFAULT_TLE_PATH", "LookAngles", "OCTL", "Orbit", "OrbitError", "Pass", "Station", "Window",
    "feasibility_mask", "find_passes", "gimbal_angles", "gimbal_direction", "gmst_rad", "in_field_of_regard",
    "load_tle", "load_tles", "look_angles", "payload_axes", "teme_to_ecef", "tle_checksum_ok",
    "utc_seconds_since_1958",
]
