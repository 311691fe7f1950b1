"""`make demo`: the main job. The payload simulator and the ground run as separate processes over
UDP loopback; ground plans the next feasible pass from the TLE, uploads the day in the life as a
timed sequence (power on -> health check -> predicts -> acquire -> track -> arm/fire -> transmit
-> safe -> file downlink -> idle), follows it at maximum speed, collects the files, and writes
out/<pass>/report.html from the archive.
"""
from __future__ import annotations

import argparse
import json
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ground.pass_operations import decode_optical_recording, operate_pass, plan_next_pass  # noqa: E402
from ground.passes import iso_utc  # noqa: E402
from ground.report import CURVE_FRAMES, OpticalPassInputs, cached_coding_curves, write_report  # noqa: E402
from ground.session import Session  # noqa: E402
from protocol.time_codes import datetime_to_tai  # noqa: E402


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


OPTICAL_RECORD_S = 15.0   # bit level for the first 15 s of emission (~94 MB, ~4 loops of the file); frame level after


def sim_command(sim_url: str, start_tai: float, duration: float, store: Path, summary: Path, seed: int,
                optical_dir: Path | None = None, record_s: float = OPTICAL_RECORD_S) -> list[str]:
    cmd = [sys.executable, "-m", "sim.cli", "run", "--link", sim_url, "--geometry", "orbit",
           "--start", iso_utc(start_tai), "--plan", "ground", "--hold", "--speed", "max",
           "--duration", f"{duration:.1f}", "--store", str(store), "--summary", str(summary),
           "--seed", str(seed), "--quiet"]
    if optical_dir is not None:   # the ground station's receiver output, and the ground's copy of the video
        cmd += ["--optical", "--optical-record", str(optical_dir / "received.bits"),
                "--optical-record-seconds", str(record_s), "--optical-source", str(optical_dir / "source.bin")]
    return cmd


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--after", default="2014-06-05T00:00:00+00:00", help="plan the first feasible pass after this UTC")
    ap.add_argument("--min-feasible", type=float, default=120.0,
                    help="skip passes with less feasible time than this (s); OPALS transmitted ~150 s")
    ap.add_argument("--out", default=str(ROOT / "out"))
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args(argv)
    console = Console()
    import datetime as dt
    after = datetime_to_tai(dt.datetime.fromisoformat(a.after))
    t_wall = time.monotonic()
    planned = plan_next_pass(after, min_feasible_s=a.min_feasible)
    out = Path(a.out) / planned.name
    if out.exists():   # a fresh pass each run: an old archive here would merge into this one's statistics
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    console.print(f"[bold]Pass {planned.number}[/]: rise {iso_utc(planned.pass_.rise_tai)}, "
                  f"max elevation {planned.pass_.max_elevation_deg:.1f} deg, feasible "
                  f"{planned.pass_.feasible_duration:.0f} s; plan of {len(planned.plan)} timed commands")
    gport, sport = free_udp_port(), free_udp_port()
    ground_url = f"udp://127.0.0.1:{sport}?local=127.0.0.1:{gport}"
    sim_url = f"udp://127.0.0.1:{gport}?local=127.0.0.1:{sport}"
    start = planned.start_tai - 120.0   # sim-time margin for the link check and upload (max speed)
    duration = planned.end_tai - start + 220.0   # the downlink may still run after the last timed command (GO_IDLE)
    session = Session.connect(ground_url, data_dir=out / "ground", operator="demo")
    sim_log = open(out / "sim.log", "w")
    proc = subprocess.Popen(sim_command(sim_url, start, duration, out / "flight-store", out / "sim-summary.json",
                                        a.seed, out / "optical"), cwd=ROOT, stdout=sim_log, stderr=subprocess.STDOUT)
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                      TimeElapsedColumn(), console=console) as bar:
            task = bar.add_task("uploading plan", total=1.0)

            def show(p) -> None:
                label = {"upload": "uploading plan", "pass": "pass in progress", "files": "file downlink",
                         "done": "done"}[p.stage]
                extra = f" payload {iso_utc(p.payload_tai)[11:19]} events {p.events} files {p.files}" if p.payload_tai else ""
                bar.update(task, completed=p.fraction, description=label + extra)

            outcome = operate_pass(session, planned, lambda: proc.poll() is None, show, files_timeout=60.0)
    finally:
        if proc.poll() is None:
            proc.terminate()
        proc.wait(timeout=30)
        session.close()
    received = session.files.received if session.files else []
    sim_summary = json.loads((out / "sim-summary.json").read_text()) if (out / "sim-summary.json").exists() else {}
    from ground.archive import Archive
    from protocol.opals import DICTIONARY
    archive = Archive(out / "ground" / "archive", DICTIONARY)
    extra = {"timed commands stored": sum(r.ok for r in outcome.uploaded),
             "sequence commands executed": len(outcome.executed),
             "rejections": "; ".join(outcome.rejected) or "none",
             "files downlinked / announced": f"{outcome.files_done} / {outcome.files_expected}",
             "simulator exit code": proc.returncode,
             "hazard violations (sim truth)": sim_summary.get("hazards", {}).get("violations", "n/a"),
             "wall time (s)": round(time.monotonic() - t_wall, 1)}
    optical = None
    if (out / "optical" / "received.bits").exists():
        decoded = decode_optical_recording(out / "optical" / "received.bits", out / "optical" / "source.bin")
        curves = cached_coding_curves(Path(a.out) / "optical-curves.json")
        optical = OpticalPassInputs(decoded, sim_summary.get("optical"), curves, CURVE_FRAMES)
    report = write_report(archive, out, f"OPALS pass {planned.name}", received, extra, optical)
    archive.raw.close()
    stats = json.loads((out / "summary.json").read_text())["stats"]
    console.print(f"[bold green]Report[/]: {report}")
    for k, v in extra.items():
        console.print(f"  {k}: {v}")
    console.print(f"  pointing error while locked: median {stats['err_locked_p50']:.1f} urad, "
                  f"3-sigma {stats['err_locked_3sigma']:.0f} urad (includes the pull-in after lock)")
    if stats["transmit_samples"]:
        console.print(f"  pointing error while transmitting: median {stats['err_transmit_p50']:.1f} urad, "
                      f"3-sigma {stats['err_transmit_3sigma']:.0f} urad (requirement 140), "
                      f"{100 * stats['transmit_within_requirement']:.1f}% of samples within 140 urad")
    console.print(f"  laser emitting {stats['emitting_s']:.1f} s; emissions started unauthorised: "
                  f"{stats['emission_unauthorised_onsets']}; dark {1000 * stats['safing_latency_max_s']:.0f} ms "
                  f"after authorisation was withdrawn")
    missing = sum(c["gaps"] for c in stats["completeness"])
    console.print(f"  archive: {sum(c['received'] for c in stats['completeness'])} packets, {missing} missing by sequence count")
    optical_ok = optical is not None and optical.decoded.all_good_frames_match and optical.decoded.report["frames_good"] > 0
    if optical is not None:
        link, d = optical.link or {}, optical.decoded
        r = d.report
        console.print(f"  optical (simulator, whole pass, frame level): {link.get('frames', 0)} frames on the beam in "
                      f"{link.get('emit_s', 0):.1f} s of emission, FER {link.get('frame_error_rate', 0):.3g}, "
                      f"mean SNR {link.get('mean_snr_db') or float('nan'):.1f} dB")
        console.print(f"  optical (ground decoder, first {OPTICAL_RECORD_S:.0f} s recorded, {d.recording_bytes / 1e6:.0f} MB): "
                      f"{r['frames']} frames, {r['frames_good']} good, FER {r['frame_error_rate']:.3g} "
                      f"(channel truth {(link.get('recording') or {}).get('frames_failed')} lost); "
                      f"{d.segments_matching}/{d.segments} segments equal to the source; whole file "
                      f"{'recovered and equal' if d.file_equal else 'NOT equal' if d.file_equal is False else 'incomplete'}")
        console.print(f"  optical curves: {len(optical.curves)} SNR points x {optical.curve_frames} frames "
                      f"(cached in {Path(a.out) / 'optical-curves.json'})")
    ok = (proc.returncode == 0 and not outcome.rejected and outcome.files_done == outcome.files_expected
          and missing == 0 and stats["emission_unauthorised_onsets"] == 0 and optical_ok)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
