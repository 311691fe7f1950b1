"""Read the archive (layout fixed by ``ground.archive_layout``) with pyarrow.dataset, filters and
column selections pushed into the Parquet scan, split into work units an engine can spread
over processes or Dask workers (one unit per row group, or per file when a map averages rows
so that no time bucket is cut in two by the split)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from ground.archive_layout import arrow_schema, packet_dir
from protocol.registry import Dictionary


@dataclass(frozen=True)
class WorkUnit:
    """One Parquet file, or some of its row groups (None: all)."""

    path: str
    row_groups: tuple[int, ...] | None = None
    rows: int = 0


def packet_schema(dictionary: Dictionary, packet: str) -> pa.Schema:
    return arrow_schema(dictionary.telemetry[packet])


def parquet_files(root: Path | str, packet: str) -> list[Path]:
    return sorted(packet_dir(root, packet).glob("date=*/*.parquet"))


def work_units(root: Path | str, packet: str, whole_files: bool = False) -> list[WorkUnit]:
    units = []
    for path in parquet_files(root, packet):
        meta = pq.ParquetFile(path).metadata
        if whole_files or meta.num_row_groups <= 1:
            units.append(WorkUnit(str(path), None, meta.num_rows))
        else:
            units.extend(WorkUnit(str(path), (i,), meta.row_group(i).num_rows) for i in range(meta.num_row_groups))
    return units


def approximate_rows(root: Path | str, packet: str) -> int:
    return sum(pq.ParquetFile(p).metadata.num_rows for p in parquet_files(root, packet))


def scan_unit(unit: WorkUnit, schema: pa.Schema, columns: list[str], filter_expr,
              batch_size: int = 65536) -> Iterator[pa.RecordBatch]:
    """Batches of one unit, only ``columns``, only rows passing ``filter_expr`` (row groups whose
    statistics cannot match are skipped, never decoded)."""
    fmt = ds.ParquetFileFormat()
    fragment = fmt.make_fragment(unit.path, pafs.LocalFileSystem(), row_groups=list(unit.row_groups) if unit.row_groups else None)
    scanner = ds.Scanner.from_fragment(fragment, schema=schema, columns=columns, filter=filter_expr,
                                       batch_size=batch_size, use_threads=False)
    yield from scanner.to_batches()
