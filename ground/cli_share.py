"""``opals-ground share ...``: run a data-sharing party (provider or reseller), act as an attribute
authority, and, as an analyst, browse the catalogue, submit jobs and stream results."""
from __future__ import annotations

import argparse
import functools
import json
import sys
import time
from pathlib import Path
from typing import Callable

import httpx


def _token(args: argparse.Namespace) -> str:
    if args.token:
        return args.token
    if args.token_file:
        return Path(args.token_file).read_text().strip()
    raise SystemExit("share: an attribute assertion is needed (--token or --token-file)")


def _client(args: argparse.Namespace) -> httpx.Client:
    return httpx.Client(base_url=args.url, headers={"Authorization": f"Bearer {_token(args)}"}, timeout=60)


def _check(r: httpx.Response) -> dict | list:
    if r.status_code >= 400:
        try:
            detail = r.json().get("detail", r.text)
        except ValueError:
            detail = r.text
        raise SystemExit(f"share: {r.status_code}: {detail}")
    return r.json()


def _clean_errors(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """A dead party, a missing or malformed file: one clear line and a non-zero status, no traceback."""
    @functools.wraps(command)
    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except httpx.HTTPError as exc:
            print(f"share: cannot reach {getattr(args, 'url', 'the party')}: {exc}", file=sys.stderr)
            return 1
        except (OSError, ValueError) as exc:  # json.JSONDecodeError is a ValueError
            print(f"share: {exc}", file=sys.stderr)
            return 2
    return run


def cmd_keygen(args: argparse.Namespace) -> int:
    from ground.share.attributes import new_authority_key
    private, public = new_authority_key()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{args.issuer}.key").write_bytes(private)
    (out / f"{args.issuer}.key").chmod(0o600)
    (out / f"{args.issuer}.pub").write_bytes(public)
    print(out / f"{args.issuer}.pub")
    return 0


def cmd_issue(args: argparse.Namespace) -> int:
    from ground.share.attributes import issue_assertion
    print(issue_assertion(Path(args.key).read_bytes(), args.issuer, args.subject, args.attr or [], args.ttl))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from ground.share.api import create_app
    from ground.share.config import build_party
    party = build_party(args.config, engine=args.engine)
    uvicorn.run(create_app(party, own_lifecycle=True), host=args.host, port=args.port, log_level=args.log_level)
    return 0


def cmd_catalogue(args: argparse.Namespace) -> int:
    with _client(args) as c:
        data = _check(c.get(f"/catalogue/{args.source}" if args.source else "/catalogue"))
    if args.json or args.source:
        print(json.dumps(data, indent=2))
    else:
        for e in data:
            print(f"{e['name']:24s} {' -> '.join(e['chain']):30s} rows<={e['rows_at_most']:<10d} "
                  f"run needs: {', '.join(e['required']['run']) or '-'}")
    return 0


def cmd_submit(args: argparse.Namespace) -> int:
    wrap = json.loads(Path(args.wrap).read_text()) if args.wrap else []
    body = {"source": args.source, "kind": args.kind, "code": Path(args.code).read_text(),
            "wrap": wrap if isinstance(wrap, list) else [wrap]}
    with _client(args) as c:
        job = _check(c.post("/jobs", json=body))
        while args.wait and job["state"] in ("pending", "executing"):
            time.sleep(0.2)
            job = _check(c.get(f"/jobs/{job['id']}"))
        print(json.dumps(job, indent=2))
        if args.output and job["state"] == "completed":
            _download(c, job["id"], args.output)
    return 0 if job["state"] in ("pending", "executing", "completed") else 1


def _download(c: httpx.Client, job_id: str, output: str) -> None:
    with c.stream("GET", f"/jobs/{job_id}/result") as r:
        if r.status_code != 200:
            r.read()
            _check(r)
        with (open(output, "wb") if output != "-" else sys.stdout.buffer) as out:
            for chunk in r.iter_bytes():
                out.write(chunk)


def cmd_status(args: argparse.Namespace) -> int:
    with _client(args) as c:
        print(json.dumps(_check(c.get(f"/jobs/{args.job}" if args.job else "/jobs")), indent=2))
    return 0


def cmd_result(args: argparse.Namespace) -> int:
    with _client(args) as c:
        _download(c, args.job, args.output)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("share", help="data sharing: push analysis to the data",
                       description="Providers and resellers publish views of the archive; analysts send jobs.")
    s = p.add_subparsers(dest="share_command", metavar="ACTION")

    k = s.add_parser("keygen", help="create an Ed25519 authority key pair")
    k.add_argument("--issuer", required=True)
    k.add_argument("--out", default=".")
    k.set_defaults(func=_clean_errors(cmd_keygen))

    i = s.add_parser("issue", help="sign an attribute assertion (JWT) as an authority")
    i.add_argument("--key", required=True, help="the authority's private key (PEM)")
    i.add_argument("--issuer", required=True)
    i.add_argument("--subject", required=True)
    i.add_argument("--attr", action="append", help="an attribute (repeatable)")
    i.add_argument("--ttl", type=float, default=3600.0, help="seconds of validity")
    i.set_defaults(func=_clean_errors(cmd_issue))

    v = s.add_parser("serve", help="run a provider/reseller party (REST API)")
    v.add_argument("--config", required=True)
    v.add_argument("--host", default="127.0.0.1")
    v.add_argument("--port", type=int, default=8800)
    v.add_argument("--engine", help="local (default) or dask://scheduler:8786")
    v.add_argument("--log-level", default="warning")
    v.set_defaults(func=_clean_errors(cmd_serve))

    def client_args(q: argparse.ArgumentParser) -> None:
        q.add_argument("--url", required=True, help="the party's base URL")
        q.add_argument("--token", help="attribute assertion (JWT)")
        q.add_argument("--token-file")

    c = s.add_parser("catalogue", help="list the sources you may see")
    client_args(c)
    c.add_argument("source", nargs="?")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=_clean_errors(cmd_catalogue))

    j = s.add_parser("submit", help="submit a job")
    client_args(j)
    j.add_argument("--source", required=True)
    j.add_argument("--kind", choices=("mapreduce", "batches"), default="mapreduce")
    j.add_argument("--code", required=True, help="Python file defining map (and reduce)")
    j.add_argument("--wrap", help="JSON file with a modifying map (or list) to apply after the party's")
    j.add_argument("--wait", action="store_true")
    j.add_argument("-o", "--output", help="with --wait: stream the result here")
    j.set_defaults(func=_clean_errors(cmd_submit))

    t = s.add_parser("status", help="your jobs, or one job")
    client_args(t)
    t.add_argument("job", nargs="?")
    t.set_defaults(func=_clean_errors(cmd_status))

    r = s.add_parser("result", help="stream a completed job's result")
    client_args(r)
    r.add_argument("job")
    r.add_argument("-o", "--output", default="-")
    r.set_defaults(func=_clean_errors(cmd_result))
    p.set_defaults(func=lambda a: p.print_help() or 2)
