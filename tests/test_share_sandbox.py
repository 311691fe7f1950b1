"""The analyst sandbox, attacked for real under bubblewrap: the job cannot read the archive, open a
socket, write outside its output, fork-bomb, start programs or run forever."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc
import pytest

from ground.share.sandbox import SandboxLimits, prepare_job_dir, run_sandboxed

LIMITS = SandboxLimits(cpu_seconds=2, memory_bytes=1 << 30, file_bytes=1 << 20, wall_seconds=6)


@pytest.fixture(scope="module")
def archive_file(tmp_path_factory) -> Path:
    """Something that stands for the archive: readable by the service, never by the job."""
    root = tmp_path_factory.mktemp("archive")
    (root / "secret.parquet").write_bytes(b"PAR1 laser safety internals")
    return root / "secret.parquet"


def run(tmp_path: Path, body: str, mode: str = "map_records", limits: SandboxLimits = LIMITS):
    code = "def map(record):\n    return [(1, 1)]\n" + textwrap.dedent(body)
    prepare_job_dir(tmp_path / "job", code)
    table = pa.table({"k": [1, 2, 3]})
    with pa.OSFile(str(tmp_path / "job" / "data.arrow"), "wb") as sink, pa.ipc.new_file(sink, table.schema) as w:
        w.write_table(table)
    return run_sandboxed(tmp_path / "job", tmp_path / "out", mode, limits)


def test_a_well_behaved_job_runs_and_writes_its_output(tmp_path):
    r = run(tmp_path, 'open("/out/notes.txt", "w").write("ok")\n')
    assert r.ok, r.stderr
    assert [json.loads(line) for line in r.output.read_text().splitlines()] == [[1, 1]] * 3
    assert (tmp_path / "out" / "notes.txt").read_text() == "ok"


def test_cannot_read_the_archive(tmp_path, archive_file):
    r = run(tmp_path, f"open({str(archive_file)!r}, 'rb').read()\n")
    assert not r.ok and "No such file or directory" in r.stderr
    r = run(tmp_path / "2", "import json, os\njson.dump({'root': os.listdir('/'), 'pids': os.listdir('/proc')},"
                            " open('/out/seen.json', 'w'))\n")
    assert r.ok, r.stderr
    seen = json.loads((tmp_path / "2" / "out" / "seen.json").read_text())
    # only the runtime, the job's input and its output; no /tmp, /work, /home, /etc, /var
    assert set(seen["root"]) <= {"usr", "bin", "lib", "lib64", "proc", "dev", "root", "pylib", "job", "out"}
    assert max(int(p) for p in seen["pids"] if p.isdigit()) < 10  # its own PID namespace


@pytest.mark.parametrize("family", ["AF_INET", "AF_INET6", "AF_UNIX", "AF_NETLINK"])
def test_cannot_open_a_socket(tmp_path, family):
    r = run(tmp_path, f"import socket\nsocket.socket(socket.{family}, socket.SOCK_DGRAM)\n")
    assert not r.ok and "PermissionError: [Errno 1] Operation not permitted" in r.stderr


@pytest.mark.parametrize("path", ["/evil", "/tmp/evil", "/job/job.py", "/pylib/evil.py", "/usr/evil", "/out/../evil"])
def test_cannot_write_outside_its_output(tmp_path, path):
    r = run(tmp_path, f"open({path!r}, 'w').write('x')\n")
    assert not r.ok
    assert "Read-only file system" in r.stderr or "No such file or directory" in r.stderr
    assert not (tmp_path / "evil").exists()


def test_output_file_size_is_limited(tmp_path):
    r = run(tmp_path, "open('/out/big', 'wb').write(b'x' * (4 << 20))\n")
    assert not r.ok and "File too large" in r.stderr


def test_cannot_fork_bomb_or_start_programs(tmp_path):
    r = run(tmp_path, "import os\nwhile True:\n    os.fork()\n")
    assert not r.ok and "PermissionError" in r.stderr
    r = run(tmp_path / "2", "import subprocess\nsubprocess.run(['/usr/bin/true'])\n")
    assert not r.ok and "PermissionError" in r.stderr
    r = run(tmp_path / "3", "import os\nos.execv('/usr/bin/true', ['true'])\n")
    assert not r.ok and "PermissionError" in r.stderr


def test_threads_still_work_but_are_capped(tmp_path):
    r = run(tmp_path, "import threading\nts = [threading.Thread(target=lambda: None) for _ in range(4)]\n"
                      "[t.start() for t in ts]; [t.join() for t in ts]\n")
    assert r.ok, r.stderr
    r = run(tmp_path / "2", "import threading, time\nfor _ in range(200):\n"
                            "    threading.Thread(target=time.sleep, args=(5,), daemon=True).start()\n",
            limits=SandboxLimits(processes=16, wall_seconds=6))
    assert not r.ok and "can't start new thread" in r.stderr


def test_cannot_run_forever(tmp_path):
    busy = run(tmp_path, "while True:\n    pass\n", limits=SandboxLimits(cpu_seconds=1, wall_seconds=20))
    assert not busy.ok and "CPU limit" in busy.reason
    asleep = run(tmp_path / "2", "import time\ntime.sleep(60)\n", limits=SandboxLimits(wall_seconds=1.5))
    assert not asleep.ok and "wall-clock limit" in asleep.reason


def test_memory_is_limited(tmp_path):
    r = run(tmp_path, "x = bytearray(2 << 30)\n")
    assert not r.ok and "MemoryError" in r.stderr


def test_analyst_exceptions_are_reported(tmp_path):
    r = run(tmp_path, "def map(record):\n    raise ValueError('bad record')\n")
    assert not r.ok and r.reason == "analyst code raised an exception" and "ValueError: bad record" in r.stderr


def test_a_chatty_job_cannot_flood_the_service(tmp_path):
    r = run(tmp_path, "import sys\nsys.stderr.write('x' * (8 << 20))\nsys.stderr.flush()\n")
    assert not r.ok and len(r.stderr) <= 4000
