"""``opals-sim``: run the payload simulator (flight software + simulated world)."""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys

COMMAND_MODULES = ("sim.cli_run", "sim.cli_hil", "sim.cli_optical")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="opals-sim",
        description="OPALS payload simulator: the flight software running in a simulated ISS world.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        if importlib.util.find_spec(name) is None:
            continue
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except (OSError, ValueError) as exc:   # a missing file, a bad link URL or plan: a message, not a traceback
        print(f"opals-sim: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
