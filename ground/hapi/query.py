"""Validation of request parameters (spec 3.5-3.7 and 4.2): every rule ends in a HapiError with
its specific code; the checks run in a fixed order so one request always gets one answer."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from ground.hapi.datasets import Dataset, Parameter
from ground.hapi.encoders import FORMATS
from ground.hapi.errors import HapiError
from ground.hapi.timefmt import parse_hapi_time

INFO_PARAMS = {"dataset", "id", "parameters", "resolve_references"}
DATA_PARAMS = {"dataset", "id", "start", "stop", "time.min", "time.max", "parameters", "include", "format",
               "resolve_references"}
CATALOG_PARAMS = {"depth", "resolve_references"}


@dataclass(frozen=True)
class DataRequest:
    dataset: Dataset
    parameters: list[Parameter]
    start_ns: int
    stop_ns: int
    format: str
    header: bool


def single_values(items: Sequence[tuple[str, str]], allowed: set[str]) -> dict[str, str]:
    """Query items -> dict; unknown names are 1401 and a name given twice is 1400."""
    out: dict[str, str] = {}
    for name, value in items:
        if name not in allowed:
            raise HapiError(1401, "unknown request parameter")
        if name in out:
            raise HapiError(1400, "a request parameter is given twice")
        out[name] = value
    return out


def check_resolve_references(q: dict[str, str]) -> None:
    if q.get("resolve_references", "true") not in ("true", "false"):
        raise HapiError(1412)


def depth_all(q: dict[str, str]) -> bool:
    check_resolve_references(q)
    depth = q.get("depth", "dataset")
    if depth not in ("dataset", "all"):
        raise HapiError(1413)
    return depth == "all"


def _alias(q: dict[str, str], new: str, old: str) -> str | None:
    if new in q and old in q:
        raise HapiError(1400, f"give either {new} or the HAPI 2 name {old}, not both")
    return q.get(new, q.get(old))


def dataset_of(q: dict[str, str], datasets: dict[str, Dataset]) -> Dataset:
    name = _alias(q, "dataset", "id")
    if name is None or name == "":
        raise HapiError(1400, "dataset is required")
    ds = datasets.get(name)
    if ds is None:
        raise HapiError(1406)
    return ds


def parameters_of(q: dict[str, str], ds: Dataset) -> list[Parameter]:
    """The primary time parameter plus the requested ones, in dataset order (1407, 1411)."""
    text = q.get("parameters", "")
    if text == "":
        return list(ds.parameters)
    names = text.split(",")
    order = {p.name: i for i, p in enumerate(ds.parameters)}
    for n in names:
        if n not in order:
            raise HapiError(1407)
    idx = [order[n] for n in names]
    if any(b <= a for a, b in zip(idx, idx[1:])):
        raise HapiError(1411)
    time_param = ds.parameters[0]
    return [time_param] + [ds.parameters[i] for i in idx if i != 0]


def info_request(q: dict[str, str], datasets: dict[str, Dataset]) -> tuple[Dataset, list[Parameter]]:
    ds = dataset_of(q, datasets)
    params = parameters_of(q, ds)
    check_resolve_references(q)
    return ds, params


def data_request(q: dict[str, str], datasets: dict[str, Dataset]) -> DataRequest:
    ds = dataset_of(q, datasets)
    start_text = _alias(q, "start", "time.min")
    stop_text = _alias(q, "stop", "time.max")
    if start_text is None:
        raise HapiError(1402, "start is required")
    try:
        start = parse_hapi_time(start_text)
    except ValueError:
        raise HapiError(1402) from None
    if stop_text is None:
        raise HapiError(1403, "stop is required")
    try:
        stop = parse_hapi_time(stop_text)
    except ValueError:
        raise HapiError(1403) from None
    if start >= stop:
        raise HapiError(1404)
    params = parameters_of(q, ds)
    fmt = q.get("format", "csv") or "csv"
    if fmt not in FORMATS:
        raise HapiError(1409)
    include = q.get("include", "")
    if include not in ("", "header"):
        raise HapiError(1410)
    check_resolve_references(q)
    return DataRequest(ds, params, start, stop, fmt, include == "header")
