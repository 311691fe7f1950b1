"""pytest plugin for hardware-in-the-loop and integration tests, in the spirit of F Prime's
integration test API: a connected ground ``Session`` and assertions over commands, telemetry
and events. Registered as a ``pytest11`` entry point, so any test run has it.

    pytest --opals-link udp://127.0.0.1:7001?local=127.0.0.1:7002 tests/hil/

    def test_ping(opals_api):
        opals_api.send_and_assert("PING", token=7)
        opals_api.assert_event_sequence(["PING"])

Integration tests that start their own payload override ``opals_link_url`` with a fixture that
launches it (``opals_processes`` starts and always stops child processes).
"""
from __future__ import annotations

import os
import signal
import subprocess
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("opals", "OPALS ground integration tests")
    g.addoption("--opals-link", default=os.environ.get("OPALS_LINK"),
                help="link URL of the payload under test (udp://... or serial://...; env OPALS_LINK)")
    g.addoption("--opals-operator", default="pytest", help="operator name in the command history")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "opals_hil: needs a payload on --opals-link")


@pytest.fixture
def opals_link_url(request: pytest.FixtureRequest) -> str:
    url = request.config.getoption("--opals-link")
    if not url:
        pytest.fail("no payload: give --opals-link URL (or OPALS_LINK), or override the opals_link_url fixture")
    return url


@pytest.fixture
def opals_session(opals_link_url: str, tmp_path, request: pytest.FixtureRequest):
    from ground.session import Session
    s = Session.connect(opals_link_url, data_dir=tmp_path / "ground", operator=request.config.getoption("--opals-operator"))
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def opals_api(opals_session):
    return GroundTestApi(opals_session)


@dataclass
class PayloadProcess:
    proc: subprocess.Popen
    log_path: Any

    def stop(self, timeout: float = 10.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def log(self) -> str:
        try:
            return open(self.log_path, encoding="utf-8", errors="replace").read()
        except OSError:
            return ""


@pytest.fixture
def opals_processes(tmp_path):
    """Start child processes (a simulator, a second ground); every one is stopped at teardown."""
    started: list[PayloadProcess] = []

    def start(argv: Sequence[str], name: str = "payload", **kwargs) -> PayloadProcess:
        log = tmp_path / f"{name}-{len(started)}.log"
        fh = open(log, "w")
        p = PayloadProcess(subprocess.Popen(list(argv), stdout=fh, stderr=subprocess.STDOUT, **kwargs), log)
        started.append(p)
        return p

    yield start
    for p in started:
        p.stop()


class GroundTestApi:
    """Assertions over a live payload; each raises AssertionError with what was seen."""

    def __init__(self, session):
        self.session = session
        self._event_mark = 0

    # -------------------------------------------------------------- commands
    def send_and_assert(self, name: str, timeout: float = 5.0, confirm: str | None = None, **args):
        """Send; assert the payload accepted and completed it."""
        from ground.session import CommandError
        try:
            return self.session.cmd(name, confirm=confirm, timeout=timeout, **args)
        except CommandError as exc:
            raise AssertionError(f"{name}{args}: {exc}") from None

    def send_and_assert_rejected(self, name: str, reason: str | None = None, timeout: float = 5.0,
                                 confirm: str | None = None, **args):
        r = self.session.cmd(name, confirm=confirm, timeout=timeout, check=False, **args)
        assert r.status in ("REJECTED", "FAILED"), f"{name} was {r.status}, expected a rejection"
        if reason is not None:
            assert r.reason == reason, f"{name} rejected for {r.reason}, expected {reason}"
        return r

    # -------------------------------------------------------------- telemetry
    def await_telemetry(self, packet: str, predicate: Callable[[Any], bool] | None = None,
                        timeout: float = 5.0, **equals: Any):
        """The next ``packet`` sample for which predicate(sample) holds and every field=value matches."""
        def ok(s) -> bool:
            return (predicate is None or predicate(s)) and all(s.values.get(k) == v for k, v in equals.items())
        try:
            return self.session.wait_for(ok, packet=packet, timeout=timeout)
        except TimeoutError:
            last = self.session.latest.get(packet)
            raise AssertionError(f"{packet} never satisfied {equals or predicate} in {timeout} s; "
                                 f"last: {last.values if last else 'none received'}") from None

    def assert_telemetry(self, packet: str, field: str, value: Any, timeout: float = 5.0):
        return self.await_telemetry(packet, timeout=timeout, **{field: value})

    # -------------------------------------------------------------- events
    def mark_events(self) -> int:
        """Events before the mark are ignored by the next assert_event_sequence."""
        self._event_mark = self.session.event_count()
        return self._event_mark

    def assert_event_sequence(self, names: Sequence[str], timeout: float = 5.0, start: int | None = None):
        """These events arrive in this order (others may come in between) since ``start``."""
        import time
        begin = self._event_mark if start is None else start
        deadline = time.monotonic() + timeout
        while True:
            seen = [e.name for e in list(self.session.events)[begin:]]
            it = iter(seen)
            if all(n in it for n in names):
                return seen
            if time.monotonic() > deadline:
                raise AssertionError(f"expected events {list(names)} in order; saw {seen}")
            time.sleep(0.02)

    def assert_no_event(self, name: str, start: int | None = None):
        begin = self._event_mark if start is None else start
        seen = [e.name for e in list(self.session.events)[begin:]]
        assert name not in seen, f"unexpected event {name} in {seen}"
