"""Byte-stream link through pyserial: ASM framing, and reconnection when the device goes away.

A USB-serial adapter that is unplugged and plugged back in (or a pty whose other side restarts)
must not end the session: writes during the outage are queued (bounded) and flushed when the
device returns; everything received before the outage stays received.
"""
from __future__ import annotations

import collections
import time

import serial

from links.base import LinkStats
from protocol.framing import Deframer, frame


class SerialLink:
    def __init__(self, port: str, baudrate: int = 115200, reconnect_interval: float = 0.5,
                 max_queue: int = 10000, opener=None):
        self.port = port
        self.baudrate = baudrate
        self.reconnect_interval = reconnect_interval
        self._opener = opener or (lambda: serial.serial_for_url(port, baudrate=baudrate, timeout=0,
                                                                 write_timeout=2, exclusive=False))
        self._dev = None
        self._next_try = 0.0
        self._deframer = Deframer()
        self._queue: collections.deque[bytes] = collections.deque(maxlen=max_queue)
        self._stats = LinkStats(up=False)
        self._ever_up = False
        self._ensure_open()

    # ------------------------------------------------------------------ connection
    def _ensure_open(self) -> bool:
        if self._dev is not None:
            return True
        now = time.monotonic()
        if now < self._next_try:
            return False
        try:
            self._dev = self._opener()
        except (serial.SerialException, OSError):
            self._next_try = now + self.reconnect_interval
            return False
        if self._ever_up:
            self._stats.reconnects += 1
        self._ever_up = True
        self._stats.up = True
        while self._queue:
            if not self._write(self._queue[0]):
                return self._dev is not None
            self._queue.popleft()
        return True

    def _lost(self) -> None:
        try:
            if self._dev is not None:
                self._dev.close()
        except Exception:  # noqa: BLE001 - the device is already gone
            pass
        self._dev = None
        self._stats.up = False
        self._next_try = time.monotonic() + self.reconnect_interval

    def _write(self, data: bytes) -> bool:
        try:
            self._dev.write(data)
            return True
        except (serial.SerialException, OSError):
            self._lost()
            return False

    # ------------------------------------------------------------------ Link
    def send(self, packet: bytes) -> bool:
        data = frame(packet)
        if not self._ensure_open() or not self._write(data):
            if len(self._queue) == self._queue.maxlen:
                self._stats.send_errors += 1
            self._queue.append(data)
            return False
        self._stats.packets_out += 1
        self._stats.bytes_out += len(packet)
        return True

    def recv(self, timeout: float = 0.0) -> list[bytes]:
        deadline = time.monotonic() + timeout
        out: list[bytes] = []
        while True:
            if self._ensure_open():
                try:
                    n = self._dev.in_waiting
                    data = self._dev.read(n or 1) if (n or timeout > 0) else b""
                except (serial.SerialException, OSError, TypeError):
                    self._lost()
                    data = b""
                if data:
                    out.extend(self._deframer.feed(data))
            if out or time.monotonic() >= deadline:
                break
            time.sleep(min(0.002, max(0.0, deadline - time.monotonic())))
        self._account(out)
        return out

    def _account(self, packets: list[bytes]) -> None:
        st = self._stats
        for p in packets:
            st.count_in(((p[0] & 7) << 8) | p[1], len(p))
        ds = self._deframer.stats()
        st.bytes_discarded = ds.bytes_discarded
        st.crc_failures = ds.crc_failures
        st.seq_gaps = ds.seq_gaps
        for apid, d in ds.per_apid.items():
            if apid in st.per_apid:
                st.per_apid[apid]["gaps"] = d["gaps"]

    def stats(self) -> LinkStats:
        return self._stats

    @property
    def queued(self) -> int:
        return len(self._queue)

    def close(self) -> None:
        if self._dev is not None:
            try:
                self._dev.close()
            except Exception:  # noqa: BLE001
                pass
            self._dev = None
