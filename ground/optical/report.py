"""Optical-link section of the pass report: FER over the pass (from the decoder's counts) and
BER/FER-versus-received-SNR curves of the coding chain, measured by Monte-Carlo simulation
(real CADUs through the OOK error law, decoded by the real decoder). For ground/report.py.
"""
from __future__ import annotations

import json
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


def plot_curves(points: list[CurvePoint], path: str | Path, title: str = "Optical downlink: RS(255,223), I=5") -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    snr = [p.snr_db for p in points]
    floor = 1e-7
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.semilogy(snr, [max(p.channel_ber, floor) for p in points], "o-", label="channel BER (uncoded)")
    ax.semilogy(snr, [max(p.fer, floor) for p in points], "s-", label="frame error rate (decoded)")
    ax.semilogy(snr, [max(p.residual_ber, floor) for p in points], "^-", label="residual BER (decoded)")
    ax.set_xlabel("received electrical SNR Q^2 (dB)")
    ax.set_ylabel("rate")
    ax.set_ylim(floor / 2, 1)
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
