"""The OPALS-class payload dictionary: every telemetry packet, command and event, defined once.

Everything else (fast codecs, numpy dtypes, ground decom, limits, HAPI metadata, the JSON export
and docs/dictionary.md) is derived from ``DICTIONARY``. Extend it here; define nothing twice.
"""
from __future__ import annotations

from construct import Float32b, Float64b, Int8ub, Int16ub, Int32sb, Int32ub

from protocol.model import Command, Event, Field, Limits, Severity, TelemetryPacket, bytes_field
from protocol.registry import Dictionary

# ---------------------------------------------------------------- enumerations (shared states)
MODES = {
    0: "BOOT", 1: "IDLE", 2: "HEALTH_CHECK", 3: "READY", 4: "POINTING", 5: "ACQUIRE",
    6: "TRACK", 7: "TRANSMIT", 8: "STOW", 9: "DOWNLINK", 10: "SAFE", 11: "POWER_OFF",
}
LASER_STATES = {0: "OFF", 1: "STANDBY", 2: "ARMED", 3: "EMITTING", 4: "FAULT"}
TRACK_STATES = {0: "IDLE", 1: "OPEN_LOOP", 2: "ACQUIRING", 3: "LOCKED", 4: "LOST"}
CENTROID_WINDOWS = {0: "NONE", 1: "FULL_FRAME", 2: "WINDOW"}
ACK_STAGES = {1: "ACCEPTED", 2: "REJECTED", 3: "COMPLETED", 4: "FAILED"}
REASONS = {
    0: "OK", 1: "UNKNOWN_OPCODE", 2: "BAD_LENGTH", 3: "ARG_OUT_OF_RANGE", 4: "WRONG_MODE",
    5: "NOT_ARMED", 6: "ARM_EXPIRED", 7: "NOT_LOCKED", 8: "POINTING_OUTSIDE_LIMITS",
    9: "INHIBITED", 10: "BUSY", 11: "FAULT", 12: "EXECUTION_FAILED", 13: "TIMEOUT",
    14: "NO_PREDICTS", 15: "NO_SUCH_FILE", 16: "SAFE_MODE", 17: "BAD_CRC", 18: "BAD_HEADER",
}
SAFING_REASONS = {
    0: "NONE", 1: "COMMANDED", 2: "LOSS_OF_LOCK", 3: "POINTING_LIMIT", 4: "SWITCH_TRIP",
    5: "ARM_TIMEOUT", 6: "OVER_TEMPERATURE", 7: "WATCHDOG", 8: "RELAY_MISMATCH",
    9: "FAULT", 10: "PASS_END", 11: "EMISSION_UNEXPECTED",
}
SWITCHES = {0: "AZ_LOW", 1: "AZ_HIGH", 2: "EL_LOW", 3: "EL_HIGH"}
TEMP_SENSORS = {0: "LASER", 1: "GIMBAL", 2: "ELECTRONICS"}
FILE_KINDS = {0: "TRACKING_LOG", 1: "EVENT_LOG", 2: "CAMERA_FRAME", 3: "OTHER"}
SAFETY_BITS = {
    "relay_a_closed": 0, "relay_b_closed": 1, "sw_armed": 2, "sw_fire_enabled": 3,
    "sw_pointing_ok": 4, "track_locked": 5, "switch_az_low": 6, "switch_az_high": 7,
    "switch_el_low": 8, "switch_el_high": 9, "laser_emitting": 10, "hw_interlock_ok": 11,
    "over_temperature": 12, "watchdog_ok": 13, "relay_commanded": 14,
}

# Derated range of motion of the gimbal, degrees from nadir (REFERENCE.md, OPALS ISS paper).
AZ_RANGE_DEG = (-34.0, 73.0)
EL_RANGE_DEG = (1.0, 38.0)

DICTIONARY = Dictionary(command_apid=0x010, file_pdu_uplink_apid=0x011, version="1.0")
D = DICTIONARY

