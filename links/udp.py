"""One packet per datagram. Only the configured peer is accepted (a UDP port is unauthenticated),
as fprime-gds ``udp-fast`` does; everything else is dropped and counted."""
from __future__ import annotations

import errno
import select
import socket
import time

from links.base import LinkStats, SequenceTracker
from protocol.codec import Codec, PacketError


def _resolve(addr: tuple[str, int]) -> tuple[str, int]:
    return socket.gethostbyname(addr[0]), int(addr[1])


class UdpLink:
    """No SO_REUSEADDR: a second process on the same port must fail loudly, not silently share
    (or steal) the datagrams; UDP has no TIME_WAIT, so a restart rebinds at once anyway."""

    def __init__(self, local: tuple[str, int], peer: tuple[str, int], rcvbuf: int = 8 << 20):
        self.local = _resolve(local)
        self.peer = _resolve(peer)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        except OSError:
            pass
        self.sock.bind(self.local)
        self.local = self.sock.getsockname()
        self.sock.setblocking(False)
        self._stats = LinkStats()
        self._seq = SequenceTracker()

    def send(self, packet: bytes) -> bool:
        try:
            self.sock.sendto(packet, self.peer)
        except OSError:
            # Nobody listening yet (ICMP port unreachable) or a full buffer: counted, never raised.
            self._stats.send_errors += 1
            return False
        self._stats.packets_out += 1
        self._stats.bytes_out += len(packet)
        return True

    def recv(self, timeout: float = 0.0, max_packets: int = 10000) -> list[bytes]:
        """The valid packets from the peer that have arrived (up to ``max_packets``); waits up to
        ``timeout`` s for the first one (foreign or bad datagrams do not end the wait)."""
        deadline = time.monotonic() + timeout
        out: list[bytes] = []
        while True:
            self._drain(out, max_packets)
            remaining = deadline - time.monotonic()
            if out or remaining <= 0:
                return out
            select.select([self.sock], [], [], remaining)

    def _drain(self, out: list[bytes], max_packets: int) -> None:
        st = self._stats
        while len(out) < max_packets:
            try:
                data, addr = self.sock.recvfrom(65536)
            except BlockingIOError:
                return
            except OSError as exc:
                if exc.errno in (errno.ECONNREFUSED, errno.ECONNRESET):
                    continue  # ICMP echo of an earlier send; not data
                st.recv_errors += 1  # never raised: a receive loop must survive the socket's moods
                return
            if addr != self.peer:
                st.rejected_foreign += 1
                continue
            try:
                _, apid, seq = Codec.check_frame(data)
            except PacketError as exc:
                st.rejected_bad += 1
                if exc.reason == "BAD_CRC":
                    st.crc_failures += 1
                continue
            st.count_in(apid, len(data), self._seq.gap(apid, seq))
            out.append(data)

    def fileno(self) -> int:
        return self.sock.fileno()

    def stats(self) -> LinkStats:
        return self._stats

    def close(self) -> None:
        self.sock.close()
