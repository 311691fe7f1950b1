"""The simulated world the payload lives in, and the hook other engineers observe it through.

Every simulation step the world advances physics (jitter, gimbal, relays, thermal) and calls
each registered observer with a ``WorldSample``: physical truth, not what flight believes.
The optical-downlink model and the hazard checker are such observers. Keep the name stable.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from sim.camera import CameraModel
from sim.gimbal import GimbalModel, LimitSwitches
from sim.jitter import MountJitter
from sim.laser_chain import LaserChain
from sim.pass_geometry import PassGeometry
from sim.thermal import ThermalModel

URAD_PER_DEG = math.pi / 180.0 * 1e6


@dataclass(frozen=True, slots=True)
class WorldSample:
    tai: float
    dt: float
    laser_emitting: bool            # physical truth: photons leave the aperture
    pointing_error_urad: float      # angle between the laser boresight and the station
    range_km: float
    station_elevation_deg: float
    gimbal_az_deg: float            # true gimbal angles (not the encoders)
    gimbal_el_deg: float
    beacon_visible: bool


@dataclass
class WorldConfig:
    attitude_bias_deg: tuple[float, float] = (0.10, -0.05)   # ISS attitude knowledge error
    jitter_rms_urad: float = 25.0                              # per axis, at the mount
    jitter_tau_s: float = 0.1
    beacon_on_elev_deg: float = 25.0                           # ground turns the beacon on here
    control_hz: float = 100.0
    camera: dict = field(default_factory=dict)                 # CameraModel overrides


class World:
    def __init__(self, geometry: PassGeometry, start_tai: float, seed: int = 0,
                 config: WorldConfig | None = None, stow: tuple[float, float] = (0.0, 10.0)):
        self.config = cfg = config or WorldConfig()
        self.geometry = geometry
        self.start_tai = self.tai = start_tai
        self.steps = 0
        self.rng = np.random.default_rng(seed)
        self.dt = 1.0 / cfg.control_hz
        self.jitter = MountJitter(cfg.jitter_rms_urad, cfg.jitter_tau_s, self.dt, self.rng)
        self.gimbal = GimbalModel(az=stow[0], el=stow[1], az_cmd=stow[0], el_cmd=stow[1])
        self.switches = LimitSwitches(self.gimbal)
        self.laser = LaserChain(self.switches, watchdog_timeout_s=3.5 * self.dt, now=lambda: self.tai)
        self.thermal = ThermalModel()
        self.camera = CameraModel(rng=self.rng, **cfg.camera)
        self.observers: list[Callable[[WorldSample], None]] = []
        self.jx = self.jy = 0.0
        self.err_x_urad = self.err_y_urad = 0.0
        self.beacon_visible = False
        self.beacon_on_since: float | None = None
        self.look = geometry.look(start_tai)
        self.sample: WorldSample | None = None
        self._update_truth()

    def add_observer(self, fn: Callable[[WorldSample], None]) -> None:
        self.observers.append(fn)

    def _update_truth(self) -> None:
        lk = self.look = self.geometry.look(self.tai)
        bias_az, bias_el = self.config.attitude_bias_deg
        g = self.gimbal
        self.err_x_urad = (lk.az + bias_az - g.az) * URAD_PER_DEG + self.jx
        self.err_y_urad = (lk.el + bias_el - g.el) * URAD_PER_DEG + self.jy
        on = lk.north and lk.elevation_deg >= self.config.beacon_on_elev_deg
        if on and self.beacon_on_since is None:
            self.beacon_on_since = self.tai
        if not on:
            self.beacon_on_since = None
        self.beacon_visible = on and self.camera.in_view(self.err_x_urad, self.err_y_urad)

    def step(self) -> WorldSample:
        dt = self.dt
        self.steps += 1
        self.tai = self.start_tai + self.steps * dt      # no accumulated rounding at 2e9 s
        self.jx, self.jy = self.jitter.step()
        self.gimbal.step(dt)
        self.laser.step()
        self.thermal.step(dt, self.laser.emitting)
        self._update_truth()
        s = self.sample = WorldSample(
            self.tai, dt, self.laser.emitting, math.hypot(self.err_x_urad, self.err_y_urad), self.look.range_km,
            self.look.elevation_deg, self.gimbal.az, self.gimbal.el, self.beacon_visible)
        for fn in self.observers:
            fn(s)
        return s
