"""The flight software: executive, command dispatch, modes, pointing/tracking, safety, files.

``FlightSoftware`` is handed everything it touches (HAL, RF port, clock, store directory,
optional CFDP downlink factory), so the same object runs in the simulator at any speed, against
serial devices (HIL), and in tests. One control cycle (100 Hz by default) does, in order:
uplink -> due sequence commands -> sensors and camera -> tracker -> safety monitor (which safes
the laser in this same cycle) -> mode logic -> optical playout (TRANSMIT, emission sensed: coded
frames to the HAL modulator) -> gimbal set-point -> log -> downlink -> telemetry.
"""
from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from flight.acquisition_scan import SpiralScan
from flight.downlink_queue import DownlinkQueue, FileDownlinkLike
from flight.executive import Executive
from flight.file_store import EVENT_LOG_DTYPE, TRACKING_LOG_DTYPE, FileEntry, FileStore, RecordLog
from flight.gimbal_control import GimbalController
from flight.hal import CommPort, Hal
from flight.health_check import HealthCheck
from flight.modes import ModeMachine, MODE_IDS
from flight.optical_transmit import OpticalTransmitter
from flight.pass_stats import PassStats
from flight.pointing import PointingLimit, PredictTable
from flight.safety import SAFE_MODE_REASONS, LASER_STATE_IDS, LaserSafety, SafetyInputs
from flight.sequence import CommandSequence
from flight.telemetry import EventRecord, TelemetrySender
from flight.tracker import BeaconFix, CentroidEstimator, Tracker
from protocol.codec import Codec, FilePduUplink, PacketError, TcPacket, make_codec
from protocol.opals import FILE_KINDS, TRACK_STATES

TRACK_STATE_IDS = {v: k for k, v in TRACK_STATES.items()}
FILE_KIND_IDS = {v: k for k, v in FILE_KINDS.items()}
PENDING = "PENDING"


DownlinkFactory = Callable[[Callable[[bytes], None], Callable[[], float], Callable[[int, bool, int], None]],
                           FileDownlinkLike]


def default_downlink_factory() -> DownlinkFactory | None:
    """The ground engineer's CFDP sender (flight/file_downlink.py), when it is installed."""
    try:
        from flight.file_downlink import FileDownlink  # type: ignore[import-not-found]
    except ImportError:
        return None
    return FileDownlink


# Commands by which ground means "no light now", whatever else they ask for.
LASER_OFF_INTENT = frozenset({"LASER_SAFE", "END_PASS", "POWER_OFF"})


@dataclass
class FlightConfig:
    control_hz: float = 100.0
    stow: tuple[float, float] = (0.0, 10.0)
    at_target_deg: float = 0.05
    health_timeout_s: float = 60.0
    boot_s: float = 1.0
    frames_to_save: int = 2
    acquisition_scan: bool = True    # spiral search when the beacon is not where the predicts say
    optical_video_seed: int = 1      # the bundled stand-in video played out in TRANSMIT
    optical_video_bytes: int | None = None   # None: the 175 Mbit coded size of the OPALS video
    tlm_rates_hz: dict[str, float] = field(default_factory=lambda: {"HOUSEKEEPING": 1.0, "TRACKING": 10.0,
                                                                     "SAFETY": 1.0})


@dataclass
class _Pending:
    opcode: int
    seq: int


