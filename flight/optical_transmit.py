"""Flight's side of the optical downlink: in TRANSMIT, while the photodiode senses emission, step
the looped-file playout every control cycle and hand the coded frames to the modulator.

Flight owns the playout (when it starts, stops, what it sends); the light itself is physics: a
modulator driven while the laser is dark puts nothing on the beam.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from flight.hal import ModulatorDevice
from flight.optical_playout import OpticalPlayout, standin_video, standin_video_size
from protocol.tm_coding import ChannelCoding


@dataclass
class OpticalTransmitter:
    modulator: ModulatorDevice
    event: Callable[..., None]
    clock: Callable[[], float]
    coding: ChannelCoding = field(default_factory=ChannelCoding)
    video_seed: int = 1
    video_bytes: int | None = None          # None: the 175 Mbit coded stand-in of the OPALS video
    playout: OpticalPlayout | None = None
    active: bool = False
    sessions: int = 0
    _at_start: tuple[int, int] = (0, 0)

    def _playout(self) -> OpticalPlayout:
        if self.playout is None:    # built on first use: ~22 MB, not worth it for passes that never fire
            size = self.video_bytes or standin_video_size(self.coding)
            self.playout = OpticalPlayout(standin_video(self.video_seed, size), self.coding, clock=self.clock)
        return self.playout

    def cycle(self, dt: float, transmitting: bool, emission_sensed: bool) -> int:
        """One control period; returns the frames handed to the modulator."""
        on = transmitting and emission_sensed
        if on != self.active:
            self._toggle(on)
        if not on:
            if self.playout is not None:
                self.playout.skip(dt, False)        # drops the fraction of a frame owed
            return 0
        p = self._playout()
        if self.modulator.bit_level:
            cadus = p.step(dt, True)
            if cadus.shape[0]:
                self.modulator.modulate(cadus)
            return int(cadus.shape[0])
        n = p.skip(dt, True)
        if n:
            self.modulator.advance(n)
        return n

    def stop(self) -> None:
        if self.active:
            self._toggle(False)

    def _toggle(self, on: bool) -> None:
        p = self._playout()
        self.active = on
        if on:
            self.sessions += 1
            self._at_start = (p.frames_sent, p.loops)
            self.event("OPTICAL_PLAYOUT_STARTED", self.coding.depth)
        else:
            self.event("OPTICAL_PLAYOUT_STOPPED", p.frames_sent - self._at_start[0], p.loops - self._at_start[1])
