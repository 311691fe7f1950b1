"""Transport: UDP and serial byte pipes carrying the dictionary's packets.

Both ends of the RF link run the same transport code, so it sits beside ``protocol`` rather
than inside ``ground`` or ``flight``: it imports only ``protocol`` and ``native``, and flight
(through its HAL), sim and ground import it.
"""
from links.base import Link, LinkStats
from links.url import open_link, parse_link_url

__all__ = ["Link", "LinkStats", "open_link", "parse_link_url"]
