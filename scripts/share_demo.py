"""Data-sharing walk-through: a synthetic archive, an attribute authority, a provider (the SOC) and a
reseller as two real ``opals-ground share serve`` processes; an analyst browses the reseller's
catalogue and runs a job through it, all with the CLI. Usage: python scripts/share_demo.py"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import httpx

from ground.share.synthetic import write_archive
from protocol.opals import DICTIONARY

CLI = [sys.executable, "-m", "ground.cli", "share"]


def port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(config: dict, work: Path) -> tuple[str, subprocess.Popen]:
    path = work / f"{config['name']}.json"
    path.write_text(json.dumps(config, indent=2))
    p = port()
    proc = subprocess.Popen(CLI + ["serve", "--config", str(path), "--port", str(p)], start_new_session=True)
    url = f"http://127.0.0.1:{p}"
    for _ in range(300):
        try:
            httpx.get(url + "/openapi.json", timeout=1)
            return url, proc
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"{config['name']} did not start")


def run(*args: str) -> str:
    print("$ opals-ground share", " ".join(a if len(a) < 60 else a[:20] + "..." for a in args))
    out = subprocess.run(CLI + list(args), capture_output=True, text=True)
    print(out.stdout + out.stderr)
    return out.stdout


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="opals-share-demo-"))
    write_archive(work / "archive", DICTIONARY.telemetry["TRACKING"], 36000, rate_hz=10.0, row_group_size=12000)
    write_archive(work / "archive", DICTIONARY.telemetry["HOUSEKEEPING"], 3600)
    run("keygen", "--issuer", "opals-authority", "--out", str(work))
    key = str(work / "opals-authority.key")
    tokens = {who: run("issue", "--key", key, "--issuer", "opals-authority", "--subject", who,
                       *sum((["--attr", a] for a in attrs), [])).strip()
              for who, attrs in {"alice": ["public"], "reseller": ["partner"]}.items()}
    trust = {"opals-authority": str(work / "opals-authority.pub")}
    soc, soc_proc = serve({"name": "soc", "archive": str(work / "archive"), "trust": trust, "sources": [
        {"name": "hk-public", "packet": "HOUSEKEEPING", "run_attrs": ["public"],
         "map": {"columns": ["time", "temp_laser", "bus_voltage"], "average_seconds": 60}},
        {"name": "tracking-partners", "packet": "TRACKING", "see_attrs": ["partner"], "run_attrs": ["partner"],
         "map": {"columns": ["time", "track_state", "az", "el", "err_total"]}}]}, work)
    reseller, reseller_proc = serve({"name": "reseller", "trust": trust, "upstream_tokens": {soc: tokens["reseller"]},
                                     "sources": [{"name": "tracking-locked", "upstream_url": soc,
                                                  "upstream_source": "tracking-partners", "run_attrs": ["public"],
                                                  "map": {"filters": [["track_state", "==", 3]],
                                                          "columns": ["time", "err_total"]}}]}, work)
    try:
        (work / "alice.jwt").write_text(tokens["alice"])
        (work / "job.py").write_text(textwrap.dedent("""
            def map(record):
                yield record["time"].strftime("%H:00"), record["err_total"]

            def reduce(hour, errors):
                return {"samples": len(errors), "mean_error_urad": round(sum(errors) / len(errors), 2)}
        """))
        auth = ["--url", reseller, "--token-file", str(work / "alice.jwt")]
        run("catalogue", *auth)
        run("submit", *auth, "--source", "tracking-locked", "--code", str(work / "job.py"), "--wait",
            "-o", str(work / "result.jsonl"))
        print((work / "result.jsonl").read_text())
    finally:
        for proc in (reseller_proc, soc_proc):
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
    print(f"work directory: {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