# ---------------------------------------------------------------- telemetry
HOUSEKEEPING = D.add_telemetry(TelemetryPacket(
    "HOUSEKEEPING", 0x020, rate_hz=1.0,
    description="Payload health at 1 Hz: mode, temperatures, power, command counters.",
    fields=(
        Field("mode", Int8ub, description="Flight software mode", states=MODES),
        Field("laser_state", Int8ub, description="Laser transmitter state", states=LASER_STATES),
        Field("cmd_accepted", Int16ub, description="Commands accepted since boot (wraps)"),
        Field("cmd_rejected", Int16ub, description="Commands rejected since boot (wraps)"),
        Field("temp_laser", Float32b, "degC", "Laser fibre amplifier temperature",
              valid_range=(-60, 120), limits=Limits(yellow=(0, 40), red=(-10, 50))),
        Field("temp_gimbal", Float32b, "degC", "Gimbal motor housing temperature",
              valid_range=(-60, 120), limits=Limits(yellow=(-20, 50), red=(-30, 60))),
        Field("temp_electronics", Float32b, "degC", "Electronics box temperature",
              valid_range=(-60, 120), limits=Limits(yellow=(-5, 45), red=(-15, 55))),
        Field("bus_voltage", Float32b, "V", "Payload 28 V bus voltage",
              valid_range=(0, 40), limits=Limits(yellow=(26, 30), red=(24, 32))),
        Field("bus_current", Float32b, "A", "Payload bus current",
              valid_range=(0, 20), limits=Limits(yellow=(0, 5), red=(0, 7))),
        Field("laser_current", Float32b, "A", "Laser pump diode current",
              valid_range=(0, 10), limits=Limits(yellow=(0, 4), red=(0, 5))),
        Field("uptime", Int32ub, "s", "Seconds since boot"),
    ),
))

TRACKING = D.add_telemetry(TelemetryPacket(
    "TRACKING", 0x021, rate_hz=10.0,
    description="Gimbal and beacon-tracking state at 10 Hz (the full 100 Hz log is a file).",
    fields=(
        Field("track_state", Int8ub, description="Tracking loop state", states=TRACK_STATES),
        Field("window", Int8ub, description="Centroid region", states=CENTROID_WINDOWS),
        Field("az_cmd", Float32b, "deg", "Commanded gimbal azimuth (from nadir)", valid_range=(-180, 180)),
        Field("el_cmd", Float32b, "deg", "Commanded gimbal elevation (from nadir)", valid_range=(-90, 90)),
        Field("az", Float32b, "deg", "Measured gimbal azimuth (from nadir)", valid_range=(-180, 180),
              limits=Limits(yellow=(-32, 71), red=AZ_RANGE_DEG)),
        Field("el", Float32b, "deg", "Measured gimbal elevation (from nadir)", valid_range=(-90, 90),
              limits=Limits(yellow=(2, 37), red=EL_RANGE_DEG)),
        Field("err_x", Float32b, "urad", "Beacon pointing error, camera x"),
        Field("err_y", Float32b, "urad", "Beacon pointing error, camera y"),
        Field("err_total", Float32b, "urad", "Beacon pointing error magnitude",
              valid_range=(0, 1e7), limits=Limits(yellow=(0, 140), red=(0, 1000))),
        Field("beacon_signal", Float32b, "DN", "Integrated beacon signal in the centroid region"),
        Field("frame_count", Int32ub, description="Camera frames processed since boot"),
    ),
))

SAFETY = D.add_telemetry(TelemetryPacket(
    "SAFETY", 0x022, rate_hz=1.0,
    description="Laser safety status word (every inhibit of hazards H1 and H2), at 1 Hz and on change.",
    fields=(
        Field("status_word", Int16ub, description="State of every inhibit, one bit each", bits=SAFETY_BITS),
        Field("laser_state", Int8ub, description="Laser transmitter state", states=LASER_STATES),
        Field("last_safing", Int8ub, description="Reason of the last laser safing", states=SAFING_REASONS),
        Field("arm_remaining", Float32b, "s", "Time left in the ARM window (0 when not armed)"),
        Field("safing_count", Int16ub, description="Laser safings since boot"),
        Field("h1_inhibits", Int8ub, description="H1 inhibits in place (relay A, relay B, software)",
              valid_range=(0, 3), limits=Limits(red=(2, 3))),
        Field("h2_inhibits", Int8ub, description="H2 inhibits able to act (hardstops, switches, software limit)",
              valid_range=(0, 3), limits=Limits(red=(2, 3))),
    ),
))

