"""The optical downlink as a world observer: every simulator step it takes what flight's
playout handed the modulator during the last control cycle (sim/devices.SimModulator), puts it
on the beam only if the laser physically emits (WorldSample.laser_emitting: a dark laser sends
nothing whatever it was given), and either turns it into detected bits for a recording (bit
level) or only draws each frame's fate (frame level, for whole passes where 50 Mbit/s of bits
would cost more than the rest of the simulation). A recording can cover only the first seconds
of emission; the link then switches flight's modulator to frame level for the rest of the pass.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import BinaryIO

import numpy as np

from flight.optical_playout import OpticalPlayout, standin_video, standin_video_size
from protocol.tm_coding import ASM, ChannelCoding
from sim.devices import SimModulator
from sim.optical_channel import (BitStreamWriter, ChannelSample, LinkParams, OpticalChannel,
                                 codeword_symbol_errors)

CORRECTABLE = 16     # RS(255,223) corrects 16 symbol errors per codeword


@dataclass
class _Bin:
    frames: int = 0
    failed: int = 0
    snr_sum: float = 0.0


@dataclass
class OpticalLinkObserver:
    modulator: SimModulator
    channel: OpticalChannel
    coding: ChannelCoding = field(default_factory=ChannelCoding)
    sink: BinaryIO | None = None            # None: frame-level counting only
    record_s: float | None = None           # with a sink: record this long from the first emission, then frame level
    bin_s: float = 1.0                      # FER timeline resolution
    frames: int = 0                         # frames that went out on the beam
    frames_failed: int = 0                  # of those, lost (a codeword beyond the code's reach)
    frames_unlit: int = 0                   # handed to the modulator while the laser was dark
    frames_recorded: int = 0
    frames_recorded_failed: int | None = 0  # None once a receiver slip made the truth unknowable
    emit_s: float = 0.0
    snr_db_sum: float = 0.0
    record_start_tai: float | None = None
    record_end_tai: float | None = None
    _writer: BitStreamWriter | None = field(default=None, repr=False)
    _bins: dict[int, _Bin] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.sink is not None:
            self._writer = BitStreamWriter(self.sink)
            self.modulator.bit_level = True

    @property
    def recording(self) -> bool:
        return self._writer is not None and self.record_end_tai is None

    def __call__(self, s: ChannelSample) -> None:
        if s.laser_emitting:
            self.emit_s += s.dt
        cadus, n = self.modulator.drain()
        if not s.laser_emitting:
            self.frames_unlit += n
            cadus, n = None, 0
        if self.recording and (self.record_s is None or self.record_start_tai is not None or s.laser_emitting):
            self._record(s, cadus, n)
        elif n:
            c = self.coding
            q = self.channel.cadu_q(s, n, c.cadu_bits)
            errs = codeword_symbol_errors(q, c.depth, 255 - c.virtual_fill, self.channel.rng)
            self._count(s, n, int((errs > CORRECTABLE).any(axis=1).sum()))

    def _record(self, s: ChannelSample, cadus: np.ndarray | None, n: int) -> None:
        if self.record_start_tai is None:
            self.record_start_tai = s.tai - s.dt
        rows = cadus if cadus is not None else np.empty((0, self.coding.cadu_len), dtype=np.uint8)
        chunks = self.channel.transmit(s, rows)
        for chunk in chunks:
            self._writer.write(chunk)
        if rows.shape[0]:
            failed = self._truth_failures(rows, chunks)
            self.frames_recorded += rows.shape[0]
            if failed is None or self.frames_recorded_failed is None:
                self.frames_recorded_failed = None
                failed = 0
            else:
                self.frames_recorded_failed += failed
            self._count(s, rows.shape[0], failed)
        if n > rows.shape[0]:        # frames flight played without bits (cannot happen while recording)
            self.frames_unlit += n - rows.shape[0]
        if self.record_s is not None and s.tai - self.record_start_tai >= self.record_s - 1e-9:
            self.record_end_tai = s.tai
            self.modulator.bit_level = False     # the rest of the pass at frame level
            self._writer.close()
            self.sink.flush()

    def _truth_failures(self, sent: np.ndarray, chunks: list[np.ndarray]) -> int | None:
        """Frames the code cannot repair, from the symbols the channel actually changed."""
        if len(chunks) != 1 or chunks[0].dtype != np.uint8 or chunks[0].size != sent.size:
            return None    # a clock slip: the bits no longer line up with what was sent
        got = chunks[0].reshape(sent.shape)[:, len(ASM):]
        bad = (got != sent[:, len(ASM):]).reshape(sent.shape[0], -1, self.coding.depth).sum(axis=1)
        return int((bad > CORRECTABLE).any(axis=1).sum())

    def _count(self, s: ChannelSample, n: int, failed: int) -> None:
        snr = self.channel.snr_db(s)
        self.frames += n
        self.frames_failed += failed
        if math.isfinite(snr):
            self.snr_db_sum += snr * n
        b = self._bins.setdefault(int(s.tai // self.bin_s), _Bin())
        b.frames += n
        b.failed += failed
        b.snr_sum += snr * n if math.isfinite(snr) else 0.0

    def close(self) -> None:
        if self._writer is not None and self.record_end_tai is None:
            self.record_end_tai = self.record_start_tai
            self._writer.close()
            self.sink.flush()

    def timeline(self) -> list[dict]:
        """Frames, losses and mean received SNR per bin of TAI (for the pass report's FER plot)."""
        return [{"tai": k * self.bin_s, "frames": b.frames, "failed": b.failed,
                 "mean_snr_db": round(b.snr_sum / b.frames, 3) if b.frames else None}
                for k, b in sorted(self._bins.items())]

    def summary(self) -> dict:
        out = {"frames": self.frames, "frames_failed": self.frames_failed,
               "frame_error_rate": self.frames_failed / self.frames if self.frames else 0.0,
               "frames_unlit": self.frames_unlit, "emit_s": round(self.emit_s, 3),
               "mean_snr_db": self.snr_db_sum / self.frames if self.frames else None,
               "frames_modulated": self.modulator.frames_in,
               "mode": "bits" if self._writer is not None and self.record_s is None else
                       "bits+frame-level" if self._writer is not None else "frame-level"}
        if self._writer is not None:
            out["recording"] = {"bits": self._writer.bits_written, "frames": self.frames_recorded,
                                "frames_failed": self.frames_recorded_failed,
                                "start_tai": self.record_start_tai, "end_tai": self.record_end_tai,
                                "channel_ber": self.channel.stats.ber, "slips": self.channel.stats.slips}
        return out


@dataclass
class TruthDrivenPlayout:
    """Stands in for the flight software on synthetic samples (recordings and tests with no flight
    software): plays the file out whenever the laser physically emits. Simulator runs never use
    it: there flight's own playout (flight/optical_transmit.py) drives the modulator."""

    playout: OpticalPlayout
    modulator: SimModulator

    def __call__(self, s: ChannelSample) -> None:
        if self.modulator.bit_level:
            cadus = self.playout.step(s.dt, s.laser_emitting)
            if cadus.shape[0]:
                self.modulator.modulate(cadus)
        else:
            n = self.playout.skip(s.dt, s.laser_emitting)
            if n:
                self.modulator.advance(n)


def attach_optical_link(world, seed: int = 0, sink: BinaryIO | None = None, coding: ChannelCoding | None = None,
                        params: LinkParams | None = None, video: bytes | None = None, clock=None,
                        modulator: SimModulator | None = None, record_s: float | None = None) -> OpticalLinkObserver:
    """Register the optical link on a sim World (anything with add_observer(fn(WorldSample))).

    ``modulator``: flight's (Simulation.modulator). Without one (synthetic samples, no flight), a
    TruthDrivenPlayout of ``video`` stands in for flight."""
    coding = coding or ChannelCoding()
    if modulator is None:
        modulator = SimModulator()
        modulator.bit_level = sink is not None
        video = video if video is not None else standin_video(seed + 1, standin_video_size(coding))
        world.add_observer(TruthDrivenPlayout(OpticalPlayout(video, coding, clock=clock or (lambda: 0.0)), modulator))
    obs = OpticalLinkObserver(modulator, OpticalChannel(params or LinkParams(), np.random.default_rng(seed)), coding,
                              sink, record_s)
    world.add_observer(obs)
    return obs
