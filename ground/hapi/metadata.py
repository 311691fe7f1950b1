"""The JSON metadata responses (about, capabilities, catalog, info), built from the datasets and
from what the archive holds right now: a dataset's startDate is the UTC midnight of its first day
partition and its stopDate the midnight after its last one, found by listing directories (no
file is opened and nothing is cached, so new days appear at once)."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ground.hapi.archive_scan import DayPartition, list_partitions
from ground.hapi.datasets import Dataset, Parameter
from ground.hapi.errors import HAPI_VERSION, status
from ground.hapi.timefmt import NS_PER_DAY, NS_PER_S, format_day
from ground.hapi.encoders import FORMATS


@dataclass(frozen=True)
class ServerInfo:
    id: str = "OPALS/SOC"
    title: str = "OPALS payload science operations centre"
    contact: str = "opals-soc@example.org"
    description: str = ("Telemetry of the OPALS-class laser-communication payload: housekeeping, "
                        "gimbal tracking, laser safety, command acknowledgements and events.")


@dataclass(frozen=True)
class DateRange:
    start_ns: int
    stop_ns: int
    empty: bool


@dataclass
class Catalog:
    """The datasets served from one archive root."""

    root: Path
    datasets: dict[str, Dataset]
    server: ServerInfo = field(default_factory=ServerInfo)
    clock: Callable[[], float] = time.time

    def partitions(self, ds: Dataset) -> list[DayPartition]:
        return list_partitions(self.root, ds.packet)

    def date_range(self, parts: list[DayPartition]) -> DateRange:
        if not parts:  # nothing archived yet: an empty range at today's midnight
            today = int(self.clock() * NS_PER_S) // NS_PER_DAY * NS_PER_DAY
            return DateRange(today, today, True)
        return DateRange(parts[0].day_ns, parts[-1].day_ns + NS_PER_DAY, False)

    def info(self, ds: Dataset, params: list[Parameter], parts: list[DayPartition] | None = None) -> dict:
        """The info object without HAPI/status (as embedded in ``catalog?depth=all``)."""
        rng = self.date_range(self.partitions(ds) if parts is None else parts)
        body: dict = {
            "startDate": format_day(rng.start_ns),
            "stopDate": format_day(rng.stop_ns),
            "timeStampLocation": "begin",
            "description": ds.description,
            "resourceID": f"{self.server.id}/{ds.id}",
            "parameters": [p.metadata() for p in params],
        }
        if ds.cadence:
            body["cadence"] = ds.cadence
        if rng.empty:
            body["note"] = "No data archived yet"
        else:  # a manageable sample for clients and verifiers: the first hour of the newest day
            newest = rng.stop_ns - NS_PER_DAY
            body["sampleStartDate"] = format_day(newest)
            body["sampleStopDate"] = format_day(newest).replace("T00:", "T01:")
        return body

    def about(self) -> dict:
        return {"HAPI": HAPI_VERSION, "status": status(1200), "id": self.server.id, "title": self.server.title,
                "contact": self.server.contact, "description": self.server.description}

    def capabilities(self) -> dict:
        return {"HAPI": HAPI_VERSION, "status": status(1200), "outputFormats": list(FORMATS),
                "catalogDepthOptions": ["dataset", "all"]}

    def catalog(self, depth_all: bool) -> dict:
        entries = []
        for ds in self.datasets.values():
            entry: dict = {"id": ds.id, "title": ds.title}
            if depth_all:
                entry["info"] = self.info(ds, list(ds.parameters))
            entries.append(entry)
        return {"HAPI": HAPI_VERSION, "status": status(1200), "catalog": entries}
