"""``opals-ground``: one entry point; each area of the ground segment adds its subcommands
from its own module (``register(subparsers)``), so the CLI grows without one file owning it."""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys

# Modules that contribute subcommands. A name whose module does not exist yet is skipped.
COMMAND_MODULES = (
    "ground.cli_dictionary",
    "ground.cli_ops",
    "ground.cli_passes",
    "ground.cli_archive",
    "ground.cli_optical",
    "ground.cli_hapi",
    "ground.cli_share",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="opals-ground",
        description="OPALS ground segment: commanding, telemetry, archive, files, passes, optical "
                    "downlink, HAPI data services and data sharing.")
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
    except OSError as exc:   # a missing file or directory, a port in use: a message, not a traceback
        print(f"opals-ground: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