COMMAND_ACK = D.add_telemetry(TelemetryPacket(
    "COMMAND_ACK", 0x023,
    description="Command acknowledgement: accepted or rejected with a reason, then completed or failed.",
    fields=(
        Field("opcode", Int16ub, description="Opcode of the command acknowledged"),
        Field("cmd_seq", Int16ub, description="Sequence count of the command packet acknowledged"),
        Field("stage", Int8ub, description="Command lifecycle stage", states=ACK_STAGES),
        Field("reason", Int8ub, description="Reason code", states=REASONS),
    ),
))

EVENT = D.add_telemetry(TelemetryPacket(
    "EVENT", 0x024,
    description="An event from the dictionary's event list, with up to four integer arguments.",
    fields=(
        Field("event_id", Int16ub, description="Event identifier"),
        Field("severity", Int8ub, description="Event severity", states={s.value: s.name for s in Severity}),
        Field("arg0", Int32sb), Field("arg1", Int32sb), Field("arg2", Int32sb), Field("arg3", Int32sb),
    ),
))

FILE_PDU = D.add_telemetry(TelemetryPacket(
    "FILE_PDU", 0x025,
    description="Container for CCSDS CFDP PDUs downlinked from the payload file store.",
    fields=(bytes_field("pdu", "One CFDP PDU"),),
))

FILE_DIRECTORY = D.add_telemetry(TelemetryPacket(
    "FILE_DIRECTORY", 0x026,
    description="One file store entry, sent in answer to FILE_LIST and when a file is closed.",
    fields=(
        Field("file_id", Int16ub, description="File store identifier"),
        Field("kind", Int8ub, description="What the file holds", states=FILE_KINDS),
        Field("size", Int32ub, "bytes", "File size"),
        Field("crc32", Int32ub, description="CRC-32 of the file contents"),
        Field("created", Float64b, "s", "Creation time, TAI seconds since 1958"),
    ),
))

# ---------------------------------------------------------------- commands
_MODE_BUSY = ("POINTING", "ACQUIRE", "TRACK", "TRANSMIT")
D.add_command(Command("NOOP", 0x01, description="Do nothing; proves the command path end to end."))
D.add_command(Command(
    "PING", 0x02, (Field("token", Int32ub, description="Echoed in a PING event"),),
    description="Echo a token in an event (link check)."))
D.add_command(Command(
    "HEALTH_CHECK", 0x10, allowed_modes=("IDLE", "READY", "SAFE"),
    description="Check temperatures, home the gimbal, test every limit switch and confirm the laser is off."))
D.add_command(Command("CLEAR_PREDICTS", 0x11, allowed_modes=("IDLE", "READY"),
                      description="Forget the loaded pointing predicts."))
D.add_command(Command(
    "LOAD_PREDICT", 0x12,
    (
        Field("index", Int16ub, description="Row of the predict table", valid_range=(0, 4095)),
        Field("tai", Float64b, "s", "Time of the row, TAI seconds since 1958", valid_range=(0, 2**32)),
        Field("az", Float32b, "deg", "Predicted station azimuth (from nadir)", valid_range=(-180, 180)),
        Field("el", Float32b, "deg", "Predicted station elevation (from nadir)", valid_range=(-90, 90)),
    ),
    allowed_modes=("IDLE", "READY"), description="Load one row of the pointing predict table."))
