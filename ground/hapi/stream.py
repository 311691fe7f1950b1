"""A data response as a lazy stream of encoded chunks: scan the archive batch by batch, compute
the requested parameters, encode, yield. Nothing holds more than one batch (or one row-group
cluster of the scan), so a year-long request runs in the memory of a day's row group."""
from __future__ import annotations

import json
from collections import deque
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import Callable, Generator, Iterator, TypeVar

import pyarrow as pa

from ground.archive_layout import arrow_schema
from ground.hapi.archive_scan import DayPartition, ScanCounters, scan
from ground.hapi.encoders import ENCODERS, JSON_ROW_SEPARATOR
from ground.hapi.errors import HAPI_VERSION, status
from ground.hapi.metadata import Catalog
from ground.hapi.query import DataRequest
from protocol.registry import Dictionary


@dataclass
class DataStream:
    """First chunk already computed (so the status, 1200 or 1201, is known before the HTTP
    headers go out), then the rest lazily."""

    code: int
    chunks: Generator[bytes, None, None]
    body: Generator[bytes, None, None]

    def close(self) -> None:
        """Stop early (HEAD, or the client went away): release the scan and pending encodes."""
        self.chunks.close()
        self.body.close()


T = TypeVar("T")
U = TypeVar("U")


def ordered_map(fn: Callable[[T], U], items: Iterator[T], executor: Executor | None, depth: int) -> Iterator[U]:
    """``map(fn, items)`` with up to ``depth`` items in flight on ``executor`` (the pyarrow and
    numpy kernels release the GIL, so batches encode on both cores while the previous one is
    being sent); results keep their order and memory stays bounded by ``depth`` batches."""
    if executor is None or depth <= 1:
        yield from map(fn, items)
        return
    pending: deque[Future[U]] = deque()
    try:
        for item in items:
            pending.append(executor.submit(fn, item))
            if len(pending) >= depth:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for f in pending:
            f.cancel()


def encoded_batches(req: DataRequest, catalog: Catalog, dictionary: Dictionary, parts: list[DayPartition],
                    counters: ScanCounters, batch_rows: int, executor: Executor | None = None,
                    depth: int = 2) -> Generator[bytes, None, None]:
    schema: pa.Schema = arrow_schema(dictionary.telemetry[req.dataset.packet])
    columns = sorted({c for p in req.parameters for c in p.sources})
    encode = ENCODERS[req.format]

    def encode_batch(batch: pa.RecordBatch) -> bytes:
        return encode(req.parameters, [p.compute(batch) for p in req.parameters])

    ds = req.dataset
    if ds.derive is None:
        batches = (b for b in scan(catalog.root, ds.packet, schema, req.start_ns, req.stop_ns, columns, counters,
                                   batch_rows, parts) if b.num_rows)
    else:
        source = scan(catalog.root, ds.packet, schema, req.start_ns, req.stop_ns + ds.lookahead_ns,
                      list(ds.derive_columns), counters, batch_rows, parts)
        batches = (b for b in ds.derive(source, req.start_ns, req.stop_ns) if b.num_rows)
    yield from ordered_map(encode_batch, batches, executor, depth)


def header_bytes(req: DataRequest, catalog: Catalog, parts: list[DayPartition], code: int) -> bytes:
    info = {"HAPI": HAPI_VERSION, "status": status(code), **catalog.info(req.dataset, req.parameters, parts),
            "format": req.format}
    if req.format == "json":
        return b""
    text = json.dumps(info, indent=2)
    return ("".join(f"#{line}\n" for line in text.splitlines())).encode()


def open_stream(req: DataRequest, catalog: Catalog, dictionary: Dictionary, parts: list[DayPartition],
                counters: ScanCounters, batch_rows: int = 65_536, executor: Executor | None = None) -> DataStream:
    body = encoded_batches(req, catalog, dictionary, parts, counters, batch_rows, executor)
    first = next(body, None)
    code = 1200 if first is not None else 1201

    def chunks() -> Generator[bytes, None, None]:
        if req.format == "json":
            info = {"HAPI": HAPI_VERSION, "status": status(code),
                    **catalog.info(req.dataset, req.parameters, parts), "format": "json"}
            yield json.dumps(info)[:-1].encode() + b', "data": ['
            if first is not None:
                yield first[len(JSON_ROW_SEPARATOR):]
                yield from body
            yield b"\n]}\n"
            return
        if req.header:
            yield header_bytes(req, catalog, parts, code)
        if first is not None:
            yield first
            yield from body

    return DataStream(code, chunks(), body)
