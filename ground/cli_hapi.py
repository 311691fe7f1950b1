"""``opals-ground serve`` (the HAPI server over the archive) and ``opals-ground hapi get``
(import from any HAPI server into the archive or a file)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from ground.hapi.app import ServerConfig, create_app
    from ground.hapi.process_memory import bound_server_memory

    bound_server_memory()

    archive = Path(args.archive)
    if not archive.is_dir():
        print(f"archive {archive} is not a directory", file=sys.stderr)
        return 2
    app = create_app(ServerConfig(archive=archive))
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, access_log=False)
    return 0


def _get(args: argparse.Namespace) -> int:
    from ground.hapi import client

    try:
        client.windows(args.start, args.stop, args.chunk_days)
        file_sink = client.FileSink(Path(args.output)) if args.output else None
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    archive = Path(args.archive)

    def to_archive(table, start: str, stop: str) -> None:
        client.write_archive(table, archive, args.url, args.dataset, start, stop)

    try:
        total = client.import_range(args.url, args.dataset, args.start, args.stop, file_sink or to_archive,
                                    args.parameters or "", args.format, args.chunk_days)
    except Exception as exc:  # hapiclient raises bare Exceptions for HTTP and HAPI errors
        print(f"HAPI request failed: {exc}", file=sys.stderr)
        return 1
    finally:
        if file_sink is not None:
            file_sink.close()
    where = args.output or archive / "parquet" / "imported" / client.server_name(args.url) / client.safe_name(args.dataset)
    print(f"{total} records -> {where}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    serve = sub.add_parser("serve", help="HAPI 3.3 server over the archive (read-only)")
    serve.add_argument("--archive", default="archive", help="archive root (default: ./archive)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--log-level", default="warning")
    serve.set_defaults(func=_serve)

    hapi = sub.add_parser("hapi", help="HAPI client: import data from a HAPI server")
    hsub = hapi.add_subparsers(dest="hapi_command", metavar="ACTION")
    get = hsub.add_parser("get", help="fetch DATASET over [START, STOP) into the archive or a file")
    get.add_argument("url", help="server URL ending in /hapi")
    get.add_argument("dataset")
    get.add_argument("start")
    get.add_argument("stop")
    get.add_argument("--parameters", default="", help="comma-separated parameter names (default: all)")
    get.add_argument("--format", choices=("binary", "csv"), default="binary", help="transfer format")
    get.add_argument("--chunk-days", type=float, default=1.0, help="request window (bounds memory; default 1 day)")
    where = get.add_mutually_exclusive_group()
    where.add_argument("--archive", default="archive", help="archive root (default: ./archive)")
    where.add_argument("-o", "--output", help="write a .csv or .parquet file instead")
    get.set_defaults(func=_get)
    hapi.set_defaults(func=lambda a: (hapi.print_help(), 2)[1])