D.add_command(Command(
    "SLEW", 0x13,
    (
        Field("az", Float32b, "deg", "Target azimuth (from nadir)", valid_range=AZ_RANGE_DEG),
        Field("el", Float32b, "deg", "Target elevation (from nadir)", valid_range=EL_RANGE_DEG),
    ),
    allowed_modes=("READY", "POINTING"),
    description="Slew the gimbal to a fixed direction inside the software limits."))
D.add_command(Command(
    "START_PASS", 0x14, allowed_modes=("READY",), preconditions=("predicts loaded", "health check passed"),
    description="Point open-loop along the predicts; acquire and track the beacon when it appears."))
D.add_command(Command(
    "END_PASS", 0x15, allowed_modes=_MODE_BUSY,
    description="Safe the laser, stop tracking and stow the gimbal."))
D.add_command(Command(
    "LASER_ARM", 0x20,
    (Field("window", Float32b, "s", "Seconds in which FIRE must follow", valid_range=(1, 60)),),
    hazardous=True, allowed_modes=("TRACK",),
    preconditions=("tracking locked", "pointing inside limits", "no fault"),
    description="First step of the two-step laser authorisation: arm for a window."))
D.add_command(Command(
    "LASER_FIRE", 0x21, hazardous=True, requires_arm=True, allowed_modes=("TRACK",),
    preconditions=("armed within window", "tracking locked", "pointing inside limits"),
    description="Second step: close the relays and emit. Refused unless armed, locked and inside limits."))
D.add_command(Command("LASER_SAFE", 0x22, description="Turn the laser off and open both relays. Always accepted."))
D.add_command(Command("STOW", 0x23, allowed_modes=("READY", "IDLE", "SAFE", "STOW"),
                      description="Drive the gimbal to its stow position."))
D.add_command(Command("FILE_LIST", 0x30, description="Report every file in the store as FILE_DIRECTORY packets."))
D.add_command(Command(
    "FILE_DOWNLINK", 0x31, (Field("file_id", Int16ub, description="File store identifier"),),
    allowed_modes=("IDLE", "READY", "DOWNLINK", "SAFE"), description="Downlink one file by CFDP."))
D.add_command(Command(
    "FILE_DOWNLINK_ALL", 0x32, (Field("cfdp_class", Int8ub, description="CFDP class (1 or 2)", valid_range=(1, 2)),),
    allowed_modes=("IDLE", "READY", "DOWNLINK", "SAFE"),
    description="Downlink every file closed since the last downlink."))
D.add_command(Command("FILE_DELETE", 0x33, (Field("file_id", Int16ub, description="File store identifier"),),
                      allowed_modes=("IDLE", "READY", "SAFE"), description="Delete one file from the store."))
D.add_command(Command("GO_IDLE", 0x40, allowed_modes=("IDLE", "READY", "STOW", "DOWNLINK", "HEALTH_CHECK"),
                      description="Return to IDLE."))
D.add_command(Command("CLEAR_SAFE", 0x41, allowed_modes=("SAFE",),
                      description="Leave SAFE mode for IDLE once the fault is understood."))
D.add_command(Command("POWER_OFF", 0x42, hazardous=True, allowed_modes=("IDLE", "SAFE"),
                      description="Prepare for power removal: stow, close files, stop telemetry."))
D.add_command(Command(
    "SET_TLM_RATE", 0x43,
    (
        Field("apid", Int16ub, description="Telemetry APID", valid_range=(0x020, 0x7FE)),
        Field("rate_hz", Float32b, "Hz", "Packets per second (0 stops it)", valid_range=(0, 100)),
    ),
    description="Change the rate of a periodic telemetry packet."))

