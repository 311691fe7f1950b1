"""Optical downlink channel: space-to-ground 1550 nm OOK through the turbulent atmosphere.

It consumes a sequence of world samples (anything with the attributes of the simulator's
``WorldSample``: tai, dt, laser_emitting, pointing_error_urad, range_km, station_elevation_deg) and the
CADUs the payload put on the beam during each sample, and returns the bits the ground receiver
detected. Physics, per CADU (~0.2 ms at 50 Mbit/s, shorter than the fades):

* received power: Gaussian beam of the given divergence, pointing loss exp(-2 (e/theta)^2),
  1 m aperture, atmospheric transmission exp(-tau / sin(elevation)), optics efficiency;
* log-normal scintillation: the log-amplitude is an AR(1) process with a millisecond correlation
  time, scintillation index growing toward the horizon, normalised to unit mean;
* receiver: Q = P_rx / sqrt(NEP^2 + k_bg * P_background); BER = erfc(Q / sqrt 2) / 2;
* no light (laser not emitting or below the horizon): the detector outputs noise (BER 1/2).

Figures marked "assumed" are design choices: OPALS' receiver figures are not published.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable, Protocol

import numpy as np

from protocol.ook import flip_bits, ook_ber, snr_db_from_q


class ChannelSample(Protocol):
    tai: float
    dt: float
    laser_emitting: bool
    pointing_error_urad: float
    range_km: float
    station_elevation_deg: float


@dataclass(frozen=True)
class SyntheticSample:
    """A stand-alone world sample with the fields the channel reads (tests, recordings)."""

    tai: float
    dt: float
    laser_emitting: bool
    pointing_error_urad: float
    range_km: float
    station_elevation_deg: float


@dataclass(frozen=True)
class LinkParams:
    tx_power_w: float = 2.5                # OPALS fibre amplifier (REFERENCE.md)
    divergence_urad: float = 750.0         # 1/e^2 half angle (assumed)
    aperture_m: float = 1.0                # OCTL telescope
    optics_efficiency: float = 0.3         # assumed
    zenith_optical_depth: float = 0.15     # assumed clear sky at 2.2 km
    nep_w: float = 1e-7                    # receiver noise-equivalent power at 50 Mbit/s incl. losses (assumed)
    background_w: float = 0.0              # sky background collected in the filter band
    background_noise_w: float = 4e-7      # background power that doubles the noise variance (assumed)
    scintillation_index_zenith: float = 0.08  # sigma_I^2 at zenith (assumed)
    scintillation_index_max: float = 1.0
    correlation_time_s: float = 2e-3       # fade correlation time: milliseconds
    bit_rate: float = 50e6
    slip_probability: float = 0.0          # receiver clock slips per CADU (bit dropped or repeated)


def mean_received_power_w(p: LinkParams, range_km: float, pointing_error_urad: float, elevation_deg: float) -> float:
    if elevation_deg <= 0.0 or range_km <= 0.0:
        return 0.0
    w = p.divergence_urad * 1e-6 * range_km * 1e3          # beam radius at the ground (m)
    peak = 2.0 * p.tx_power_w / (math.pi * w * w)           # on-axis irradiance (W/m^2)
    pointing = math.exp(-2.0 * (pointing_error_urad / p.divergence_urad) ** 2)
    area = math.pi * (p.aperture_m / 2.0) ** 2
    atmosphere = math.exp(-p.zenith_optical_depth / math.sin(math.radians(elevation_deg)))
    return peak * pointing * area * atmosphere * p.optics_efficiency


def scintillation_index(p: LinkParams, elevation_deg: float) -> float:
    if elevation_deg <= 0.0:
        return p.scintillation_index_max
    airmass = 1.0 / math.sin(math.radians(elevation_deg))
    return min(p.scintillation_index_max, p.scintillation_index_zenith * airmass ** (11.0 / 6.0))


def q_factor(p: LinkParams, received_w: np.ndarray | float) -> np.ndarray:
    noise = math.sqrt(p.nep_w ** 2 + p.nep_w ** 2 * p.background_w / p.background_noise_w)
    return np.asarray(received_w, dtype=float) / noise


@dataclass
class ChannelStats:
    cadus: int = 0
    bits: int = 0
    bit_errors: int = 0
    dark_bits: int = 0      # bits received with no light
    slips: int = 0

    @property
    def ber(self) -> float:
        return self.bit_errors / self.bits if self.bits else 0.0


@dataclass
class OpticalChannel:
    """Stateful channel: the fade process carries over from one sample to the next."""

    params: LinkParams = field(default_factory=LinkParams)
    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(0))

    def __post_init__(self) -> None:
        self._chi = 0.0          # log-amplitude fade state, unit variance
        self.stats = ChannelStats()

    def fades(self, n: int, step_s: float, index: float) -> np.ndarray:
        """n irradiance factors (mean 1, log-normal with scintillation index ``index``) at step_s spacing."""
        rho = math.exp(-step_s / self.params.correlation_time_s)
        sig = math.sqrt(max(1e-12, 1.0 - rho * rho))
        noise = self.rng.standard_normal(n)
        out = np.empty(n)
        chi = self._chi
        for i in range(n):      # AR(1); n is the CADUs in one world step (hundreds)
            chi = rho * chi + sig * noise[i]
            out[i] = chi
        self._chi = chi
        s2 = math.log1p(index)  # variance of ln(I)
        return np.exp(math.sqrt(s2) * out - s2 / 2.0)

    def cadu_q(self, sample: ChannelSample, n: int, cadu_bits: int) -> np.ndarray:
        """Q factor of each of n CADUs sent during the sample (0 where there is no light)."""
        p = self.params
        if not sample.laser_emitting or n == 0:
            return np.zeros(n)
        mean = mean_received_power_w(p, sample.range_km, sample.pointing_error_urad, sample.station_elevation_deg)
        if mean <= 0.0:
            return np.zeros(n)
        fade = self.fades(n, cadu_bits / p.bit_rate, scintillation_index(p, sample.station_elevation_deg))
        return q_factor(p, mean * fade)

    def transmit(self, sample: ChannelSample, cadus: np.ndarray) -> list[np.ndarray]:
        """Bits detected during the sample, as chunks for a BitStreamWriter: uint8 byte rows, or
        (after a clock slip) unpacked bit arrays flagged by dtype bool. Laser off: dt of noise."""
        p = self.params
        if not sample.laser_emitting or cadus.shape[0] == 0:
            nbytes = int(sample.dt * p.bit_rate) // 8
            self.stats.dark_bits += 8 * nbytes
            self.stats.bits += 8 * nbytes
            return [self.rng.integers(0, 256, size=nbytes, dtype=np.uint8)]
        rows = np.array(cadus, dtype=np.uint8, copy=True)
        q = self.cadu_q(sample, rows.shape[0], 8 * rows.shape[1])
        errors = flip_bits(rows, ook_ber(q), self.rng)
        self.stats.cadus += rows.shape[0]
        self.stats.bits += rows.size * 8
        self.stats.bit_errors += int(errors.sum())
        if p.slip_probability <= 0.0:
            return [rows.reshape(-1)]
        out: list[np.ndarray] = []
        slipped = np.nonzero(self.rng.random(rows.shape[0]) < p.slip_probability)[0]
        start = 0
        for r in slipped:
            out.append(rows[start:r].reshape(-1))
            bits = np.unpackbits(rows[r]).astype(bool)
            at = int(self.rng.integers(0, bits.size))
            bits = np.delete(bits, at) if self.rng.random() < 0.5 else np.insert(bits, at, bits[at])
            out.append(bits)
            self.stats.slips += 1
            start = r + 1
        out.append(rows[start:].reshape(-1))
        return out

    def snr_db(self, sample: ChannelSample) -> float:
        """Mean received SNR (dB) of the sample, without fades (for reports)."""
        if not sample.laser_emitting:
            return float("-inf")
        mean = mean_received_power_w(self.params, sample.range_km, sample.pointing_error_urad, sample.station_elevation_deg)
        return float(snr_db_from_q(q_factor(self.params, mean)))


class BitStreamWriter:
    """Packs byte chunks and odd-length bit chunks into a byte stream (MSB first)."""

    def __init__(self, sink) -> None:
        self._sink = sink
        self._pending = np.zeros(0, dtype=bool)   # < 8 bits not yet written
        self.bits_written = 0

    def write(self, chunk: np.ndarray) -> None:
        if chunk.dtype == bool:
            bits = np.concatenate([self._pending, chunk])
        elif self._pending.size == 0:
            self._sink.write(chunk.tobytes())
            self.bits_written += 8 * chunk.size
            return
        else:
            bits = np.concatenate([self._pending, np.unpackbits(chunk).astype(bool)])
        whole = bits.size - bits.size % 8
        self._sink.write(np.packbits(bits[:whole]).tobytes())
        self.bits_written += whole
        self._pending = bits[whole:]

    def close(self) -> None:
        if self._pending.size:
            self._sink.write(np.packbits(self._pending).tobytes())
            self.bits_written += self._pending.size
            self._pending = np.zeros(0, dtype=bool)


def codeword_symbol_errors(q: np.ndarray, depth: int, n_symbols: int, rng: np.random.Generator) -> np.ndarray:
    """Frame-level channel for whole passes: symbol errors per codeword (len(q), depth) drawn from
    each CADU's instantaneous BER (symbol error probability 1 - (1 - BER)^8)."""
    p_sym = 1.0 - (1.0 - ook_ber(q)) ** 8
    return rng.binomial(n_symbols, np.repeat(p_sym[:, None], depth, axis=1))


