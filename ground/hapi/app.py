"""The HAPI 3.3 server over the archive: a read-only Starlette (ASGI) application.

Endpoints: ``/hapi`` (HTML landing page), ``about``, ``capabilities``, ``catalog``, ``info``,
``data`` and ``x_status`` (scan error counters). Errors are the spec's HTTP status plus the HAPI
JSON status; a trailing slash is a 301 to the same URL without it; every response carries the
CORS headers of spec 5.1; gzip is applied when the client asks for it.
"""
from __future__ import annotations

import email.utils
import html
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ground.hapi.archive_scan import ScanCounters, last_modified
from ground.hapi.datasets import datasets_from_dictionary
from ground.hapi.encoders import MEDIA_TYPES
from ground.hapi.errors import HAPI_VERSION, MESSAGES, HapiError, status
from ground.hapi.metadata import Catalog, ServerInfo
from ground.hapi.query import CATALOG_PARAMS, DATA_PARAMS, INFO_PARAMS, data_request, depth_all, info_request, \
    single_values
from ground.hapi.stream import open_stream
from ground.hapi.timefmt import NS_PER_S, format_day
from protocol.opals import DICTIONARY
from protocol.registry import Dictionary

log = logging.getLogger(__name__)
CORS_HEADERS = [(b"access-control-allow-origin", b"*"), (b"access-control-allow-methods", b"GET, HEAD"),
                (b"access-control-allow-headers", b"Content-Type")]


@dataclass
class ServerConfig:
    archive: Path
    server: ServerInfo = field(default_factory=ServerInfo)
    dictionary: Dictionary = field(default_factory=lambda: DICTIONARY)
    max_request_days: float | None = None  # larger data requests get 1408; None: no limit
    batch_rows: int = 16_384  # records per encoded chunk: bounds memory per request in flight
    encode_threads: int = field(default_factory=lambda: os.cpu_count() or 2)  # shared by all requests
    clock: Callable[[], float] = time.time


