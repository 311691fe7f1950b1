"""The optical downlink as a world observer: every simulator step, the flight playout emits the
CADUs for that step (only if the laser physically emits), the channel turns them into detected
bits, and they go to a recording (bit level) or are only counted (frame level, for whole passes
where 50 Mbit/s of bits would cost more than the rest of the simulation).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import BinaryIO

import numpy as np

from flight.optical_playout import OpticalPlayout, standin_video, standin_video_size
from protocol.tm_coding import ChannelCoding
from sim.optical_channel import (BitStreamWriter, ChannelSample, LinkParams, OpticalChannel,
                                 codeword_symbol_errors)


@dataclass
class OpticalLinkObserver:
    playout: OpticalPlayout
    channel: OpticalChannel
    sink: BinaryIO | None = None            # None: frame-level counting only
    frames: int = 0
    frames_failed: int = 0
    emit_s: float = 0.0
    snr_db_sum: float = 0.0
    _writer: BitStreamWriter | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.sink is not None:
            self._writer = BitStreamWriter(self.sink)

    def __call__(self, s: ChannelSample) -> None:
        if s.laser_emitting:
            self.emit_s += s.dt
        if self._writer is not None:
            cadus = self.playout.step(s.dt, s.laser_emitting)
            for chunk in self.channel.transmit(s, cadus):
                self._writer.write(chunk)
            self.frames += cadus.shape[0]
            return
        n = self.playout.skip(s.dt, s.laser_emitting)
        if n:
            c = self.playout.coding
            q = self.channel.cadu_q(s, n, c.cadu_bits)
            errs = codeword_symbol_errors(q, c.depth, 255 - c.virtual_fill, self.channel.rng)
            self.frames += n
            self.frames_failed += int((errs > 16).any(axis=1).sum())
            self.snr_db_sum += self.channel.snr_db(s) * n

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self.sink.flush()

    def summary(self) -> dict:
        out = {"frames": self.frames, "emit_s": round(self.emit_s, 3), "loops": self.playout.loops,
               "mode": "bits" if self._writer is not None else "frame-level"}
        if self._writer is None:
            out["frames_failed"] = self.frames_failed
            out["frame_error_rate"] = self.frames_failed / self.frames if self.frames else 0.0
            out["mean_snr_db"] = self.snr_db_sum / self.frames if self.frames else None
        else:
            out["bits"] = self._writer.bits_written
            out["channel_ber"] = self.channel.stats.ber
        return out


def attach_optical_link(world, seed: int = 0, sink: BinaryIO | None = None, coding: ChannelCoding | None = None,
                        params: LinkParams | None = None, video: bytes | None = None,
                        clock=None) -> OpticalLinkObserver:
    """Register the optical link on a sim World (anything with add_observer(fn(WorldSample)))."""
    coding = coding or ChannelCoding()
    video = video if video is not None else standin_video(seed + 1, standin_video_size(coding))
    playout = OpticalPlayout(video, coding, clock=clock or (lambda: 0.0))
    obs = OpticalLinkObserver(playout, OpticalChannel(params or LinkParams(), np.random.default_rng(seed)), sink)
    world.add_observer(obs)
    return obs
