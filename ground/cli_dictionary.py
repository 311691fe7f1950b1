"""``opals-ground dictionary``: the dictionary as JSON or as the generated docs page."""
from __future__ import annotations

import argparse
import sys

from protocol.export import to_json, to_markdown
from protocol.opals import DICTIONARY


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("dictionary", help="export the command/telemetry/event dictionary")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--json", action="store_true", help="JSON export (default)")
    g.add_argument("--markdown", action="store_true", help="the docs/dictionary.md page")
    p.add_argument("-o", "--output", help="write to this file instead of standard output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    text = to_markdown(DICTIONARY) if args.markdown else to_json(DICTIONARY) + "\n"
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)
    return 0