class HapiEdges:
    """ASGI middleware for what applies to every response: CORS headers, and 301 from a
    trailing slash (``/hapi/info/?dataset=X`` -> ``/hapi/info?dataset=X``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if len(path) > 1 and path.endswith("/"):
            query = scope.get("query_string", b"").decode("latin-1")
            target = path.rstrip("/") or "/"
            response = RedirectResponse(target + (f"?{query}" if query else ""), status_code=301)
            await self._with_cors(response, scope, receive, send)
            return
        await self._with_cors(self.app, scope, receive, send)

    @staticmethod
    async def _with_cors(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + CORS_HEADERS
            await send(message)
        await app(scope, receive, send_with_cors)


def _http_date(ts: float | None) -> dict[str, str]:
    return {"Last-Modified": email.utils.formatdate(ts, usegmt=True)} if ts is not None else {}


def _not_modified(request: Request, ts: float | None) -> bool:
    """``If-Modified-Since`` at or after the newest segment: a partner polling for live data
    gets 304 until a new segment lands."""
    since = request.headers.get("if-modified-since")
    if ts is None or not since:
        return False
    try:
        return int(ts) <= email.utils.parsedate_to_datetime(since).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return False


def create_app(config: ServerConfig) -> Starlette:
    datasets = datasets_from_dictionary(config.dictionary)
    catalog = Catalog(Path(config.archive), datasets, config.server, config.clock)
    counters = ScanCounters()
    encoder_pool = ThreadPoolExecutor(max_workers=config.encode_threads, thread_name_prefix="hapi-encode")

    def check_archive() -> None:
        if not catalog.root.is_dir():
            raise HapiError(1501, "archive unavailable")

    def json_response(body: dict, headers: dict[str, str] | None = None) -> JSONResponse:
        return JSONResponse(body, headers=headers)

    async def landing(request: Request) -> Response:
        rows = "".join(f'<li><a href="hapi/info?dataset={html.escape(d.id)}">{html.escape(d.id)}</a>: '
                       f"{html.escape(d.description)}</li>" for d in datasets.values())
        page = (f"<!doctype html><html><head><title>{html.escape(config.server.title)}</title></head><body>"
                f"<h1>{html.escape(config.server.title)}</h1><p>HAPI 3.3 server. Endpoints: "
                '<a href="hapi/about">about</a>, <a href="hapi/capabilities">capabilities</a>, '
                '<a href="hapi/catalog">catalog</a>, info, data.</p>'
                f"<ul>{rows}</ul></body></html>")
        return HTMLResponse(page)

    async def about(request: Request) -> Response:
        single_values(request.query_params.multi_items(), set())
        return json_response(catalog.about())

    async def capabilities(request: Request) -> Response:
        single_values(request.query_params.multi_items(), set())
        return json_response(catalog.capabilities())

    async def catalog_endpoint(request: Request) -> Response:
        q = single_values(request.query_params.multi_items(), CATALOG_PARAMS)
        full = depth_all(q)
        check_archive()
        return json_response(await run_in_threadpool(catalog.catalog, full))

    async def info(request: Request) -> Response:
        q = single_values(request.query_params.multi_items(), INFO_PARAMS)
        ds, params = info_request(q, datasets)
        check_archive()
        parts = await run_in_threadpool(catalog.partitions, ds)
        modified = last_modified(parts)
        if _not_modified(request, modified):
            return Response(status_code=304, headers=_http_date(modified))
        body = {"HAPI": HAPI_VERSION, "status": status(1200), **catalog.info(ds, params, parts)}
        return json_response(body, _http_date(modified))

    async def data(request: Request) -> Response:
        q = single_values(request.query_params.multi_items(), DATA_PARAMS)
        req = data_request(q, datasets)
        check_archive()
        parts = await run_in_threadpool(catalog.partitions, req.dataset)
        rng = catalog.date_range(parts)
        if not rng.empty and (req.start_ns < rng.start_ns or req.stop_ns > rng.stop_ns):
            raise HapiError(1405, f"startDate {format_day(rng.start_ns)}, stopDate {format_day(rng.stop_ns)}")
        if config.max_request_days is not None and \
                req.stop_ns - req.start_ns > config.max_request_days * 86_400 * NS_PER_S:
            raise HapiError(1408, f"at most {config.max_request_days:g} days per request")
        reach = req.stop_ns + req.dataset.lookahead_ns
        in_range = [p for p in parts if req.start_ns - 86_400 * NS_PER_S < p.day_ns < reach]
        modified = last_modified(in_range)
        if _not_modified(request, modified):
            return Response(status_code=304, headers=_http_date(modified))
        stream = await run_in_threadpool(open_stream, req, catalog, config.dictionary, in_range, counters,
                                         config.batch_rows, encoder_pool)
        headers = {**_http_date(modified),
                   "X-HAPI-Status": f"{stream.code} {MESSAGES[stream.code]}"}
        if request.method == "HEAD":  # same status and headers as GET, without encoding the range
            stream.close()
            return Response(None, media_type=MEDIA_TYPES[req.format], headers=headers)
        return StreamingResponse(stream.chunks, media_type=MEDIA_TYPES[req.format], headers=headers)

    async def x_status(request: Request) -> Response:
        single_values(request.query_params.multi_items(), set())
        return json_response({"unreadableFiles": counters.unreadable_files, "lastError": counters.last_error})

    async def unknown(request: Request) -> Response:
        raise HapiError(1400, "unknown endpoint")

    async def hapi_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HapiError)
        return JSONResponse(exc.body(), status_code=exc.http_status)

    async def server_error(request: Request, exc: Exception) -> Response:
        log.exception("internal error serving %s", request.url.path)
        return JSONResponse(HapiError(1500).body(), status_code=500)

    routes = [
        Route("/hapi", landing),
        Route("/hapi/about", about),
        Route("/hapi/capabilities", capabilities),
        Route("/hapi/catalog", catalog_endpoint),
        Route("/hapi/info", info),
        Route("/hapi/data", data),
        Route("/hapi/x_status", x_status),
        Route("/{path:path}", unknown),
    ]
    app = Starlette(routes=routes, exception_handlers={HapiError: hapi_error, Exception: server_error},
                    middleware=[Middleware(HapiEdges), Middleware(GZipMiddleware, minimum_size=1024, compresslevel=1)])
    app.router.redirect_slashes = False
    app.state.counters = counters
    return app