# ---------------------------------------------------------------- events
_E = Severity
for ev in (
    Event("BOOT_COMPLETE", 1, _E.ACTIVITY_HI, "Flight software booted (boot {boot})", ("boot",)),
    Event("MODE_CHANGE", 2, _E.ACTIVITY_HI, "Mode {old} -> {new}", ("old", "new"),
          {"old": MODES, "new": MODES}),
    Event("CMD_REJECTED", 3, _E.WARNING_LO, "Command {opcode} rejected: {reason}", ("opcode", "reason"),
          {"reason": REASONS}),
    Event("PING", 4, _E.ACTIVITY_LO, "Ping {token}", ("token",)),
    Event("HEALTH_CHECK_PASSED", 5, _E.ACTIVITY_HI, "Health check passed"),
    Event("HEALTH_CHECK_FAILED", 6, _E.WARNING_HI, "Health check failed: {what} ({value})", ("what", "value"),
          {"what": {0: "TEMPERATURE", 1: "GIMBAL_HOME", 2: "LIMIT_SWITCH", 3: "LASER_NOT_OFF", 4: "RELAY"}}),
    Event("PREDICTS_LOADED", 7, _E.ACTIVITY_LO, "Predict table holds {rows} rows", ("rows",)),
    Event("LOCK_ACQUIRED", 8, _E.ACTIVITY_HI, "Beacon lock after {ms} ms", ("ms",)),
    Event("LOCK_LOST", 9, _E.WARNING_LO, "Beacon lock lost"),
    Event("LASER_ARMED", 10, _E.ACTIVITY_HI, "Laser armed for {window_ms} ms", ("window_ms",)),
    Event("LASER_FIRED", 11, _E.ACTIVITY_HI, "Laser emitting"),
    Event("LASER_SAFED", 12, _E.ACTIVITY_HI, "Laser safed: {reason}", ("reason",), {"reason": SAFING_REASONS}),
    Event("ARM_TIMEOUT", 13, _E.WARNING_LO, "ARM window expired without FIRE"),
    Event("LIMIT_SWITCH_TRIP", 14, _E.WARNING_HI, "Limit switch {switch} tripped", ("switch",),
          {"switch": SWITCHES}),
    Event("SOFT_LIMIT", 15, _E.WARNING_HI, "Pointing outside software limits: az {az_mdeg} el {el_mdeg} mdeg",
          ("az_mdeg", "el_mdeg")),
    Event("OVER_TEMPERATURE", 16, _E.WARNING_HI, "{sensor} at {centi_degc} cdegC", ("sensor", "centi_degc"),
          {"sensor": TEMP_SENSORS}),
    Event("WATCHDOG", 17, _E.FATAL, "Watchdog expired (rate group {group})", ("group",)),
    Event("SAFE_MODE", 18, _E.WARNING_HI, "Entered SAFE: {reason}", ("reason",), {"reason": SAFING_REASONS}),
    Event("RELAY_MISMATCH", 19, _E.WARNING_HI, "Relay {relay} reads {read}, commanded {commanded}",
          ("relay", "read", "commanded")),
    Event("EMISSION_UNEXPECTED", 20, _E.FATAL, "Laser emission sensed while not authorised"),
    Event("FILE_CLOSED", 21, _E.ACTIVITY_LO, "File {file_id} ({kind}) closed, {size} bytes",
          ("file_id", "kind", "size"), {"kind": FILE_KINDS}),
    Event("DOWNLINK_STARTED", 22, _E.ACTIVITY_LO, "Downlink of file {file_id} started (class {cfdp_class})",
          ("file_id", "cfdp_class")),
    Event("DOWNLINK_COMPLETE", 23, _E.ACTIVITY_HI, "Downlink of file {file_id} complete", ("file_id",)),
    Event("DOWNLINK_FAILED", 24, _E.WARNING_HI, "Downlink of file {file_id} failed ({code})",
          ("file_id", "code")),
    Event("FAULT_DETECTED", 25, _E.WARNING_HI, "Fault detected: code {code}", ("code",)),
    Event("PASS_STARTED", 26, _E.ACTIVITY_HI, "Pass started with {rows} predict rows", ("rows",)),
    Event("PASS_ENDED", 27, _E.ACTIVITY_HI, "Pass ended, laser on for {emit_ms} ms", ("emit_ms",)),
    Event("TLM_RATE", 28, _E.ACTIVITY_LO, "APID {apid} at {milli_hz} mHz", ("apid", "milli_hz")),
    Event("PACKET_REJECTED", 29, _E.WARNING_LO, "Uplink packet rejected: {reason} (APID {apid})",
          ("reason", "apid"), {"reason": REASONS}),
):
    D.add_event(ev)

