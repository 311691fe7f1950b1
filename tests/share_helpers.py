"""Helpers for the data-sharing tests: small archives in the real layout, an authority, real
party processes (``opals-ground share serve``) on loopback."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from ground.share.attributes import issue_assertion, new_authority_key


@dataclass
class Authority:
    name: str
    private: bytes
    public: bytes

    @classmethod
    def create(cls, name: str = "opals-authority") -> "Authority":
        private, public = new_authority_key()
        return cls(name, private, public)

    def token(self, subject: str, *attrs: str, ttl: float = 3600) -> str:
        return issue_assertion(self.private, self.name, subject, attrs, ttl)

    def write_public(self, directory: Path) -> Path:
        path = directory / f"{self.name}.pub"
        path.write_bytes(self.public)
        return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PartyProcess:
    url: str
    proc: subprocess.Popen
    config: Path

    def kill(self) -> None:
        """SIGKILL the service and everything it started (its process group)."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


def start_party(config: dict, directory: Path, engine: str | None = None, timeout: float = 60.0) -> PartyProcess:
    """Write ``config`` and run ``opals-ground share serve`` on a free loopback port until it answers."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{config['name']}.json"
    path.write_text(json.dumps(config))
    port = free_port()
    cmd = [sys.executable, "-m", "ground.cli", "share", "serve", "--config", str(path), "--port", str(port)]
    if engine:
        cmd += ["--engine", engine]
    log = open(directory / f"{config['name']}.log", "ab")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"party {config['name']} exited: {(directory / (config['name'] + '.log')).read_text()[-2000:]}")
        try:
            httpx.get(url + "/openapi.json", timeout=1)
            return PartyProcess(url, proc, path)
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"party {config['name']} did not start")


def wait_job(client: httpx.Client, job_id: str, timeout: float = 90.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/jobs/{job_id}").json()
        if job["state"] not in ("pending", "executing") or time.monotonic() > deadline:
            return job
        time.sleep(0.1)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
