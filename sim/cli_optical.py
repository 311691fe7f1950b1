"""``opals-sim optical``: generate coded optical-downlink recordings through the channel model.

The recording is the raw detected bit stream (MSB first, no byte alignment guaranteed), which
``opals-ground optical decode`` turns back into the file.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace

import numpy as np

from flight.optical_playout import OpticalPlayout, standin_video, standin_video_size
from protocol.tm_coding import ChannelCoding
from sim.optical_channel import BitStreamWriter, LinkParams, OpticalChannel, run_frame_level, synthetic_pass


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("optical", help="optical downlink: coded recordings through the channel model")
    osub = p.add_subparsers(dest="optical_command", metavar="ACTION")

    rec = osub.add_parser("record", help="write the received bit stream of a synthetic pass")
    rec.add_argument("-o", "--output", required=True, help="recording file, or - for stdout")
    _common(rec)
    rec.add_argument("--video-out", help="also write the source file here (for comparison)")
    rec.add_argument("--slip-probability", type=float, default=0.0, help="receiver bit slips per CADU")
    rec.add_argument("--symbol-errors", type=int, default=None,
                     help="bypass the channel: exactly this many symbol errors in every codeword")
    rec.set_defaults(func=_checked(_record))

    fer = osub.add_parser("pass-fer", help="frame error rate over a pass, frame-level channel (no bits)")
    _common(fer)
    fer.set_defaults(func=_checked(_pass_fer))


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seconds", type=float, default=2.0, help="pass duration simulated")
    p.add_argument("--dt", type=float, default=0.01, help="world step (s)")
    p.add_argument("--peak-elevation", type=float, default=40.0)
    p.add_argument("--min-elevation", type=float, default=20.0, help="elevation at the start and end (deg)")
    p.add_argument("--emit-from", type=float, default=0.0, help="laser on from this time (s)")
    p.add_argument("--emit-until", type=float, default=None, help="laser off from this time (s)")
    p.add_argument("--depth", type=int, default=5, help="RS interleaving depth I")
    p.add_argument("--video-bytes", type=int, default=None, help="stand-in file size (default: 175 Mbit coded)")
    p.add_argument("--video-seed", type=int, default=1)
    p.add_argument("--seed", type=int, default=0, help="channel random seed")
    p.add_argument("--nep-w", type=float, default=None, help="receiver noise-equivalent power (W)")
    p.add_argument("--pointing-sigma-urad", type=float, default=47.0)


def _checked(run):
    """Bad arguments (a depth the code lacks, a non-positive duration, an unwritable path) are one
    clear line and exit status 2, not a traceback."""
    def checked(args) -> int:
        try:
            if not (args.seconds > 0 and args.dt > 0):
                raise ValueError("--seconds and --dt must be positive")
            if args.video_bytes is not None and args.video_bytes < 1:
                raise ValueError("--video-bytes must be at least 1")
            if not 0.0 <= getattr(args, "slip_probability", 0.0) <= 1.0:
                raise ValueError("--slip-probability must be within 0..1")
            if getattr(args, "symbol_errors", None) is not None and not 0 <= args.symbol_errors <= 255:
                raise ValueError("--symbol-errors must be within 0..255")
            return run(args)
        except (OSError, ValueError) as exc:
            print(f"opals-sim optical: error: {exc}", file=sys.stderr)
            return 2
    return checked


def _setup(args):
    coding = ChannelCoding(depth=args.depth)
    params = LinkParams()
    if args.nep_w is not None:
        params = replace(params, nep_w=args.nep_w)
    if getattr(args, "slip_probability", 0.0):
        params = replace(params, slip_probability=args.slip_probability)
    rng = np.random.default_rng(args.seed)
    samples = synthetic_pass(args.seconds, args.dt, peak_elevation_deg=args.peak_elevation,
                             min_elevation_deg=args.min_elevation,
                             pointing_sigma_urad=args.pointing_sigma_urad, emit_from_s=args.emit_from,
                             emit_until_s=args.emit_until, rng=rng)
    return coding, OpticalChannel(params, rng), samples


def _record(args) -> int:
    coding, channel, samples = _setup(args)
    size = args.video_bytes or standin_video_size(coding)
    video = standin_video(args.video_seed, size)
    if args.video_out:
        with open(args.video_out, "wb") as f:
            f.write(video)
    playout = OpticalPlayout(video, coding, clock=lambda: 0.0)
    sink = sys.stdout.buffer if args.output == "-" else open(args.output, "wb")
    writer = BitStreamWriter(sink)
    try:
        for s in samples:
            cadus = playout.step(s.dt, s.laser_emitting)
            if args.symbol_errors is not None:
                if s.laser_emitting:
                    inject_symbol_errors(cadus, coding, args.symbol_errors, channel.rng)
                    writer.write(cadus.reshape(-1))
                continue
            for chunk in channel.transmit(s, cadus):
                writer.write(chunk)
        writer.close()
        sink.flush()
    except BrokenPipeError:
        return 1
    finally:
        if sink is not sys.stdout.buffer:
            sink.close()
    st = channel.stats
    print(json.dumps({"frames": playout.frames_sent, "loops": playout.loops, "bits": writer.bits_written,
                      "channel_bit_errors": st.bit_errors, "channel_ber": st.ber, "slips": st.slips}),
          file=sys.stderr)
    return 0


def inject_symbol_errors(cadus: np.ndarray, coding: ChannelCoding, k: int, rng: np.random.Generator) -> None:
    """Corrupt exactly k distinct symbols of every codeword of every CADU (in place)."""
    if k <= 0 or cadus.shape[0] == 0:
        return
    n, depth, ncw = cadus.shape[0], coding.depth, 255 - coding.virtual_fill
    # k distinct symbol indices per codeword: argsort of random keys
    idx = np.argsort(rng.random((n, depth, ncw)), axis=2)[:, :, :k]
    byte = 4 + idx * depth + np.arange(depth)[None, :, None]
    values = rng.integers(1, 256, size=byte.shape, dtype=np.uint8)
    rows = np.repeat(np.arange(n), depth * k)
    cadus[rows, byte.reshape(-1)] ^= values.reshape(-1)


def _pass_fer(args) -> int:
    coding, channel, samples = _setup(args)
    out = run_frame_level(samples, channel, coding.cadu_bits, coding.depth, 255 - coding.virtual_fill)
    print(json.dumps(out))
    return 0
