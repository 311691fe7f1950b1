"""Temperatures and bus power for housekeeping (first-order thermal model)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ThermalModel:
    laser: float = 22.0
    gimbal: float = 18.0
    electronics: float = 25.0
    tau_s: float = 120.0
    heating_fault_cps: float = 0.0     # fault: laser heats this many degC per second

    def step(self, dt: float, emitting: bool) -> None:
        target = 22.0 + (12.0 if emitting else 0.0)
        self.laser += (target - self.laser) * dt / self.tau_s + self.heating_fault_cps * dt
        self.electronics += (25.0 + (3.0 if emitting else 0.0) - self.electronics) * dt / self.tau_s

    def read(self) -> tuple[float, float, float]:
        return self.laser, self.gimbal, self.electronics
