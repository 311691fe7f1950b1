"""``opals-ground optical``: decode optical-downlink recordings and plot coding performance."""
from __future__ import annotations

import argparse
import json
import sys

from protocol.tm_coding import ChannelCoding


def _positive_int(text: str) -> int:
    """argparse type: a count or size that must be at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("optical", help="optical downlink: decode recordings, coding-performance curves")
    osub = p.add_subparsers(dest="optical_command", metavar="ACTION")

    dec = osub.add_parser("decode", help="recover the downlinked file from a recorded bit stream")
    dec.add_argument("recording", help="recording file, or - for stdin")
    dec.add_argument("-o", "--output", help="write the recovered file here")
    dec.add_argument("--depth", type=int, default=5, help="RS interleaving depth I (1,2,3,4,5,8)")
    dec.add_argument("--virtual-fill", type=int, default=0, help="RS virtual fill Q per codeword")
    dec.add_argument("--no-randomizer", action="store_true", help="the stream is not randomized")
    dec.add_argument("--conventional", action="store_true", help="RS symbols in the conventional basis")
    dec.add_argument("--chunk", type=_positive_int, default=1 << 20, help="read size (bytes)")
    dec.add_argument("--json", action="store_true", help="print the report as JSON")
    dec.set_defaults(func=_decode)

    cur = osub.add_parser("curves", help="BER/FER versus received SNR, measured by simulation (PNG + JSON)")
    cur.add_argument("-o", "--output", required=True, help="PNG path; the data goes next to it as .json")
    cur.add_argument("--snr-db", default="6,7,7.5,8,8.25,8.5,8.75,9,9.5,10,11,12", help="comma-separated SNR points (dB)")
    cur.add_argument("--frames", type=_positive_int, default=200, help="frames simulated per point")
    cur.add_argument("--depth", type=int, default=5)
    cur.add_argument("--seed", type=int, default=0)
    cur.set_defaults(func=_curves)


def _decode(args) -> int:
    from ground.optical.decoder import decode_stream

    try:
        coding = ChannelCoding(depth=args.depth, virtual_fill=args.virtual_fill,
                               randomize=not args.no_randomizer, dual_basis=not args.conventional)
    except ValueError as e:
        print(f"opals-ground optical decode: {e}", file=sys.stderr)
        return 2
    try:
        src = sys.stdin.buffer if args.recording == "-" else open(args.recording, "rb")
    except OSError as e:
        print(f"opals-ground optical decode: {e}", file=sys.stderr)
        return 2
    with src:
        dec = decode_stream(src, coding, args.chunk)
    rep = dec.report
    if args.output and dec.file.file_size is not None:
        with open(args.output, "wb") as f:
            f.write(dec.file.content())
    if args.json:
        print(json.dumps(rep.to_dict()))
    else:
        print(f"frames {rep.frames}: good {rep.frames_good} (corrected {rep.frames_corrected}), "
              f"failed {rep.frames_failed}; FER {rep.frame_error_rate:.3g}")
        print(f"codewords {rep.codewords}, failed {rep.codewords_failed}; symbols corrected {rep.symbols_corrected}; "
              f"CRC caught {rep.crc_after_rs_failures} miscorrections")
        print(f"sync: {rep.acquisitions} acquisitions, {rep.lock_losses} lock losses, {rep.slips} slips, "
              f"{rep.flywheel_frames} flywheel frames; {rep.frames_missing} frames missing by count")
        size = rep.file_size if rep.file_size is not None else 0
        print(f"file: {rep.bytes_recovered}/{size} bytes, {'complete' if rep.file_complete else 'INCOMPLETE'}")
    if args.output and not rep.file_complete:
        return 1
    return 0


def _curves(args) -> int:
    from ground.optical.report import measure_coding_curves, plot_curves, save_curves

    try:
        snrs = [float(x) for x in args.snr_db.split(",") if x.strip()]
        if not snrs:
            raise ValueError("--snr-db needs at least one SNR point")
        coding = ChannelCoding(depth=args.depth)
    except ValueError as e:
        print(f"opals-ground optical curves: {e}", file=sys.stderr)
        return 2
    points = measure_coding_curves(snrs, coding, args.frames, args.seed)
    plot_curves(points, args.output, f"Optical downlink: CCSDS RS(255,223), I={args.depth}", coding)
    save_curves(points, args.output.rsplit(".", 1)[0] + ".json")
    for p in points:
        print(f"{p.snr_db:6.2f} dB  channel BER {p.channel_ber:.3e}  FER {p.fer:.3e}  residual BER {p.residual_ber:.3e}")
    return 0
