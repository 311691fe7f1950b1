"""Link URLs: ``udp://PEER_HOST:PEER_PORT?local=HOST:PORT`` and ``serial:///dev/ttyX?baud=115200``."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlparse


@dataclass(frozen=True)
class LinkSpec:
    scheme: str
    peer: tuple[str, int] | None = None
    local: tuple[str, int] | None = None
    device: str | None = None
    baud: int = 115200


def _hostport(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"expected HOST:PORT, got {text!r}")
    return host, int(port)


def parse_link_url(url: str) -> LinkSpec:
    u = urlparse(url)
    q = {k: v[-1] for k, v in parse_qs(u.query).items()}
    if u.scheme == "udp":
        if not u.hostname or not u.port:
            raise ValueError(f"udp link needs udp://HOST:PORT, got {url!r}")
        peer = (u.hostname, u.port)
        local = _hostport(q["local"]) if "local" in q else (u.hostname, u.port + 1)
        return LinkSpec("udp", peer=peer, local=local)
    if u.scheme == "serial":
        device = u.path or u.netloc
        if not device:
            raise ValueError(f"serial link needs serial:///dev/..., got {url!r}")
        return LinkSpec("serial", device=device, baud=int(q.get("baud", 115200)))
    raise ValueError(f"unknown link scheme {u.scheme!r} (udp:// or serial://)")


def open_link(url: str, dictionary=None):
    """A link from its URL. A serial link's deframer accepts only the APIDs and lengths of
    ``dictionary`` (default: the OPALS dictionary)."""
    spec = parse_link_url(url)
    if spec.scheme == "udp":
        from links.udp import UdpLink
        return UdpLink(spec.local, spec.peer)
    from links.serial_link import SerialLink
    from protocol.framing import packet_lengths
    if dictionary is None:
        from protocol.opals import DICTIONARY as dictionary
    return SerialLink(spec.device, spec.baud, lengths=packet_lengths(dictionary))
