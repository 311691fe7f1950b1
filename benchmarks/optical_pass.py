"""A full 150 s optical pass: generate the ~0.94 GB recording on the fly, decode it, measure.

    nice .venv/bin/python benchmarks/optical_pass.py [--seconds 150] [--pipe]

Default: the simulator writes the recording to a temporary file (deleted afterwards), then
``opals-ground optical decode`` reads it; we report the decoder's wall and CPU time and its peak
RSS (from wait4). --pipe streams simulator -> decoder through a pipe instead (nothing on disk;
the decoder then waits on the simulator, so its CPU time is the figure to read).
Not part of ``make test``: it takes minutes.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def _wait(proc: subprocess.Popen) -> tuple[int, float, int]:
    _, status, ru = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, ru.ru_utime + ru.ru_stime, ru.ru_maxrss // 1024


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=150.0)
    ap.add_argument("--pipe", action="store_true")
    ap.add_argument("--peak-elevation", type=float, default=60.0)
    args = ap.parse_args()
    gen_cmd = [str(BIN / "opals-sim"), "optical", "record", "--seconds", str(args.seconds),
               "--peak-elevation", str(args.peak_elevation), "--dt", "0.01"]
    dec_cmd = [str(BIN / "opals-ground"), "optical", "decode", "--json"]
    with tempfile.TemporaryDirectory(prefix="opals-pass-") as tmp:
        if args.pipe:
            t0 = time.perf_counter()
            gen = subprocess.Popen(gen_cmd + ["-o", "-"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            dec = subprocess.Popen(dec_cmd + ["-"], stdin=gen.stdout, stdout=subprocess.PIPE)
            gen.stdout.close()
            out = dec.stdout.read()
            rc, cpu, rss = _wait(dec)
            wall = time.perf_counter() - t0
            gen.wait()
            size = json.loads(out)["bytes_in"]
        else:
            rec = Path(tmp) / "pass.bin"
            t0 = time.perf_counter()
            subprocess.run(gen_cmd + ["-o", str(rec)], check=True, stderr=subprocess.DEVNULL)
            gen_wall = time.perf_counter() - t0
            size = rec.stat().st_size
            t0 = time.perf_counter()
            dec = subprocess.Popen(dec_cmd + [str(rec)], stdout=subprocess.PIPE)
            out = dec.stdout.read()
            rc, cpu, rss = _wait(dec)
            wall = time.perf_counter() - t0
            print(f"generated {size / 1e9:.3f} GB in {gen_wall:.1f} s", file=sys.stderr)
    rep = json.loads(out)
    result = {
        "pass_seconds": args.seconds, "recording_GB": round(size / 1e9, 3), "decoder_exit": rc,
        "decoder_wall_s": round(wall, 1), "decoder_cpu_s": round(cpu, 1), "decoder_peak_rss_MB": rss,
        "Mbit_per_s_cpu": round(8 * size / cpu / 1e6, 1),
        "frames": rep["frames"], "frames_good": rep["frames_good"], "frame_error_rate": rep["frame_error_rate"],
        "file_complete": rep["file_complete"],
    }
    print(json.dumps(result, indent=1))
    return 0 if rc in (0, 1) else 1


if __name__ == "__main__":
    sys.exit(main())