# ---- flight/sim ----
# Onboard time-tagged sequence (the pass plan) and the end-of-pass tracking summary.
from construct import Bytes as _Bytes  # noqa: E402

TIMETAG_ARGS_LEN = 32
D.add_command(Command(
    "TIMETAG", 0x50,
    (
        Field("tai", Float64b, "s", "Execution time, TAI seconds since 1958", valid_range=(0, 2**32)),
        Field("opcode", Int16ub, description="Opcode of the embedded command"),
        Field("args", _Bytes(TIMETAG_ARGS_LEN), description="Embedded command arguments (wire form, zero padded)"),
    ),
    description="Store a command in the onboard sequence to run at a TAI time; validated on upload and on execution."))
D.add_command(Command("SEQ_CLEAR", 0x51, description="Drop every command waiting in the onboard sequence."))

PASS_SUMMARY = D.add_telemetry(TelemetryPacket(
    "PASS_SUMMARY", 0x027,
    description="Beacon tracking performance of the last pass, measured onboard (sent once at pass end).",
    fields=(
        Field("acquisition_ms", Int32sb, "ms", "Beacon visible to lock (-1: never locked)"),
        Field("lock_fraction", Float32b, "", "Fraction of tracking frames with lock after acquisition"),
        Field("err_mean", Float32b, "urad", "Mean radial pointing error while locked"),
        Field("err_rms", Float32b, "urad", "RMS radial pointing error while locked"),
        Field("err_3sigma", Float32b, "urad", "Three times the RMS radial error while locked",
              limits=Limits(yellow=(0, 140), red=(0, 300))),
        Field("err_max", Float32b, "urad", "Largest radial pointing error while locked"),
        Field("samples", Int32ub, description="Locked frames in the statistics"),
        Field("emit_s", Float32b, "s", "Laser emission time during the pass"),
    ),
))

for ev in (
    Event("SEQ_STORED", 40, _E.ACTIVITY_LO, "Sequence: opcode {opcode} stored for {tai_s} s, {count} waiting",
          ("opcode", "tai_s", "count")),
    Event("SEQ_EXECUTED", 41, _E.ACTIVITY_LO, "Sequence: opcode {opcode} run {late_ms} ms after its time",
          ("opcode", "late_ms")),
    Event("SEQ_REJECTED", 42, _E.WARNING_LO, "Sequence: opcode {opcode} rejected: {reason}", ("opcode", "reason"),
          {"reason": REASONS}),
    Event("SEQ_CLEARED", 43, _E.ACTIVITY_LO, "Sequence cleared, {count} dropped", ("count",)),
    Event("PASS_SUMMARY", 44, _E.ACTIVITY_HI, "Pass: acquisition {acq_ms} ms, 3-sigma {err3_urad} urad, {samples} samples",
          ("acq_ms", "err3_urad", "samples")),
):
    D.add_event(ev)

# ---- optical downlink ----
OPTICAL_SEGMENT = D.add_telemetry(TelemetryPacket(
    "OPTICAL_SEGMENT", 0x035,
    description="One slice of the looped downlink file (the stand-in video), exactly filling the data "
                "field of an optical TM transfer frame; the ground reassembles the file by offset.",
    fields=(
        Field("file_size", Int32ub, "bytes", "Size of the file being looped"),
        Field("offset", Int32ub, "bytes", "Offset of this slice in the file"),
        bytes_field("chunk", "File bytes (zero padded past the end of the file)"),
    ),
))
for ev in (
    Event("OPTICAL_PLAYOUT_STARTED", 70, _E.ACTIVITY_HI, "Optical playout started (depth {depth})", ("depth",)),
    Event("OPTICAL_PLAYOUT_STOPPED", 71, _E.ACTIVITY_HI, "Optical playout stopped after {frames} frames "
          "({loops} loops)", ("frames", "loops")),
):
    D.add_event(ev)
