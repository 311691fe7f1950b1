"""The payload's device bus over a serial line: request/response messages between the flight
computer and its devices (used by flight/hal_serial.py; sim/device_server.py is the far end).

Frame: magic 0xEB90, u32 length, payload, CRC-32 of the payload. A reader resynchronises on the
magic after garbage (counted), so a glitch on the line costs one request, never the session.
Payload: op (u8), request id (u16), then op-specific big-endian fields.
"""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

MAGIC = b"\xeb\x90"
_HDR = struct.Struct(">2sI")
_CRC = struct.Struct(">I")
MAX_PAYLOAD = 4 << 20

# Operations (requests; the response carries the same op and id).
OP_STEP, OP_GIMBAL_CMD, OP_GIMBAL_READ = 0x01, 0x02, 0x03
OP_RELAY_ARM, OP_RELAY_FIRE, OP_RELAY_OPEN, OP_RELAY_READ = 0x04, 0x05, 0x06, 0x07
OP_LASER_DRIVER, OP_PHOTODIODE, OP_LASER_CURRENT, OP_WATCHDOG, OP_INTERLOCK = 0x08, 0x09, 0x0A, 0x0B, 0x0C
OP_CAMERA_INFO, OP_CAMERA_GRAB, OP_SWITCHES, OP_THERMAL, OP_POWER = 0x0D, 0x0E, 0x0F, 0x10, 0x11
OP_QUIT, OP_ERROR = 0x7E, 0x7F


def encode_frame(payload: bytes) -> bytes:
    return _HDR.pack(MAGIC, len(payload)) + payload + _CRC.pack(zlib.crc32(payload) & 0xFFFFFFFF)


@dataclass
class FrameReader:
    """Incremental frame parser over a byte stream."""

    discarded: int = 0
    crc_errors: int = 0

    def __post_init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        self._buf += data
        out = []
        buf = self._buf
        while True:
            i = buf.find(MAGIC)
            if i < 0:
                keep = 1 if buf.endswith(MAGIC[:1]) else 0
                self.discarded += len(buf) - keep
                del buf[:len(buf) - keep]
                break
            if i:
                self.discarded += i
                del buf[:i]
            if len(buf) < _HDR.size:
                break
            _, n = _HDR.unpack_from(buf)
            if n > MAX_PAYLOAD:
                self.discarded += 1
                del buf[:1]
                continue
            end = _HDR.size + n + _CRC.size
            if len(buf) < end:
                break
            payload = bytes(buf[_HDR.size:_HDR.size + n])
            if zlib.crc32(payload) & 0xFFFFFFFF != _CRC.unpack_from(buf, _HDR.size + n)[0]:
                self.crc_errors += 1
                del buf[:1]
                continue
            del buf[:end]
            out.append(payload)
        return out


class BusError(IOError):
    """A device did not answer (timeout) or answered with an error."""


class DeviceBusClient:
    """Flight side: one request at a time, wait for its response (with a timeout)."""

    def __init__(self, port, timeout_s: float = 2.0):
        self.port = port               # a pyserial-like object: write(), read(n), in_waiting
        self.timeout_s = timeout_s
        self.reader = FrameReader()
        self._id = 0
        self._pending: list[bytes] = []
        self.requests = 0
        self.timeouts = 0

    def call(self, op: int, body: bytes = b"") -> bytes:
        import time
        self._id = (self._id + 1) & 0xFFFF
        rid = self._id
        self.port.write(encode_frame(struct.pack(">BH", op, rid) + body))
        self.requests += 1
        deadline = time.monotonic() + self.timeout_s
        while True:
            for payload in self._pending:
                if len(payload) >= 3 and struct.unpack_from(">BH", payload) == (op, rid):
                    self._pending.remove(payload)
                    return payload[3:]
                if len(payload) >= 3 and payload[0] == OP_ERROR:
                    self._pending.remove(payload)
                    raise BusError(payload[3:].decode(errors="replace"))
            self._pending = self._pending[-16:]
            if time.monotonic() > deadline:
                self.timeouts += 1
                raise BusError(f"device op {op:#x} timed out")
            n = self.port.in_waiting
            data = self.port.read(n or 1)
            if data:
                self._pending += self.reader.feed(data)
