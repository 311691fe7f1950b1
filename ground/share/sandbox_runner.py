"""Runs INSIDE the sandbox (copied to /job/runner.py; stdlib + pyarrow only, no project imports).

Usage: runner.py MODE   with MODE one of
  map_records  /job/data.arrow -> map(record: dict) yields (key, value) -> /out/pairs.jsonl
  map_batches  /job/data.arrow -> map(batch: RecordBatch) -> table -> /out/result.arrows
  reduce       /job/groups.jsonl ([key, [values]] lines) -> reduce(key, values) -> /out/result.jsonl
The analyst's code is /job/job.py. Exit status 3 means the analyst's code raised (traceback on
stderr); 2 means it broke the contract (e.g. map returned something unusable).
"""
import ctypes
import json
import sys
import traceback

sys.path.append("/pylib")
import pyarrow as pa  # noqa: E402  (imported before the second seccomp stage)
import pyarrow.ipc  # noqa: E402,F401

PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def install_filter(path: str) -> None:
    prog = open(path, "rb").read()
    buf = ctypes.create_string_buffer(prog, len(prog))
    fprog = SockFprog(len(prog) // 8, ctypes.cast(buf, ctypes.c_void_p))
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 or \
            libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        sys.stderr.write(f"sandbox: cannot install seccomp filter (errno {ctypes.get_errno()})\n")
        sys.exit(4)


def jsonable(v):
    if isinstance(v, bytes):
        return v.hex()
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return str(v)


def load_job() -> dict:
    namespace = {"__name__": "analyst_job"}
    code = open("/job/job.py", encoding="utf-8").read()
    exec(compile(code, "job.py", "exec"), namespace)
    return namespace


def batches():
    with pa.memory_map("/job/data.arrow") as source:
        reader = pa.ipc.open_file(source)
        for i in range(reader.num_record_batches):
            yield reader.get_batch(i)


def map_records(job: dict) -> None:
    fn = job["map"]
    with open("/out/pairs.jsonl", "w", encoding="utf-8") as out:
        for batch in batches():
            for record in batch.to_pylist():
                for pair in fn(record) or ():
                    key, value = pair
                    out.write(json.dumps([key, value], default=jsonable) + "\n")


def map_batches(job: dict) -> None:
    fn = job["map"]
    writer = schema = None
    with open("/out/result.arrows", "wb") as sink:
        for batch in batches():
            result = fn(batch)
            if result is None:
                continue
            if isinstance(result, dict):
                result = pa.table(result)
            if isinstance(result, pa.RecordBatch):
                result = pa.Table.from_batches([result])
            if not isinstance(result, pa.Table):
                sys.stderr.write("map must return a pyarrow Table, RecordBatch, dict of columns or None\n")
                sys.exit(2)
            if writer is None:
                schema = result.schema
                writer = pa.ipc.new_stream(sink, schema)
            writer.write_table(result.cast(schema) if result.schema != schema else result)
        if writer is not None:
            writer.close()


def reduce_groups(job: dict) -> None:
    fn = job["reduce"]
    with open("/job/groups.jsonl", encoding="utf-8") as src, open("/out/result.jsonl", "w", encoding="utf-8") as out:
        for line in src:
            key, values = json.loads(line)
            out.write(json.dumps({"key": key, "value": fn(key, values)}, default=jsonable) + "\n")


def report_usage() -> None:
    """CPU seconds used in here, for job statistics only (the job could forge it; nothing trusts it)."""
    import resource
    u = resource.getrusage(resource.RUSAGE_SELF)
    with open("/out/.usage", "w") as f:
        f.write(str(u.ru_utime + u.ru_stime))


def main() -> int:
    mode = sys.argv[1]
    install_filter("/job/analyst.bpf")
    try:
        job = load_job()
        {"map_records": map_records, "map_batches": map_batches, "reduce": reduce_groups}[mode](job)
    except SystemExit:
        raise
    except BaseException:
        traceback.print_exc(limit=8)
        return 3
    report_usage()
    return 0


if __name__ == "__main__":
    sys.exit(main())
