"""``opals-ground query | replay``: read the archive back.

``query`` selects one packet's rows by time range and parameters (CSV, JSON lines or a table);
``replay`` sends a time range of the raw log back through the decoder (decom, events and the
*playback* limit set, so stored data raises no live alarm), to the terminal or onto a link.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

DEFAULT_ARCHIVE = Path("ground-data") / "archive"


def _tai(text: str | None) -> float | None:
    if not text:
        return None
    from protocol.time_codes import datetime_to_tai
    return datetime_to_tai(dt.datetime.fromisoformat(text.replace("Z", "+00:00")))


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("query", help="rows of one packet by time range and parameters")
    p.add_argument("packet", help="telemetry packet name, e.g. TRACKING")
    p.add_argument("--archive", type=Path, default=DEFAULT_ARCHIVE)
    p.add_argument("--start", help="ISO UTC, inclusive")
    p.add_argument("--end", help="ISO UTC, exclusive")
    p.add_argument("--fields", help="comma-separated parameters (default: all)")
    p.add_argument("--format", choices=("csv", "jsonl", "table"), default="csv")
    p.add_argument("--limit", type=int, default=None)
    p.set_defaults(func=run_query)

    p = sub.add_parser("replay", help="a time range of the raw log back through the decoder")
    p.add_argument("--archive", type=Path, default=DEFAULT_ARCHIVE)
    p.add_argument("--start", required=True)
    p.add_argument("--end", required=True)
    p.add_argument("--packets", help="comma-separated packet names (default: all)")
    p.add_argument("--to", help="send the packets to this link URL instead of printing them")
    p.add_argument("--rate", type=float, default=0.0, help="packets/s when sending (0: as fast as possible)")
    p.set_defaults(func=run_replay)


def _missing_archive(path: Path) -> bool:
    """Reading must not create: a mistyped --archive would otherwise answer 'no data' quietly."""
    if (path / "raw").is_dir() or (path / "parquet").is_dir():
        return False
    print(f"error: no archive at {path} (expected raw/ and parquet/ under it)", file=sys.stderr)
    return True


def run_query(a: argparse.Namespace) -> int:
    from ground.archive import Archive
    from protocol.opals import DICTIONARY
    if a.packet not in DICTIONARY.telemetry:
        print(f"error: unknown packet {a.packet!r} (one of {', '.join(DICTIONARY.telemetry)})", file=sys.stderr)
        return 2
    fields = [f for f in a.fields.split(",") if f] if a.fields else None
    p = DICTIONARY.telemetry[a.packet]
    unknown = [f for f in fields or () if f not in {x.name for x in p.fields}]
    if unknown:
        print(f"error: {a.packet} has no field(s) {', '.join(unknown)}", file=sys.stderr)
        return 2
    start, end = _tai(a.start), _tai(a.end)
    if _missing_archive(a.archive):
        return 2
    t = Archive(a.archive, DICTIONARY).query(a.packet, start, end, fields)
    if a.limit is not None:
        t = t.slice(0, a.limit)
    if a.format == "csv":
        import pyarrow.csv as pacsv
        pacsv.write_csv(t, sys.stdout.buffer)
    elif a.format == "jsonl":
        for row in t.to_pylist():
            print(json.dumps(row, default=str))
    else:
        from rich.console import Console
        from rich.table import Table
        tab = Table(*t.column_names)
        for row in t.to_pylist():
            tab.add_row(*(str(v) for v in row.values()))
        Console().print(tab)
    return 0


def run_replay(a: argparse.Namespace) -> int:
    from ground.archive import Archive
    from ground.decom import Decom
    from ground.limits import LimitChecker, LimitSet
    from protocol.codec import Codec, PacketError
    from protocol.opals import DICTIONARY
    names = [n for n in a.packets.split(",") if n] if a.packets else None
    unknown = [n for n in names or () if n not in DICTIONARY.telemetry]
    if unknown:
        print(f"error: unknown packet(s) {', '.join(unknown)} (one of {', '.join(DICTIONARY.telemetry)})",
              file=sys.stderr)
        return 2
    start, end = _tai(a.start), _tai(a.end)
    if _missing_archive(a.archive):
        return 2
    archive = Archive(a.archive, DICTIONARY)
    packets = archive.replay(start, end, names)
    if a.to:
        from links.url import open_link
        link = open_link(a.to)
        n = 0
        for raw in packets:
            link.send(raw)
            n += 1
            if a.rate:
                time.sleep(1.0 / a.rate)
        link.close()
        print(f"replayed {n} packets to {a.to}", file=sys.stderr)
        return 0
    codec, decom = Codec(DICTIONARY), Decom(DICTIONARY)
    limits = LimitChecker(LimitSet.from_dictionary(DICTIONARY, "playback"))
    n = 0
    for raw in packets:
        try:
            pkt = codec.decode_tm(raw)
        except PacketError as exc:
            print(f"# undecodable packet: {exc.reason}")
            continue
        n += 1
        if pkt.name == "EVENT":
            e = decom.event(pkt)
            print(f"{e.tai:.3f} EVENT {e.severity.name} {e.name}: {e.text}")
            continue
        s = decom.sample(pkt)
        vals = {k: v for k, v in s.values.items() if not isinstance(v, bytes)}
        print(f"{s.tai:.3f} {s.packet} seq={s.seq} {json.dumps(vals, default=str)}")
        for t in limits.check(pkt.name, pkt.values, pkt.tai):
            print(f"{t.tai:.3f} LIMIT[{t.limit_set}] {t.packet}.{t.field} {t.old.name} -> {t.new.name} ({t.value:g})")
    print(f"# {n} packets replayed", file=sys.stderr)
    return 0
