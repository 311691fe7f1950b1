"""Byte-stream link through pyserial: ASM framing, and reconnection when the device goes away.

A USB-serial adapter that is unplugged and plugged back in (or a pty whose other side restarts)
must not end the session: writes during the outage are queued (bounded) and flushed when the
device returns; everything received before the outage stays received.
"""
from __future__ import annotations

import collections
import select
import time

import serial

from links.base import LinkStats, SequenceTracker
from protocol.ccsds import SYNC_MARKER
from protocol.framing import Deframer, frame


class SerialLink:
    def __init__(self, port: str, baudrate: int = 115200, reconnect_interval: float = 0.5,
                 max_queue: int = 10000, opener=None, lengths: dict[int, tuple[int, int]] | None = None):
        """``lengths``: APID -> (min, max) packet length (``protocol.framing.packet_lengths``), so
        a false marker in line noise cannot stall the stream; None accepts any APID."""
        self.port = port
        self.baudrate = baudrate
        self.reconnect_interval = reconnect_interval
        self._opener = opener or (lambda: serial.serial_for_url(port, baudrate=baudrate, timeout=0,
                                                                 write_timeout=2, exclusive=False))
        self._dev = None
        self._next_try = 0.0
        self._deframer = Deframer(lengths=lengths)
        self._queue: collections.deque[bytes] = collections.deque(maxlen=max_queue)
        self._stats = LinkStats(up=False)
        self._seq = SequenceTracker()
        self._salvaged: list[bytes] = []  # packets recovered from the old stream at a reconnect
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
            self._stats.open_failures += 1
            self._next_try = now + self.reconnect_interval
            return False
        if self._ever_up:
            self._stats.reconnects += 1
            # A frame cut by the outage will never be completed: end the old stream now (whole
            # packets found in it are kept), or its claimed length would hold back the new one.
            self._salvaged.extend(self._deframer.flush())
        self._ever_up = True
        self._stats.up = True
        while self._queue:  # what was sent during the outage goes first, in order
            data = self._queue[0]
            if not self._write(data):
                return self._dev is not None
            self._queue.popleft()
            self._stats.packets_out += 1
            self._stats.bytes_out += len(data) - len(SYNC_MARKER)
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
        """True when written now; False when queued for the device's return (oldest dropped and
        counted in ``send_errors`` once ``max_queue`` frames wait), or when the write timed out
        because the far end does not read (dropped and counted: the device is still there)."""
        data = frame(packet)
        if self._ensure_open():
            try:
                self._dev.write(data)
            except serial.SerialTimeoutException:
                self._stats.send_errors += 1
                return False
            except (serial.SerialException, OSError):
                self._lost()
            else:
                self._stats.packets_out += 1
                self._stats.bytes_out += len(packet)
                return True
        if len(self._queue) == self._queue.maxlen:
            self._stats.send_errors += 1
        self._queue.append(data)
        return False

    def recv(self, timeout: float = 0.0) -> list[bytes]:
        """Every packet that has arrived; waits up to ``timeout`` s for the first one.

        Always reads (even with ``timeout=0``), since a read is how a vanished device shows
        itself; during an outage it keeps trying to reopen the port until the deadline."""
        deadline = time.monotonic() + timeout
        out: list[bytes] = []
        while True:
            opened = self._ensure_open()
            if self._salvaged:
                out.extend(self._salvaged)
                self._salvaged.clear()
            if opened:
                data = self._read_available(max(0.0, deadline - time.monotonic()))
                if data:
                    out.extend(self._deframer.feed(data))
            else:
                time.sleep(min(self.reconnect_interval / 4, max(0.0, deadline - time.monotonic())))
            if out or time.monotonic() >= deadline:
                break
        self._account(out)
        return out

    def _read_available(self, wait: float) -> bytes:
        """Everything waiting in the device, after waiting up to ``wait`` s for the first byte."""
        dev = self._dev
        try:
            if wait > 0 and not dev.in_waiting:
                fileno = getattr(dev, "fileno", None)
                if fileno is not None:
                    select.select([fileno()], [], [], min(wait, 0.05))
                else:
                    time.sleep(min(wait, 0.002))
            return dev.read(max(1, dev.in_waiting))
        except (serial.SerialException, OSError, TypeError, ValueError):
            self._lost()
            return b""

    def _account(self, packets: list[bytes]) -> None:
        st = self._stats
        for p in packets:
            apid = ((p[0] & 7) << 8) | p[1]
            st.count_in(apid, len(p), self._seq.gap(apid, ((p[2] & 0x3F) << 8) | p[3]))
        ds = self._deframer.stats()
        st.bytes_discarded = ds.bytes_discarded
        st.crc_failures = ds.crc_failures

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