def run_frame_level(samples: Iterable[ChannelSample], channel: OpticalChannel, cadu_bits: int, depth: int,
                    n_symbols: int = 255, correctable: int = 16) -> dict[str, float]:
    """Pass FER without generating bits: CADUs sent while emitting, failed when any codeword has
    more symbol errors than the code corrects."""
    frames = failed = 0
    owed = 0.0
    for s in samples:
        if not s.laser_emitting:
            owed = 0.0
            continue
        owed += s.dt * channel.params.bit_rate
        n = int(owed // cadu_bits)
        owed -= n * cadu_bits
        if not n:
            continue
        q = channel.cadu_q(s, n, cadu_bits)
        errs = codeword_symbol_errors(q, depth, n_symbols, channel.rng)
        frames += n
        failed += int((errs > correctable).any(axis=1).sum())
    return {"frames": frames, "frames_failed": failed, "fer": failed / frames if frames else 0.0}


def synthetic_pass(duration_s: float, dt: float = 0.01, tai0: float = 0.0, peak_elevation_deg: float = 60.0,
                   min_range_km: float = 420.0, pointing_sigma_urad: float = 47.0, emit_from_s: float = 0.0,
                   emit_until_s: float | None = None, rng: np.random.Generator | None = None,
                   min_elevation_deg: float = 20.0) -> list[SyntheticSample]:
    """A simple symmetric pass segment (elevation rising from min_elevation_deg to a peak and
    falling back, range from the elevation on a spherical Earth for an orbit at min_range_km) with
    Rayleigh pointing error of 3-sigma ~140 urad (OPALS tracking), emitting between the given times."""
    rng = rng or np.random.default_rng(0)
    re, h = 6371.0, min_range_km
    out = []
    n = int(round(duration_s / dt))
    until = duration_s if emit_until_s is None else emit_until_s
    for i in range(n):
        t = i * dt
        frac = (t - duration_s / 2) / (duration_s / 2)
        el = max(0.5, min_elevation_deg + (peak_elevation_deg - min_elevation_deg) * (1.0 - frac * frac))
        e = math.radians(el)
        rng_km = -re * math.sin(e) + math.sqrt((re * math.sin(e)) ** 2 + 2 * re * h + h * h)
        pe = float(np.hypot(*rng.normal(0.0, pointing_sigma_urad, 2)))
        out.append(SyntheticSample(tai0 + t, dt, emit_from_s <= t < until, pe, rng_km, el))
    return out