class FlightSoftware:
    def __init__(self, hal: Hal, port: CommPort, clock: Callable[[], float], store_dir: Path,
                 config: FlightConfig | None = None, codec: Codec | None = None,
                 downlink_factory: DownlinkFactory | None = None, boot_count: int = 1):
        self.hal, self.port, self.clock = hal, port, clock
        self.config = cfg = config or FlightConfig()
        self.codec = codec or make_codec()
        self.dt = 1.0 / cfg.control_hz
        self.telemetry = TelemetrySender(self.codec, port.send, clock)
        self.event = self.telemetry.event
        self.event_log = RecordLog(EVENT_LOG_DTYPE)
        self.telemetry.event_sinks.append(self._log_event)
        self.modes = ModeMachine(self._on_mode_change)
        self.limit = PointingLimit()
        self.safety = LaserSafety(hal, self.event, self.limit)
        self.controller = GimbalController(self.limit)
        cam = hal.camera
        self.tracker = Tracker(CentroidEstimator(cam.width, cam.height, cam.ifov_urad), cam.width, cam.height)
        fov_az, fov_el = cam.width * cam.ifov_urad * 1e-6, cam.height * cam.ifov_urad * 1e-6
        # Steps of 80 % of the field (degrees) so neighbouring looks overlap.
        self.scan = SpiralScan(0.8 * fov_az * 57.29577951308232, 0.8 * fov_el * 57.29577951308232)
        self.predicts = PredictTable()
        self.sequence = CommandSequence(self.codec)
        self.store = FileStore(store_dir, clock, on_closed=self._on_file_closed)
        self.downlinks = DownlinkQueue(self.store, self.event, self._downlink_batch_done)
        factory = downlink_factory if downlink_factory is not None else default_downlink_factory()
        self.downlink = factory(self.telemetry.queue_pdu, clock, self.downlinks.on_complete) if factory else None
        self.downlinks.sender = self.downlink
        self.health = HealthCheck(hal, self.event, cfg.stow, cfg.at_target_deg, timeout_s=cfg.health_timeout_s)
        self.optical = (OpticalTransmitter(hal.modulator, self.event, clock, video_seed=cfg.optical_video_seed,
                                           video_bytes=cfg.optical_video_bytes)
                        if hal.modulator is not None else None)
        self.executive = Executive(clock, cfg.control_hz)
        self.executive.add("control", cfg.control_hz, self.control_cycle)
        self.boot_count = boot_count
        self.cmd_accepted = self.cmd_rejected = 0
        self.packets_rejected = 0
        self.device_faults = 0
        self.last_device_error = ""
        self.health_ok = False
        self.az = self.el = 0.0
        self.fix = BeaconFix(False)
        self.slew_target: tuple[float, float] | None = None
        self.frame_count = 0
        self.pass_count = 0
        self.pass_stats: PassStats | None = None
        self.last_summary: dict[str, Any] | None = None
        self.tracking_log: RecordLog | None = None
        self._frames_saved = 0
        self._had_lock = False
        self._acq_offset = (0.0, 0.0)
        self._health: _Pending | None = None
        self._downlink_cmd: _Pending | None = None
        self._tlm_period = {k: (1.0 / v if v > 0 else 0.0) for k, v in cfg.tlm_rates_hz.items()}
        self._tlm_next: dict[str, float] = {}
        self._safety_sig: tuple[int, int] | None = None
        self._boot_time: float | None = None
        self._link_seen = (0, 0)
        self._handlers: dict[str, Callable[[TcPacket], str | None]] = {
            "NOOP": lambda tc: None, "PING": self._cmd_ping, "HEALTH_CHECK": self._cmd_health_check,
            "CLEAR_PREDICTS": self._cmd_clear_predicts, "LOAD_PREDICT": self._cmd_load_predict,
            "SLEW": self._cmd_slew, "START_PASS": self._cmd_start_pass, "END_PASS": self._cmd_end_pass,
            "LASER_ARM": self._cmd_arm, "LASER_FIRE": self._cmd_fire, "LASER_SAFE": self._cmd_laser_safe,
            "STOW": self._cmd_stow, "FILE_LIST": self._cmd_file_list, "FILE_DOWNLINK": self._cmd_file_downlink,
            "FILE_DOWNLINK_ALL": self._cmd_file_downlink_all, "FILE_DELETE": self._cmd_file_delete,
            "GO_IDLE": self._cmd_go_idle, "CLEAR_SAFE": self._cmd_clear_safe, "POWER_OFF": self._cmd_power_off,
            "SET_TLM_RATE": self._cmd_set_tlm_rate, "TIMETAG": self._cmd_timetag, "SEQ_CLEAR": self._cmd_seq_clear,
        }

    # ================================================================== scheduling
    def step(self) -> int:
        """Run whatever control cycles are due on the injected clock."""
        return self.executive.tick()

    @property
    def mode(self) -> str:
        return self.modes.mode

    def control_cycle(self, now: float) -> None:
        """One control period; a device that fails (raises) is a fault, never a crash."""
        try:
            self._control(now)
        except Exception as exc:  # noqa: BLE001 - flight keeps running and goes SAFE
            self._device_fault(now, exc)

    def _device_fault(self, now: float, exc: Exception) -> None:
        self.device_faults += 1
        self.last_device_error = repr(exc)
        if self.optical is not None:
            self.optical.stop()
        try:
            self.event("FAULT_DETECTED", 1000 + min(self.device_faults, 999))
            self.safety.safe("FAULT")
        except Exception:  # noqa: BLE001 - the laser chain's watchdog covers a dead bus
            pass
        if self.modes.mode not in ("SAFE", "POWER_OFF"):
            if self.modes.in_pass:
                self.tracking_log = None
                self.pass_stats = None
                self.tracker.stop()
            self.modes.go("SAFE", now)

    def _control(self, now: float) -> None:
        for raw in self.port.recv(0.0):
            self.handle_packet(raw)
        self._link_rejections()
        for tai, opcode, args, seq in self.sequence.due(now):
            self._run_sequenced(now, tai, opcode, args, seq)
        self.az, self.el = self.hal.gimbal.read()
        mode = self.modes.mode
        if mode == "BOOT":
            self._boot(now)
        if mode in ("ACQUIRE", "TRACK", "TRANSMIT"):
            self._camera(now)
        reason = self.safety.monitor(now, self.dt, SafetyInputs(self.az, self.el, self.tracker.locked))
        if reason in SAFE_MODE_REASONS and self.modes.mode not in ("SAFE", "POWER_OFF"):
            self._enter_safe(now, reason)
        self._mode_logic(now)
        if self.optical is not None:   # after the monitor and mode logic: a laser safed now plays nothing
            self.optical.cycle(self.dt, self.modes.mode == "TRANSMIT" and self.safety.firing, self.safety.emitting)
        self._command_gimbal(now)
        if self.tracking_log is not None:
            f = self.fix
            self.tracking_log.append(now, self.modes.mode_id, TRACK_STATE_IDS[self.tracker.state],
                                     LASER_STATE_IDS[self.safety.laser_state], f.found, self.controller.az_cmd,
                                     self.controller.el_cmd, self.az, self.el, f.err_x_urad, f.err_y_urad, f.signal)
        self.downlinks.tick()
        self.telemetry.flush_pdus()
        self._periodic_telemetry(now)

    # ================================================================== modes
    def _on_mode_change(self, old: str, new: str) -> None:
        self.event("MODE_CHANGE", MODE_IDS[old], MODE_IDS[new])

    def _boot(self, now: float) -> None:
        if self._boot_time is None:
            self._boot_time = now
            self.hal.laser.set_driver(False)
            self.hal.relays.open()
            self.controller.reset(self.az, self.el)
        if now - self._boot_time >= self.config.boot_s - 1e-9:
            self.event("BOOT_COMPLETE", self.boot_count)
            self.modes.go("IDLE", now)

    def _enter_safe(self, now: float, reason: str) -> None:
        self.safety.safe(reason)
        if self.modes.in_pass:
            self._finish_pass(now, reason)
        if self._health is not None:   # the fault interrupts the health check: report it as the item
            self.health.fail(_HEALTH_ITEM.get(reason, "GIMBAL_HOME"), _safing_id(reason))
            self._fail_health(now)
        self.modes.go("SAFE", now)
        self.event("SAFE_MODE", _safing_id(reason))

    def _mode_logic(self, now: float) -> None:
        mode = self.modes.mode
        if mode == "HEALTH_CHECK":
            self._health_progress(now)
        elif mode == "POINTING":
            if len(self.predicts) and now >= self.predicts.start:
                self.tracker.start()
                self.modes.go("ACQUIRE", now)
        elif mode in ("ACQUIRE", "TRACK", "TRANSMIT"):
            if now > self.predicts.stop:
                self._end_pass(now, "PASS_END")
                return
            if mode == "ACQUIRE" and self.tracker.locked:
                self._had_lock = True
                first = self.pass_stats.first_detect if self.pass_stats else None
                since = self.modes.entered_at if self.tracker.locks > 1 or first is None else first
                self.event("LOCK_ACQUIRED", int(round((now - since) * 1000)))
                self.modes.go("TRACK", now)
            elif mode in ("TRACK", "TRANSMIT") and not self.tracker.locked:
                self.event("LOCK_LOST")
                self.tracker.start()
                self.modes.go("ACQUIRE", now)
            elif mode == "TRANSMIT" and not self.safety.firing:
                self.modes.go("TRACK", now)
        elif mode == "STOW":
            if self._at(self.config.stow):
                self.modes.go("READY" if self.health_ok else "IDLE", now)

    def _at(self, target: tuple[float, float]) -> bool:
        tol = self.config.at_target_deg
        return abs(self.az - target[0]) <= tol and abs(self.el - target[1]) <= tol

    def _command_gimbal(self, now: float) -> None:
        mode, c, dt = self.modes.mode, self.controller, self.dt
        if mode == "BOOT" or mode == "POWER_OFF":
            return
        if mode in ("HEALTH_CHECK", "STOW", "SAFE"):
            c.toward(*self.config.stow, dt, slew=True)
        elif mode == "POINTING":
            az, el, _, _ = self.predicts.at(max(now, self.predicts.start))
            c.toward(az, el, dt, slew=True)
        elif mode in ("ACQUIRE", "TRACK", "TRANSMIT"):
            az, el, ra, re = self.predicts.at(now)
            if mode == "ACQUIRE" and self.fix.found:
                c.track(self.fix.err_x_urad, self.fix.err_y_urad, ra, re, dt)  # pull the beacon in
            elif mode == "ACQUIRE" and not self._had_lock:
                if self.config.acquisition_scan and self.pass_stats is not None and self.pass_stats.first_detect is None:
                    self._acq_offset = self.scan.offset(now - self.modes.entered_at)
                c.toward(az + self._acq_offset[0], el + self._acq_offset[1], dt, slew=self.config.acquisition_scan)
            elif self.fix.found and self.tracker.locked:
                c.track(self.fix.err_x_urad, self.fix.err_y_urad, ra, re, dt)
            else:
                c.track(0.0, 0.0, ra, re, dt)  # coast on the predicted rates until reacquired
        elif self.slew_target is not None:
            c.toward(*self.slew_target, dt, slew=True)
        else:
            c.toward(c.az_cmd, c.el_cmd, dt)
        self.hal.gimbal.command(c.az_cmd, c.el_cmd)

    # ================================================================== camera and pass
    def _camera(self, now: float) -> None:
        frame = self.hal.camera.grab(self.tracker.window())
        self.frame_count += 1
        fix = self.tracker.update(frame)
        self.fix = fix
        if self.pass_stats is not None:
            self.pass_stats.frame(now, fix.found, self.tracker.locked, fix.err_x_urad, fix.err_y_urad)
        if fix.found and self._frames_saved < self.config.frames_to_save and \
                (self._frames_saved == 0 or frame.window.width <= 64):
            self._frames_saved += 1
            self.store.add_frame(f"pass{self.pass_count}_frame{frame.count}", frame.pixels.copy())

    def _start_pass(self, now: float) -> None:
        self.pass_count += 1
        self.pass_stats = PassStats()
        self.tracking_log = RecordLog(TRACKING_LOG_DTYPE)
        self._frames_saved = 0
        self._had_lock = False
        self._acq_offset = (0.0, 0.0)     # where the search found the beacon, kept until lock
        self.safety.emit_time = 0.0
        self.event("PASS_STARTED", len(self.predicts))

    def _finish_pass(self, now: float, reason: str) -> None:
        """Pass bookkeeping: summary packet and event, log files closed for downlink."""
        self.tracker.stop()
        self.fix = BeaconFix(False)
        emit_s = self.safety.emit_time
        self.event("PASS_ENDED", int(emit_s * 1000))
        if self.pass_stats is not None:
            s = self.pass_stats.summary(emit_s)
            self.last_summary = s.as_dict()
            self.telemetry.packet("PASS_SUMMARY", s.as_dict())
            self.event("PASS_SUMMARY", s.acquisition_ms, int(round(s.err_3sigma)), s.samples)
            self.store.add_bytes("OTHER", f"pass{self.pass_count}_summary.json",
                                 json.dumps({"pass": self.pass_count, "end_reason": reason, **s.as_dict()},
                                            indent=1).encode())
        if self.tracking_log is not None:
            self.store.add_records("TRACKING_LOG", f"pass{self.pass_count}_tracking.bin", self.tracking_log)
        self.store.add_records("EVENT_LOG", f"pass{self.pass_count}_events.bin", self.event_log)
        self.event_log = RecordLog(EVENT_LOG_DTYPE)
        self.tracking_log = None
        self.pass_stats = None

    def _end_pass(self, now: float, reason: str) -> None:
        self.slew_target = None
        self.safety.safe(reason)
        self._finish_pass(now, reason)
        self.modes.go("STOW", now)

    # ================================================================== health check
    def _health_progress(self, now: float) -> None:
        result = self.health.step(now, self.dt, self.az, self.el)
        if result is True:
            self.health_ok = True
            self.modes.go("READY", now)
            self._complete_pending(self._health, True)
            self._health = None
        elif result is False:
            self._fail_health(now)

    def _fail_health(self, now: float) -> None:
        self.health_ok = False
        if self.modes.mode == "HEALTH_CHECK":
            self.modes.go("IDLE", now)
        self._complete_pending(self._health, False, "EXECUTION_FAILED")
        self._health = None

    def _complete_pending(self, p: _Pending | None, ok: bool, reason: str = "OK") -> None:
        if p is not None:
            self.telemetry.ack(p.opcode, p.seq, "COMPLETED" if ok else "FAILED", reason)

    # ================================================================== uplink
    def handle_packet(self, raw: bytes) -> None:
        """Any bytes from the uplink: never raises; every rejection is counted and reported."""
        try:
            pkt = self.codec.decode(raw)
        except PacketError as exc:
            self._reject_packet(raw, exc)
            return
        except Exception as exc:  # noqa: BLE001 - a decoder bug must not take flight down
            self._reject_packet(raw, PacketError("BAD_HEADER", str(exc)))
            return
        if isinstance(pkt, FilePduUplink):
            if self.downlink is None:
                self._reject_packet(raw, PacketError("EXECUTION_FAILED", "no file transfer", apid=pkt.apid))
                return
            try:
                self.downlink.on_pdu(pkt.pdu)
            except Exception:  # noqa: BLE001
                self._reject_packet(raw, PacketError("EXECUTION_FAILED", "bad PDU", apid=pkt.apid))
            return
        if not isinstance(pkt, TcPacket):
            self._reject_packet(raw, PacketError("BAD_HEADER", "telemetry on the uplink", apid=pkt.apid))
            return
        self.execute(pkt, pkt.seq)

    def _link_rejections(self) -> None:
        """Packets the link layer already dropped (bad CRC/length datagrams) are rejections too."""
        stats = getattr(self.port, "stats", None)
        if stats is None:
            return
        st = stats()
        if st is None:
            return
        crc, other = st.crc_failures, max(0, st.rejected_bad - st.crc_failures)
        for reason, n in (("BAD_CRC", crc - self._link_seen[0]), ("BAD_LENGTH", other - self._link_seen[1])):
            if n > 0:
                self.cmd_rejected += n
                self.event("PACKET_REJECTED", _reason_id(reason), 0)  # one event per cycle, counter has all
        self._link_seen = (crc, other)

    def _reject_packet(self, raw: bytes, exc: PacketError) -> None:
        self.cmd_rejected += 1
        self.packets_rejected += 1
        seq = struct.unpack_from(">H", raw, 2)[0] & 0x3FFF if len(raw) >= 4 else 0
        apid = exc.apid if exc.apid is not None else (((raw[0] & 7) << 8) | raw[1] if len(raw) >= 2 else 0)
        if exc.opcode is not None:
            self.telemetry.ack(exc.opcode, seq, "REJECTED", exc.reason)
            self.event("CMD_REJECTED", exc.opcode, _reason_id(exc.reason))
        else:
            self.event("PACKET_REJECTED", _reason_id(exc.reason), apid)

    def execute(self, tc: TcPacket, ack_seq: int) -> str | None:
        """Mode check, then the handler; ACCEPTED+COMPLETED, or REJECTED with a reason."""
        cmd = self.codec.dictionary.commands[tc.name]
        mode = self.modes.mode
        reason: str | None = None
        if mode == "POWER_OFF":
            reason = "WRONG_MODE"
        elif cmd.allowed_modes and mode not in cmd.allowed_modes:
            reason = "SAFE_MODE" if mode == "SAFE" else "WRONG_MODE"
        if reason is not None and tc.name in LASER_OFF_INTENT:
            # The laser-off part of the intent holds even when the rest is refused (wrong mode).
            self._cmd_laser_safe(tc)
        if reason is None:
            try:
                reason = self._handlers[tc.name](tc)
            except PacketError as exc:
                reason = exc.reason
            except Exception:  # noqa: BLE001 - a handler bug is a failed command, not a crash
                reason = "EXECUTION_FAILED"
        if reason is not None and reason != PENDING:
            self.cmd_rejected += 1
            self.telemetry.ack(tc.opcode, ack_seq, "REJECTED", reason)
            self.event("CMD_REJECTED", tc.opcode, _reason_id(reason))
            return reason
        self.cmd_accepted += 1
        self.telemetry.ack(tc.opcode, ack_seq, "ACCEPTED")
        if reason == PENDING:
            self._set_pending(tc, ack_seq)
        else:
            self.telemetry.ack(tc.opcode, ack_seq, "COMPLETED")
        return None

    def _set_pending(self, tc: TcPacket, seq: int) -> None:
        p = _Pending(tc.opcode, seq)
        if tc.name == "HEALTH_CHECK":
            self._health = p
        else:
            self._downlink_cmd = p

    def _run_sequenced(self, now: float, tai: float, opcode: int, args: bytes, seq: int) -> None:
        try:
            tc = self.sequence.validate(opcode, args, seq)
        except PacketError as exc:
            self.cmd_rejected += 1
            self.telemetry.ack(opcode, seq, "REJECTED", exc.reason)
            self.event("SEQ_REJECTED", opcode, _reason_id(exc.reason))
            return
        self.event("SEQ_EXECUTED", opcode, int(round((now - tai) * 1000)))
        self.execute(tc, seq)

    # ================================================================== command handlers
    def _inputs(self) -> SafetyInputs:
        return SafetyInputs(self.az, self.el, self.tracker.locked)

    def _cmd_ping(self, tc: TcPacket) -> None:
        self.event("PING", tc.args["token"] - (1 << 32) if tc.args["token"] >= 1 << 31 else tc.args["token"])

    def _cmd_health_check(self, tc: TcPacket) -> str | None:
        if self._health is not None:
            return "BUSY"
        self.health_ok = False
        self.health.start(self.clock())
        self.modes.go("HEALTH_CHECK", self.clock())
        return PENDING

    def _cmd_clear_predicts(self, tc: TcPacket) -> None:
        self.predicts.clear()

    def _cmd_load_predict(self, tc: TcPacket) -> str | None:
        a = tc.args
        if len(self.predicts) >= 4096 and a["index"] not in self.predicts.rows:
            return "BUSY"
        self.predicts.load(a["index"], a["tai"], a["az"], a["el"])
        self.event("PREDICTS_LOADED", len(self.predicts))
        return None

    def _cmd_slew(self, tc: TcPacket) -> None:
        # The dictionary already bounds SLEW to the derated range; the set-point is clamped to the
        # software limits just inside it, as every set-point is.
        self.slew_target = self.limit.clamp(tc.args["az"], tc.args["el"])

    def _cmd_start_pass(self, tc: TcPacket) -> str | None:
        now = self.clock()
        if len(self.predicts) < 2:
            return "NO_PREDICTS"
        if not self.health_ok:
            return "FAULT"
        if now > self.predicts.stop:
            return "NO_PREDICTS"
        self._start_pass(now)
        self.slew_target = None
        self.modes.go("POINTING", now)
        return None

    def _cmd_end_pass(self, tc: TcPacket) -> None:
        self._end_pass(self.clock(), "COMMANDED")

    def _cmd_arm(self, tc: TcPacket) -> str | None:
        return self.safety.arm(self.clock(), tc.args["window"], self._inputs())

    def _cmd_fire(self, tc: TcPacket) -> str | None:
        why = self.safety.fire(self.clock(), self._inputs())
        if why is None:
            self.modes.go("TRANSMIT", self.clock())
        return why

    def _cmd_laser_safe(self, tc: TcPacket) -> None:
        self.safety.safe("COMMANDED")
        if self.modes.mode == "TRANSMIT":
            self.modes.go("TRACK", self.clock())

    def _cmd_stow(self, tc: TcPacket) -> None:
        self.slew_target = None
        if self.modes.mode != "SAFE":
            self.modes.go("STOW", self.clock())

    def _cmd_file_list(self, tc: TcPacket) -> None:
        for e in sorted(self.store.files.values(), key=lambda e: e.file_id):
            self._send_directory(e)

    def _send_directory(self, e: FileEntry) -> None:
        self.telemetry.packet("FILE_DIRECTORY", {"file_id": e.file_id, "kind": FILE_KIND_IDS[e.kind],
                                                 "size": e.size, "crc32": e.crc32, "created": e.created})

    def _on_file_closed(self, e: FileEntry) -> None:
        self.event("FILE_CLOSED", e.file_id, FILE_KIND_IDS[e.kind], e.size)
        self._send_directory(e)

    def _log_event(self, rec: EventRecord) -> None:
        self.event_log.append(rec.tai, rec.event_id, rec.args)

    def _cmd_file_downlink(self, tc: TcPacket) -> str | None:
        e = self.store.files.get(tc.args["file_id"])
        if e is None:
            return "NO_SUCH_FILE"
        return self._queue_downlink([e], 2)

    def _cmd_file_downlink_all(self, tc: TcPacket) -> str | None:
        return self._queue_downlink(self.store.pending(), tc.args["cfdp_class"])

    def _queue_downlink(self, entries: list[FileEntry], cfdp_class: int) -> str | None:
        why = self.downlinks.queue(entries, cfdp_class)
        if why is not None or not entries:
            return why
        if self.modes.mode in ("IDLE", "READY"):
            self.modes.go("DOWNLINK", self.clock())
        return PENDING

    def _downlink_batch_done(self, ok: bool) -> None:
        self._complete_pending(self._downlink_cmd, ok, "OK" if ok else "EXECUTION_FAILED")
        self._downlink_cmd = None
        if self.modes.mode == "DOWNLINK":
            self.modes.go("IDLE", self.clock())

    def _cmd_file_delete(self, tc: TcPacket) -> str | None:
        return None if self.store.delete(tc.args["file_id"]) else "NO_SUCH_FILE"

    def _cmd_go_idle(self, tc: TcPacket) -> str | None:
        if self.modes.mode == "IDLE":
            return None     # already there (flight returns to IDLE by itself after a downlink)
        return None if self.modes.go("IDLE", self.clock()) else "WRONG_MODE"

    def _cmd_clear_safe(self, tc: TcPacket) -> str | None:
        self.health_ok = False
        return None if self.modes.go("IDLE", self.clock()) else "WRONG_MODE"

    def _cmd_power_off(self, tc: TcPacket) -> str | None:
        self.safety.safe("COMMANDED")
        return None if self.modes.go("POWER_OFF", self.clock()) else "WRONG_MODE"

    def _cmd_set_tlm_rate(self, tc: TcPacket) -> str | None:
        p = self.codec.dictionary.packet_by_apid(tc.args["apid"])
        if p is None or p.name not in self._tlm_period:
            return "ARG_OUT_OF_RANGE"
        rate = tc.args["rate_hz"]
        self._tlm_period[p.name] = 1.0 / rate if rate > 0 else 0.0
        self._tlm_next.pop(p.name, None)
        self.event("TLM_RATE", p.apid, int(round(rate * 1000)))
        return None

    def _cmd_timetag(self, tc: TcPacket) -> str | None:
        a = tc.args
        try:
            self.sequence.store(a["tai"], a["opcode"], a["args"], tc.seq)
        except PacketError as exc:
            self.event("SEQ_REJECTED", a["opcode"], _reason_id(exc.reason))
            return exc.reason
        self.event("SEQ_STORED", a["opcode"], int(a["tai"]), len(self.sequence))
        return None

    def _cmd_seq_clear(self, tc: TcPacket) -> None:
        self.event("SEQ_CLEARED", self.sequence.clear())

    # ================================================================== telemetry
    def _periodic_telemetry(self, now: float) -> None:
        if self.modes.mode == "POWER_OFF":
            return  # ready for power removal: the RF link goes quiet
        for name, period in self._tlm_period.items():
            if period <= 0:
                continue
            nxt = self._tlm_next.get(name)
            if nxt is None or now + 1e-9 >= nxt:
                self._tlm_next[name] = (now if nxt is None or now - nxt > period else nxt) + period
                getattr(self, "_tlm_" + name.lower())(now)
        sig = self.safety.signature()
        if sig != self._safety_sig:
            self._safety_sig = sig
            self._tlm_safety(now)

    def _tlm_housekeeping(self, now: float) -> None:
        t = self.hal.thermal.read()
        v, i = self.hal.power.read()
        self.telemetry.packet("HOUSEKEEPING", {
            "mode": self.modes.mode_id, "laser_state": LASER_STATE_IDS[self.safety.laser_state],
            "cmd_accepted": self.cmd_accepted & 0xFFFF, "cmd_rejected": self.cmd_rejected & 0xFFFF,
            "temp_laser": t[0], "temp_gimbal": t[1], "temp_electronics": t[2], "bus_voltage": v,
            "bus_current": i, "laser_current": self.hal.laser.current_a(),
            "uptime": int(now - (self._boot_time if self._boot_time is not None else now)) & 0xFFFFFFFF})

    def _tlm_tracking(self, now: float) -> None:
        f = self.fix
        full = self.tracker.window() is None
        in_track = self.tracker.state != "IDLE"
        self.telemetry.packet("TRACKING", {
            "track_state": TRACK_STATE_IDS[self.tracker.state], "window": 0 if not in_track else (1 if full else 2),
            "az_cmd": self.controller.az_cmd, "el_cmd": self.controller.el_cmd, "az": self.az, "el": self.el,
            "err_x": f.err_x_urad, "err_y": f.err_y_urad, "err_total": min((f.err_x_urad ** 2 + f.err_y_urad ** 2) ** 0.5, 1e7),
            "beacon_signal": f.signal, "frame_count": self.frame_count & 0xFFFFFFFF})

    def _tlm_safety(self, now: float) -> None:
        s = self.safety
        self.telemetry.packet("SAFETY", {
            "status_word": s.status_word(), "laser_state": LASER_STATE_IDS[s.laser_state],
            "last_safing": _safing_id(s.last_safing), "arm_remaining": s.arm_timer.remaining(now) if s.armed else 0.0,
            "safing_count": s.safing_count & 0xFFFF, "h1_inhibits": s.h1_inhibits(), "h2_inhibits": s.h2_inhibits()})


_HEALTH_ITEM = {"RELAY_MISMATCH": "RELAY", "SWITCH_TRIP": "LIMIT_SWITCH", "EMISSION_UNEXPECTED": "LASER_NOT_OFF",
                "OVER_TEMPERATURE": "TEMPERATURE"}


def _reason_id(name: str) -> int:
    from flight.telemetry import REASON_IDS
    return REASON_IDS.get(name, REASON_IDS["EXECUTION_FAILED"])


def _safing_id(name: str) -> int:
    from protocol.opals import SAFING_REASONS
    return {v: k for k, v in SAFING_REASONS.items()}.get(name, 9)
