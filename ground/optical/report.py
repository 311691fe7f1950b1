"""Optical-link section of the pass report: FER over the pass (from the decoder's counts) and
BER/FER-versus-received-SNR curves of the coding chain, measured by Monte-Carlo simulation
(real CADUs through the OOK error law, decoded by the real decoder). For ground/report.py.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ground.optical.decoder import DecodeReport
from protocol.ook import flip_bits, ook_ber, q_from_snr_db
from protocol.tm_coding import ChannelCoding, StreamDecoder, encode_cadus
from protocol.tm_frames import TmFrameFormat, build_frame


@dataclass(frozen=True)
class CurvePoint:
    snr_db: float
    channel_ber: float       # measured raw bit error rate on the CADUs
    frames: int
    frame_errors: int        # frames lost: not found, uncorrectable, or CRC failure
    fer: float
    residual_ber: float      # bit errors left in the frames the decoder delivered or lost (lost = all bits)
    symbols_corrected: int


def theoretical_fer(channel_ber: float, coding: ChannelCoding | None = None, correctable: int = 16) -> float:
    """FER of a bounded-distance RS decoder with independent bit errors: a frame is lost when any
    of its I codewords has more than E symbol errors (marker errors and sync losses ignored)."""
    coding = coding or ChannelCoding()
    n = 255 - coding.virtual_fill
    p = 1.0 - (1.0 - channel_ber) ** 8
    ok = sum(math.comb(n, j) * p ** j * (1 - p) ** (n - j) for j in range(correctable + 1))
    return 1.0 - min(1.0, ok) ** coding.depth


def _frames(coding: ChannelCoding, n: int, rng: np.random.Generator) -> tuple[bytes, np.ndarray]:
    fmt = TmFrameFormat(length=coding.frame_len)
    raw = [build_frame(fmt, rng.bytes(fmt.data_field_len), i, i) for i in range(n)]
    return b"".join(raw), np.frombuffer(b"".join(raw), dtype=np.uint8).reshape(n, -1)


def measure_point(snr_db: float, coding: ChannelCoding, frames: int, rng: np.random.Generator) -> CurvePoint:
    """Send ``frames`` random frames at a fixed received SNR and decode them with frame sync."""
    data, truth = _frames(coding, frames, rng)
    cadus = encode_cadus(coding, data)
    # the marker is sent through the channel too: sync must find it under the same errors
    ber = float(ook_ber(q_from_snr_db(snr_db)))
    errors = flip_bits(cadus, ber, rng)
    dec = StreamDecoder(coding)
    batches = dec.feed(cadus.tobytes(), final=True)
    lost_bits = 0
    delivered = 0
    fer_errors = frames
    if batches:
        frames_out = np.concatenate([b.frames for b in batches])
        ok = np.concatenate([(b.corrected >= 0).all(axis=1) & b.crc_ok for b in batches])
        idx = (np.concatenate([b.bit_offsets for b in batches]) // coding.cadu_bits).astype(np.int64)
        keep = ok & (idx < frames)
        delivered = int(keep.sum())
        diff = frames_out[keep] ^ truth[idx[keep]]
        lost_bits = int(np.unpackbits(diff).sum())
        fer_errors = frames - len(np.unique(idx[keep]))
        corrected = int(sum(np.where(b.corrected > 0, b.corrected, 0).sum() for b in batches))
    else:
        corrected = 0
    total_bits = frames * coding.frame_len * 8
    residual = (lost_bits + fer_errors * coding.frame_len * 8 // 2) / total_bits  # lost frames: coin flips
    return CurvePoint(snr_db, float(errors.sum()) / cadus.size / 8, frames, fer_errors, fer_errors / frames,
                      residual, corrected)


def measure_coding_curves(snr_db: list[float], coding: ChannelCoding | None = None, frames: int = 200,
                          seed: int = 0) -> list[CurvePoint]:
    coding = coding or ChannelCoding()
    rng = np.random.default_rng(seed)
    return [measure_point(s, coding, frames, rng) for s in snr_db]


def plot_curves(points: list[CurvePoint], path: str | Path, title: str = "Optical downlink: CCSDS RS(255,223)",
                coding: ChannelCoding | None = None) -> Path:
    """PNG of the curves; zero rates (nothing lost in the frames simulated) are not drawn, and the
    caption says how many frames each point had, i.e. the smallest FER the plot could show."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    snr = [p.snr_db for p in points]

    def nz(values: list[float]) -> list[float]:
        return [v if v > 0 else float("nan") for v in values]

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.semilogy(snr, nz([p.channel_ber for p in points]), "o-", label="channel BER (uncoded)")
    ax.semilogy(snr, nz([p.fer for p in points]), "s-", label="frame error rate (decoded)")
    ax.semilogy(snr, nz([p.residual_ber for p in points]), "^-", label="residual BER (decoded)")
    ax.semilogy(snr, nz([theoretical_fer(p.channel_ber, coding) for p in points]), "k--", lw=0.8,
                label="FER, bounded-distance theory")
    ax.set_xlabel("received electrical SNR Q^2 (dB)")
    ax.set_ylabel("rate")
    frames = min((p.frames for p in points), default=0)
    ax.text(0.99, 0.99, f"{frames} frames per point; zero rates not drawn", transform=ax.transAxes,
            ha="right", va="top", fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    ax.set_title(title)
    ax.legend(loc="lower left")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def save_curves(points: list[CurvePoint], path: str | Path) -> Path:
    path = Path(path)
    path.write_text(json.dumps([asdict(p) for p in points], indent=1))
    return path


def pass_link_summary(report: DecodeReport) -> dict[str, float | int | bool | None]:
    """The figures the pass report quotes for the optical link of one pass."""
    return {
        "frames": report.frames,
        "frames_good": report.frames_good,
        "frames_corrected": report.frames_corrected,
        "frames_failed": report.frames_failed,
        "frame_error_rate": report.frame_error_rate,
        "symbols_corrected": report.symbols_corrected,
        "codewords_failed": report.codewords_failed,
        "lock_losses": report.lock_losses,
        "file_complete": report.file_complete,
        "bytes_recovered": report.bytes_recovered,
        "file_size": report.file_size,
    }


def pass_link_markdown(report: DecodeReport) -> str:
    s = pass_link_summary(report)
    rows = "\n".join(f"| {k.replace('_', ' ')} | {v:.3g} |" if isinstance(v, float) else f"| {k.replace('_', ' ')} | {v} |"
                     for k, v in s.items())
    return "## Optical downlink\n\n| quantity | value |\n|---|---|\n" + rows + "\n"
