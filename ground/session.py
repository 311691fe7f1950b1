"""The operator's and the script's handle on the payload: command, verify, watch, archive.

``Session.connect("udp://...")`` opens the link and starts one receiver thread that does, for
every packet, in this order: raw archive (nothing received is ever lost), decode, command
verification, decom, limits, events, CFDP file PDUs. ``cmd`` validates against the dictionary
before anything is sent, refuses hazardous commands without an explicit confirmation, keeps
the two-step ARM -> FIRE order, and follows the acknowledgement stages to a result.
"""
from __future__ import annotations

import collections
import getpass
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from ground.archive import Archive
from ground.decom import Decom, RenderedEvent, Sample
from ground.history import CommandHistory
from ground.limits import LimitChecker, LimitSet, LimitTransition
from ground.link_health import LinkHealth
from protocol.codec import Codec, PacketError, TmPacket
from protocol.model import Severity
from protocol.registry import Dictionary

ACK_ACCEPTED, ACK_REJECTED, ACK_COMPLETED, ACK_FAILED = 1, 2, 3, 4
TIMETAG_ARGS_LEN = 32


class CommandError(Exception):
    """A command the ground refused to send, or one the payload did not complete."""

    def __init__(self, message: str, result: "CommandResult | None" = None):
        super().__init__(message)
        self.result = result


class HazardousCommandError(CommandError):
    """A hazardous command without the explicit confirmation, or FIRE without a valid ARM."""


@dataclass
class CommandResult:
    name: str
    args: dict[str, Any]
    seq: int
    status: str = "SENT"            # SENT, ACCEPTED, COMPLETED, FAILED, REJECTED, TIMEOUT
    reason: str | None = None
    sent_at: float = 0.0
    stages: list[tuple[str, str, float]] = field(default_factory=list)  # (stage, reason, time)

    @property
    def ok(self) -> bool:
        return self.status in ("ACCEPTED", "COMPLETED", "VERIFIED")


@dataclass(frozen=True)
class TimedCommand:
    """One command of an uploaded sequence, to execute on board at ``tai``."""

    tai: float
    name: str
    args: dict[str, Any] = field(default_factory=dict)


