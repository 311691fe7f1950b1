"""``opals-ground cmd | watch | history | ingest | run``: operations subcommands."""
from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path

DEFAULT_DATA = "ground-data"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("cmd", help="send one command and verify it (hazardous ones ask for confirmation)")
    p.add_argument("link", help="udp://PEER:PORT?local=HOST:PORT or serial:///dev/...")
    p.add_argument("name", help="command name from the dictionary")
    p.add_argument("args", nargs="*", help="arguments as NAME=VALUE")
    p.add_argument("--data-dir", default=DEFAULT_DATA)
    p.add_argument("--timeout", type=float, default=5.0)
    p.add_argument("--confirm", help="confirm a hazardous command non-interactively (its exact name)")
    p.set_defaults(func=run_cmd)

    p = sub.add_parser("watch", help="live display: values with limit colours, events, link health")
    p.add_argument("link")
    p.add_argument("--data-dir", default=DEFAULT_DATA)
    p.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    p.set_defaults(func=run_watch)

    p = sub.add_parser("history", help="the persistent command history")
    p.add_argument("--data-dir", default=DEFAULT_DATA)
    p.add_argument("-n", "--limit", type=int, default=50)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run_history)

    p = sub.add_parser("ingest", help="archive a recorded ASM-framed stream (resumes after a crash)")
    p.add_argument("input", type=Path)
    p.add_argument("--archive", type=Path, default=Path(DEFAULT_DATA) / "archive")
    p.add_argument("--chunk", type=int, default=1 << 16, help="bytes read at a time")
    p.add_argument("--flush-bytes", type=int, default=1 << 20, help="commit a checkpoint every N input bytes")
    p.add_argument("--compact-every", type=int, default=0, help="compact every N checkpoints (0: at the end)")
    p.set_defaults(func=run_ingest)

    p = sub.add_parser("run", help="receive, archive and check telemetry from a link until stopped")
    p.add_argument("link")
    p.add_argument("--data-dir", default=DEFAULT_DATA)
    p.add_argument("--duration", type=float, default=None)
    p.add_argument("--status", type=Path, default=None, help="write a JSON status file every second")
    p.set_defaults(func=run_live)


def parse_value(text: str):
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    if text.startswith("0x"):
        return int(text, 16)
    return text


def parse_args_list(items: list[str]) -> dict:
    out = {}
    for item in items:
        k, sep, v = item.partition("=")
        if not sep:
            raise SystemExit(f"argument {item!r} is not NAME=VALUE")
        out[k] = parse_value(v)
    return out


def run_cmd(a: argparse.Namespace) -> int:
    from ground.session import CommandError, Session
    from protocol.opals import DICTIONARY
    command = DICTIONARY.commands.get(a.name)
    if command is None:
        print(f"error: unknown command {a.name!r}", file=sys.stderr)
        return 2
    args = parse_args_list(a.args)
    errors = command.validate(args)
    if errors:
        print("error: " + "; ".join(errors), file=sys.stderr)
        return 2
    confirm = a.confirm
    if command.hazardous and confirm is None:
        if not sys.stdin.isatty():
            print(f"error: {a.name} is hazardous; pass --confirm {a.name}", file=sys.stderr)
            return 2
        confirm = input(f"{a.name} is HAZARDOUS ({command.description}). Type its name to send: ").strip()
    with Session.connect(a.link, data_dir=a.data_dir, archive=False) as s:
        try:
            r = s.cmd(a.name, confirm=confirm, timeout=a.timeout, **args)
        except CommandError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"{r.name} seq {r.seq}: {r.status}")
    return 0


def run_watch(a: argparse.Namespace) -> int:
    from rich.live import Live

    from ground.session import Session
    from ground.watch_display import render
    start = time.monotonic()
    with Session.connect(a.link, data_dir=a.data_dir) as s, Live(render(s), refresh_per_second=4) as live:
        while a.duration is None or time.monotonic() - start < a.duration:
            time.sleep(0.25)
            live.update(render(s))
    return 0


def run_history(a: argparse.Namespace) -> int:
    from ground.history import CommandHistory
    h = CommandHistory(Path(a.data_dir) / "history.sqlite")
    rows = h.entries(limit=a.limit)
    if a.json:
        print(json.dumps([r.__dict__ for r in rows], indent=1))
    else:
        for r in rows:
            print(f"{r.sent_utc} {r.operator:10s} {r.name:18s} {json.dumps(r.args):40s} seq={r.seq} "
                  f"{r.status} {r.reason or ''}")
    return 0


def run_ingest(a: argparse.Namespace) -> int:
    from ground.archive import Archive
    from ground.ingest import ingest_file
    from ground.limits import LimitChecker, LimitSet
    from protocol.opals import DICTIONARY
    archive = Archive(a.archive, DICTIONARY)
    st = ingest_file(a.input, archive, LimitChecker(LimitSet.from_dictionary(DICTIONARY, "playback")),
                     chunk=a.chunk, flush_bytes=a.flush_bytes, compact_every=a.compact_every)
    archive.compact(min_segments=2)
    archive.close()
    print(f"ingested {st.packets} packets in {st.flushes} flushes; {len(st.alarms)} limit transitions; "
          f"{st.bytes_discarded} bytes discarded, {st.crc_failures} CRC failures")
    return 0


def run_live(a: argparse.Namespace) -> int:
    from ground.session import Session
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.__setitem__("now", True))
    start = time.monotonic()
    with Session.connect(a.link, data_dir=a.data_dir) as s:
        while not stop["now"] and (a.duration is None or time.monotonic() - start < a.duration):
            time.sleep(0.5)
            if a.status:
                h = s.health.report(s.link.stats())
                tmp = a.status.with_suffix(".tmp")
                tmp.write_text(json.dumps({"up": h.up, "packets": h.packets, "received": dict(s.received),
                                           "errors": dict(s.errors), "seq_gaps": h.seq_gaps}))
                tmp.replace(a.status)
        # The operator always learns what the run received and what went wrong, even when the
        # payload never answered or the device vanished.
        ls = s.link.stats()
        h = s.health.report(ls)
        counters = {**s.errors, **{k: getattr(ls, k) for k in ("bytes_discarded", "crc_failures", "rejected_bad",
                                                                "rejected_foreign", "recv_errors", "reconnects",
                                                                "open_failures")
                                   if getattr(ls, k, 0)}}
        errors = ", ".join(f"{k} {v}" for k, v in sorted(counters.items())) or "none"
        print(f"opals-ground run: {h.packets} packets received, {h.seq_gaps} sequence gaps, "
              f"errors: {errors}; link {'up' if h.up else 'DOWN'}", file=sys.stderr)
    return 0
