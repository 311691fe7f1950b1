"""The live terminal display of ``opals-ground watch``: current values in limit colours, recent
events, and link health (packets/s and bytes/s per APID, CRC failures, gaps, up/down)."""
from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ground.limits import Level
from protocol.model import Severity

LEVEL_STYLE = {Level.GREEN: "green", Level.YELLOW: "bold yellow", Level.RED: "bold white on red"}
SEVERITY_STYLE = {Severity.WARNING_LO: "yellow", Severity.WARNING_HI: "bold yellow", Severity.FATAL: "bold red"}


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.3f}"
    if isinstance(v, bytes):
        return f"<{len(v)} bytes>"
    return str(v)


def render(session, max_events: int = 10) -> RenderableType:
    """Telemetry on the left; link health and events on the right, so the packet rates stay on
    screen however many fields the dictionary grows."""
    values = Table(title="Telemetry", expand=True)
    values.add_column("packet")
    values.add_column("field")
    values.add_column("value", justify="right")
    values.add_column("units")
    for name, s in sorted(session.latest.items()):
        p = session.dictionary.telemetry[name]
        for key, v in s.values.items():
            base = key.split(".")[0]
            f = p.field(base)
            lvl = session.live_limits.level(name, base)
            values.add_row(name, key, Text(_fmt(v), style=LEVEL_STYLE[lvl] if f.limits else ""), f.units)

    events = Table(title="Recent events", expand=True)
    events.add_column("seq", justify="right")
    events.add_column("event")
    events.add_column("text")
    for e in list(session.events)[-max_events:]:
        events.add_row(str(e.seq), e.name, Text(e.text, style=SEVERITY_STYLE.get(e.severity, "")))

    h = session.health.report(session.link.stats())
    link = Table(title=Text("Link UP" if h.up else f"Link DOWN (silent {h.silent_for:.0f} s)",
                            style="bold green" if h.up else "bold white on red"), expand=True)
    for col in ("APID", "packet", "packets", "packets/s", "bytes/s", "gaps"):
        link.add_column(col, justify="right")
    for r in h.per_apid:
        p = session.dictionary.packet_by_apid(r.apid)
        link.add_row(f"{r.apid:#05x}", p.name if p else "?", str(r.packets), f"{r.packets_per_s:.1f}",
                     f"{r.bytes_per_s:.0f}", str(r.gaps))
    summary = Text(f"total {h.packets} packets, {h.bytes} bytes | CRC failures {h.crc_failures} | "
                   f"sequence gaps {h.seq_gaps} | rejected {h.rejected} | decode errors {h.decode_errors}")
    screen = Table.grid(expand=True, padding=(0, 1))
    screen.add_column(ratio=3)
    screen.add_column(ratio=2)
    screen.add_row(values, Group(link, summary, events))
    return screen