class Session:
    def __init__(self, link, dictionary: Dictionary | None = None, data_dir: Path | str = "ground-data",
                 operator: str | None = None, clock: Callable[[], float] = time.monotonic,
                 archive: bool = True, silence_timeout: float = 5.0, flush_interval: float = 1.0,
                 playback_lag: float = 30.0,
                 files_dir: Path | str | None = None):
        if dictionary is None:
            from protocol.opals import DICTIONARY as dictionary  # noqa: N811
        self.link = link
        self.dictionary = dictionary
        self.codec = Codec(dictionary)
        self.decom = Decom(dictionary)
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.operator = operator or _whoami()
        self.clock = clock
        self.history = CommandHistory(self.data_dir / "history.sqlite")
        self.archive = Archive(self.data_dir / "archive", dictionary) if archive else None
        self.health = LinkHealth(clock, silence_timeout=silence_timeout)
        self.live_limits = LimitChecker(LimitSet.from_dictionary(dictionary, "live"))
        self.playback_limits = LimitChecker(LimitSet.from_dictionary(dictionary, "playback"))
        self.playback_lag = playback_lag
        self.newest_tai = 0.0   # payload time of the newest packet: "live" is judged against it
        self.flush_interval = flush_interval
        self.latest: dict[str, Sample] = {}
        self.events: collections.deque[RenderedEvent] = collections.deque(maxlen=10000)
        self.alarms: collections.deque[LimitTransition] = collections.deque(maxlen=10000)
        self.received: collections.Counter[str] = collections.Counter()
        self.files = None
        self._files_dir = Path(files_dir) if files_dir else self.data_dir / "files"
        self._seq = 0
        self._pending: dict[tuple[int, int], CommandResult] = {}
        self._armed_until: float | None = None
        self._cond = threading.Condition()
        self._link_lock = threading.Lock()
        self._archive_lock = threading.Lock()
        self._stop = threading.Event()
        self._listeners: list[Callable[[TmPacket], None]] = []
        self._last_flush = clock()
        self._link_was_up = False
        self.errors: collections.Counter[str] = collections.Counter()
        self._thread = threading.Thread(target=self._run, name="ground-rx", daemon=True)
        self._thread.start()

    @classmethod
    def connect(cls, url: str, **kwargs) -> "Session":
        from links.url import open_link
        return cls(open_link(url), **kwargs)

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        if self.archive is not None:
            self.archive.close()
        self.history.close()
        with self._link_lock:
            self.link.close()

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ commanding
    def cmd(self, name: str, confirm: str | None = None, timeout: float = 5.0, wait: str = "COMPLETED",
            check: bool = True, verify: tuple[str, Callable[[Sample], bool]] | None = None,
            verify_timeout: float = 10.0, **args: Any) -> CommandResult:
        """Validate, send and verify one command; raises CommandError unless it succeeds (check).

        ``verify=(packet, predicate)`` adds a telemetry condition after the acknowledgement:
        the first ``packet`` sample received after sending must satisfy it within
        ``verify_timeout`` (status VERIFIED, else VERIFY_TIMEOUT).
        """
        command = self.dictionary.commands.get(name)
        if command is None:
            self.history.record(self.operator, name, args, None, "REFUSED", "UNKNOWN_COMMAND")
            self.errors["unknown_command"] += 1
            raise CommandError(f"unknown command {name!r}")
        self._check_hazard(name, confirm)
        self._check_embedded_hazard(name, args, confirm)
        packet, seq = self._encode(name, args)
        if verify is None:
            return self._send_and_verify(name, args, packet, seq, command.opcode, timeout, wait, check)
        hit = threading.Event()
        vpacket, predicate = verify

        def watch(pkt: TmPacket) -> None:
            if pkt.name == vpacket and not hit.is_set():
                try:
                    if predicate(self.decom.sample(pkt)):
                        hit.set()
                except Exception:  # noqa: BLE001 - a predicate on a missing field is "not yet"
                    pass

        self._listeners.append(watch)   # before sending: a fast payload must not be missed
        try:
            result = self._send_and_verify(name, args, packet, seq, command.opcode, timeout, wait, check)
            if result.ok:
                verified = hit.wait(verify_timeout)
                result.status = "VERIFIED" if verified else "VERIFY_TIMEOUT"
                result.reason = None if verified else f"{vpacket} condition not met in {verify_timeout} s"
                self.history.record(self.operator, f"{name}:verify", {"packet": vpacket}, seq, result.status,
                                    result.reason)
                if check and not verified:
                    raise CommandError(f"{name} (seq {seq}) {result.status}: {result.reason}", result)
            return result
        finally:
            self._listeners.remove(watch)

    def _check_hazard(self, name: str, confirm: str | None) -> None:
        command = self.dictionary.commands[name]
        if command.hazardous and confirm != name:
            self.history.record(self.operator, name, {}, None, "REFUSED", "NOT_CONFIRMED")
            raise HazardousCommandError(
                f"{name} is hazardous: pass confirm={name!r} to send it (nothing was sent)")
        if command.requires_arm and not self._arm_valid():
            self.history.record(self.operator, name, {}, None, "REFUSED", "NOT_ARMED")
            raise HazardousCommandError(f"{name} needs a verified LASER_ARM within its window first")

    def _check_embedded_hazard(self, name: str, args: dict[str, Any], confirm: str | None) -> None:
        """A hand-built TIMETAG must not smuggle a hazardous command past the confirmation: its
        embedded command needs the same confirmation, and ARM/FIRE go only through
        ``upload_sequence``, which checks the two-step order of the whole sequence."""
        if name != "TIMETAG" or "opcode" not in args:
            return
        inner = self.dictionary.command_by_opcode(args["opcode"]) if isinstance(args["opcode"], int) else None
        if inner is None or not inner.hazardous:
            return
        why = None
        if confirm != inner.name:
            why = f"TIMETAG embeds hazardous {inner.name}: pass confirm={inner.name!r}"
        elif inner.requires_arm or inner.name == "LASER_ARM":
            why = f"TIMETAG embeds {inner.name}: time-tag ARM/FIRE with upload_sequence (it checks their order)"
        if why:
            self.history.record(self.operator, f"TIMETAG({inner.name})", {}, None, "REFUSED", "NOT_CONFIRMED")
            raise HazardousCommandError(f"{why} (nothing was sent)")

    def _arm_valid(self) -> bool:
        return self._armed_until is not None and self.clock() < self._armed_until

    def _encode(self, name: str, args: dict[str, Any]) -> tuple[bytes, int]:
        seq = self._seq
        try:
            packet = self.codec.encode_cmd(name, args, seq=seq)
        except PacketError as exc:
            self.history.record(self.operator, name, args, None, "REFUSED", exc.reason)
            self.errors["invalid_args"] += 1
            raise CommandError(f"{name} not sent: {exc}") from exc
        self._seq = (self._seq + 1) & 0x3FFF
        return packet, seq

    def _send_and_verify(self, name: str, args: dict[str, Any], packet: bytes, seq: int, opcode: int,
                         timeout: float, wait: str, check: bool) -> CommandResult:
        pending = self._send(name, args, packet, seq, opcode)
        return self._await(pending, timeout, wait, check)

    def _send(self, name: str, args: dict[str, Any], packet: bytes, seq: int, opcode: int) -> tuple:
        result = CommandResult(name, dict(args), seq, sent_at=self.clock())
        entry = self.history.record(self.operator, name, args, seq, "SENT")
        key = (opcode, seq)
        with self._cond:
            self._pending[key] = result
        with self._link_lock:
            sent = self.link.send(packet)
        if not sent:
            result.status, result.reason = "SEND_FAILED", "link refused the packet"
        return result, entry, key

    def _await(self, pending: tuple, timeout: float, wait: str, check: bool,
               deadline: float | None = None) -> CommandResult:
        result, entry, key = pending
        final = ("COMPLETED", "FAILED", "REJECTED", "SEND_FAILED")
        if wait != "COMPLETED":
            final = ("ACCEPTED",) + final
        deadline = self.clock() + timeout if deadline is None else deadline
        with self._cond:
            while result.status not in final:
                left = deadline - self.clock()
                if left <= 0:
                    result.status, result.reason = "TIMEOUT", f"no {wait} within {timeout} s"
                    break
                self._cond.wait(min(left, 0.05))
            self._pending.pop(key, None)
        self.history.update(entry, result.status, result.reason)
        name, args = result.name, result.args
        if name == "LASER_ARM" and result.ok:
            self._armed_until = result.sent_at + float(args.get("window", 0))
        if name in ("LASER_FIRE", "LASER_SAFE"):
            self._armed_until = None  # one ARM authorises one FIRE
        if check and not result.ok:
            raise CommandError(f"{name} (seq {result.seq}) {result.status}: {result.reason}", result)
        return result

    def upload_sequence(self, timed_commands: Iterable[TimedCommand], confirm: Sequence[str] = (),
                        timeout: float = 5.0, pipelined: bool = False, pace: float = 0.0) -> list[CommandResult]:
        """Wrap each command in TIMETAG(tai, opcode, args) and send them, verified one by one.

        Hazardous inner commands need their name in ``confirm``; LASER_FIRE can be time-tagged
        only together with a LASER_ARM earlier in the same sequence (the two-step order).
        ``pipelined`` sends every TIMETAG before awaiting the acknowledgements (a payload
        simulated faster than real time would otherwise run past the first times tagged).
        Commands previously sent (non-pipelined) are verified one by one.
        """
        timed = sorted(timed_commands, key=lambda c: c.tai)
        tt = self.dictionary.commands.get("TIMETAG")
        if tt is None:
            raise CommandError("the dictionary has no TIMETAG command")
        wrapped = []
        armed = False
        for tc in timed:
            inner = self.dictionary.commands.get(tc.name)
            if inner is None:
                raise CommandError(f"unknown command {tc.name!r} in sequence")
            if inner.hazardous and tc.name not in confirm:
                self.history.record(self.operator, f"TIMETAG({tc.name})", tc.args, None, "REFUSED", "NOT_CONFIRMED")
                raise HazardousCommandError(f"sequence holds hazardous {tc.name}: confirm it by name")
            if inner.requires_arm and not armed:
                raise HazardousCommandError(f"sequence fires ({tc.name}) without an earlier LASER_ARM")
            armed = armed or tc.name == "LASER_ARM"
            try:
                inner_packet = self.codec.encode_cmd(tc.name, tc.args)
            except PacketError as exc:
                raise CommandError(f"{tc.name} in sequence: {exc}") from exc
            wrapped.append((tc, inner.opcode, timetag_args(inner_packet)))
        results: list[CommandResult] = []
        sent = []
        for tc, opcode, blob in wrapped:
            args = {"tai": tc.tai, "opcode": opcode, "args": blob}
            packet, seq = self._encode("TIMETAG", args)
            pending = self._send("TIMETAG", {**args, "inner": tc.name}, packet, seq, tt.opcode)
            if pipelined:
                sent.append(pending)
                if pace:
                    time.sleep(pace)
            else:
                results.append(self._await(pending, timeout, "COMPLETED", True))
        # Pipelined: everything is on its way before the first acknowledgement is awaited.
        deadline = self.clock() + timeout
        results += [self._await(p, timeout, "COMPLETED", False, deadline) for p in sent]
        failed = [r for r in results if not r.ok]
        if failed:
            raise CommandError(f"{len(failed)} of {len(results)} sequence commands not stored: "
                               f"{failed[0].args.get('inner')} {failed[0].status} {failed[0].reason}", failed[0])
        return results

    def wait_for_payload(self, timeout: float = 30.0, interval: float = 0.5) -> CommandResult:
        """NOOP until one completes: the payload is up and the command path works end to end."""
        deadline = self.clock() + timeout
        while True:
            r = self.cmd("NOOP", timeout=interval, check=False)
            if r.ok or self.clock() > deadline:
                if not r.ok:
                    raise CommandError(f"payload not answering after {timeout} s", r)
                return r

    def send_file_pdu(self, pdu: bytes) -> bool:
        packet = self.codec.encode_file_uplink(pdu, self._seq)
        self._seq = (self._seq + 1) & 0x3FFF
        with self._link_lock:
            return self.link.send(packet)

    # ------------------------------------------------------------------ telemetry waits
    def wait_for(self, predicate: Callable[[Sample], bool], packet: str | None = None,
                 timeout: float = 5.0, since: float | None = None) -> Sample:
        """The first sample (of ``packet``) after now for which the predicate holds."""
        box: list[Sample] = []
        done = threading.Event()

        def listener(pkt: TmPacket) -> None:
            if done.is_set() or pkt.name in ("EVENT", "FILE_PDU", "COMMAND_ACK") and packet is None:
                return
            if packet is not None and pkt.name != packet:
                return
            s = self.decom.sample(pkt)
            try:
                hit = predicate(s)
            except Exception:  # noqa: BLE001 - a predicate on a missing field is just "not yet"
                hit = False
            if hit:
                box.append(s)
                done.set()

        self._listeners.append(listener)
        try:
            if not done.wait(timeout):
                raise TimeoutError(f"no {packet or 'telemetry'} sample satisfied the condition in {timeout} s")
            return box[0]
        finally:
            self._listeners.remove(listener)

    def wait_event(self, name: str, timeout: float = 5.0, after: int = 0) -> RenderedEvent:
        """The first event named ``name`` at or after index ``after`` of ``self.events`` history."""
        deadline = self.clock() + timeout
        with self._cond:
            while True:
                for e in list(self.events)[after:]:
                    if e.name == name:
                        return e
                left = deadline - self.clock()
                if left <= 0:
                    raise TimeoutError(f"no event {name} within {timeout} s")
                self._cond.wait(min(left, 0.05))

    def event_count(self) -> int:
        with self._cond:
            return len(self.events)

    def add_listener(self, fn: Callable[[TmPacket], None]) -> None:
        self._listeners.append(fn)

    # ------------------------------------------------------------------ receiver thread
    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with self._link_lock:
                    packets = self.link.recv(timeout=0.02)
                if not packets:
                    time.sleep(0.005)
                self.process(packets)
                self._periodic()
            except Exception as exc:  # noqa: BLE001 - the receiver must outlive any one bad packet
                self.errors[f"receiver:{type(exc).__name__}"] += 1
                time.sleep(0.05)
        if self.files is not None:
            self.files.tick()

    def process(self, packets: Sequence[bytes]) -> None:
        """Archive first, then decode and dispatch each packet."""
        if not packets:
            return
        if self.archive is not None:
            with self._archive_lock:
                self.archive.append(packets)
        for raw in packets:
            try:
                pkt = self.codec.decode(raw)
            except PacketError as exc:
                self.health.decode_errors += 1
                self.errors[f"decode:{exc.reason}"] += 1
                continue
            if not isinstance(pkt, TmPacket):
                self.errors["unexpected_tc"] += 1
                continue
            self.health.count(pkt.apid, pkt.seq, len(raw))
            self.received[pkt.name] += 1
            self._dispatch(pkt)

    def _dispatch(self, pkt: TmPacket) -> None:
        name = pkt.name
        if name == "COMMAND_ACK":
            self._on_ack(pkt)
        elif name == "EVENT":
            ev = self.decom.event(pkt)
            with self._cond:
                self.events.append(ev)
                self._cond.notify_all()
        elif name == "FILE_PDU":
            self._on_file_pdu(pkt.values["pdu"])
        else:
            sample = self.decom.sample(pkt)
            self.latest[name] = sample
            checker = self.live_limits
            if pkt.tai > self.newest_tai:
                self.newest_tai = pkt.tai
            elif self.newest_tai - pkt.tai > self.playback_lag:
                checker = self.playback_limits  # stored data played back: own state, no live alarms
            for t in checker.check(name, pkt.values, pkt.tai):
                self.alarms.append(t)
        for fn in list(self._listeners):
            fn(pkt)

    def _on_ack(self, pkt: TmPacket) -> None:
        v = pkt.values
        stage = {ACK_ACCEPTED: "ACCEPTED", ACK_REJECTED: "REJECTED", ACK_COMPLETED: "COMPLETED",
                 ACK_FAILED: "FAILED"}.get(int(v["stage"]), "UNKNOWN")
        reason = self.dictionary.telemetry["COMMAND_ACK"].field("reason").states.get(int(v["reason"]), str(v["reason"]))
        with self._cond:
            result = self._pending.get((int(v["opcode"]), int(v["cmd_seq"])))
            if result is None:
                self.errors["unmatched_ack"] += 1
                return
            result.stages.append((stage, reason, self.clock()))
            # Stages only move forward: a late ACCEPTED never undoes a COMPLETED.
            if result.status in ("SENT", "ACCEPTED"):
                result.status = stage
                result.reason = None if reason == "OK" else reason
            self._cond.notify_all()

    def _on_file_pdu(self, pdu: bytes) -> None:
        if self.files is None:
            from ground.files import FileReceiver
            self.files = FileReceiver(self.send_file_pdu, self.clock, self._files_dir)
        self.files.on_pdu(pdu)

    def _periodic(self) -> None:
        now = self.clock()
        if self.files is not None:
            self.files.tick()
        up = self.health.is_up()
        if up != self._link_was_up:
            self._link_was_up = up
            self._ground_event("LINK_UP" if up else "LINK_DOWN",
                               Severity.ACTIVITY_HI if up else Severity.WARNING_HI,
                               "payload answering" if up else
                               f"payload silent for {self.health.silence_timeout:g} s (link down or payload stopped)")
        if now - self._last_flush >= self.flush_interval:
            self._last_flush = now
            self.health.sample()
            if self.archive is not None:
                with self._archive_lock:
                    self.archive.flush()
                    self.archive.compact(min_segments=64)

    def _ground_event(self, name: str, severity: Severity, text: str) -> None:
        """An event raised by the ground itself (id -1), shown and kept with the payload's."""
        ev = RenderedEvent(name, -1, severity, text, {}, self.newest_tai, -1)
        with self._cond:
            self.events.append(ev)
            self._cond.notify_all()

    def flush(self) -> None:
        """Make everything received so far queryable now (tests, end of pass)."""
        if self.archive is not None:
            with self._archive_lock:
                self.archive.flush()


def timetag_args(inner_packet: bytes) -> bytes:
    """The inner command's argument bytes exactly as the codec lays them out, zero-padded."""
    body = inner_packet[8:-2]  # after primary header (6) + opcode (2), before the CRC
    if len(body) > TIMETAG_ARGS_LEN:
        raise CommandError(f"arguments of {len(body)} bytes do not fit a TIMETAG ({TIMETAG_ARGS_LEN})")
    return body.ljust(TIMETAG_ARGS_LEN, b"\0")


def _whoami() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001
        return "unknown"


__all__ = ["Session", "CommandResult", "CommandError", "HazardousCommandError", "TimedCommand", "timetag_args"]
