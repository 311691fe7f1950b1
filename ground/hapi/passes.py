"""The PASSES dataset: one record per pass, derived from the EVENT telemetry (PASS_STARTED,
LOCK_ACQUIRED, LASER_SAFED, PASS_ENDED), so a partner centre can list passes and their outcome
without replaying events.

A pass is timed by its PASS_STARTED event; it ends at the next PASS_ENDED (or, if another
PASS_STARTED comes first or the archive ends, it is reported with fill values for what is
unknown). Events are scanned up to ``LOOKAHEAD`` past the request's stop so a pass that starts
inside the range is complete; only events of these four kinds are looked at row by row (they are
a handful per pass), the rest are filtered out vectorised.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

import numpy as np
import pyarrow as pa

from ground.hapi.datasets import Dataset, Parameter, _numeric, _time
from ground.hapi.timefmt import NS_PER_S, TIME_LENGTH, format_times
from protocol.registry import Dictionary

LOOKAHEAD_NS = 3 * 3600 * NS_PER_S  # longer than any pass
END_FILL = b"0000-01-01T00:00:00.000000000Z"
_TS = pa.timestamp("ns", tz="UTC")


@dataclass
class _Pass:
    start_ns: int
    predict_rows: int
    end_ns: int = -1
    laser_on_ms: int = -1
    lock_ms: int = -1
    safings: int = 0


@dataclass
class _Builder:
    ids: dict[str, int]
    open: _Pass | None = None
    done: list[_Pass] = field(default_factory=list)

    def event(self, t: int, eid: int, args: list[int]) -> None:
        if eid == self.ids["PASS_STARTED"]:
            if self.open is not None:
                self.done.append(self.open)
            self.open = _Pass(t, args[0])
        elif self.open is None:
            return
        elif eid == self.ids["LOCK_ACQUIRED"] and self.open.lock_ms < 0:
            self.open.lock_ms = int((t - self.open.start_ns) // 1_000_000)
        elif eid == self.ids["LASER_SAFED"]:
            self.open.safings += 1
        elif eid == self.ids["PASS_ENDED"]:
            self.open.end_ns, self.open.laser_on_ms = t, args[0]
            self.done.append(self.open)
            self.open = None


def _batch(passes: list[_Pass]) -> pa.RecordBatch:
    start = np.array([p.start_ns for p in passes], dtype=np.int64)
    end = np.array([p.end_ns for p in passes], dtype=np.int64)
    duration = np.where(end >= 0, (end - start) / NS_PER_S, np.nan)
    return pa.record_batch({
        "time": pa.array(start, type=_TS),
        "end": pa.array(end),
        "duration": pa.array(duration),
        "predict_rows": pa.array([p.predict_rows for p in passes], type=pa.int32()),
        "laser_on_ms": pa.array([p.laser_on_ms for p in passes], type=pa.int32()),
        "lock_ms": pa.array([p.lock_ms for p in passes], type=pa.int32()),
        "safings": pa.array([p.safings for p in passes], type=pa.int32()),
    })


def derive_passes(dictionary: Dictionary):
    ids = {name: dictionary.events[name].event_id
           for name in ("PASS_STARTED", "LOCK_ACQUIRED", "LASER_SAFED", "PASS_ENDED")}
    wanted = np.array(sorted(ids.values()))

    def derive(events: Iterator[pa.RecordBatch], start_ns: int, stop_ns: int) -> Iterator[pa.RecordBatch]:
        b = _Builder(ids)

        def ready(final: bool) -> list[_Pass]:
            out = [p for p in b.done if start_ns <= p.start_ns < stop_ns]
            b.done.clear()
            if final and b.open is not None and start_ns <= b.open.start_ns < stop_ns:
                out.append(b.open)
            return out

        finished = False
        for batch in events:
            if finished:
                break
            eid = batch.column("event_id").to_numpy(zero_copy_only=False).astype(np.int64)
            keep = np.nonzero(np.isin(eid, wanted))[0]
            if len(keep) == 0:
                continue
            t = batch.column("time").cast(pa.int64()).to_numpy()[keep]
            a0 = batch.column("arg0").to_numpy(zero_copy_only=False)[keep]
            for ti, ei, ai in zip(t.tolist(), eid[keep].tolist(), a0.tolist()):
                if ei == ids["PASS_STARTED"] and ti >= stop_ns:
                    finished = True
                    break
                b.event(ti, ei, [ai])
            out = ready(False)
            if out:
                yield _batch(out)
        out = ready(True)
        if out:
            yield _batch(out)
    return derive


def _end_time(batch: pa.RecordBatch) -> np.ndarray:
    end = batch.column("end").to_numpy()
    text = format_times(np.where(end >= 0, end, 0))
    return np.where(end >= 0, text, np.array(END_FILL, dtype=f"S{TIME_LENGTH}"))


def passes_dataset(dictionary: Dictionary) -> Dataset:
    params = (
        Parameter("Time", "isotime", _time, ("time",), "UTC", "Pass start (PASS_STARTED event time) in UTC",
                  None, TIME_LENGTH),
        Parameter("pass_end", "isotime", _end_time, ("end",), "UTC", "Pass end (PASS_ENDED event time)",
                  END_FILL.decode(), TIME_LENGTH),
        Parameter("duration", "double", _numeric("duration", "<f8"), ("duration",), "s", "Pass duration", "NaN"),
        Parameter("predict_rows", "integer", _numeric("predict_rows", "<i4"), ("predict_rows",), None,
                  "Pointing predict rows loaded for the pass"),
        Parameter("lock_ms", "integer", _numeric("lock_ms", "<i4"), ("lock_ms",), "ms",
                  "Time from pass start to the first beacon lock (-1: no lock)", "-1"),
        Parameter("laser_on_ms", "integer", _numeric("laser_on_ms", "<i4"), ("laser_on_ms",), "ms",
                  "Laser emission time reported at pass end (-1: pass not ended)", "-1"),
        Parameter("safings", "integer", _numeric("safings", "<i4"), ("safings",), None,
                  "Laser safings (LASER_SAFED events) during the pass"),
    )
    return Dataset(id="PASSES", packet="EVENT", title="OPALS passes (derived from events)",
                   description="One record per pass, derived from the PASS_STARTED, LOCK_ACQUIRED, LASER_SAFED and "
                               "PASS_ENDED events.", parameters=params, derive=derive_passes(dictionary),
                   derive_columns=("time", "event_id", "arg0"), lookahead_ns=LOOKAHEAD_NS)
