"""The archive: what is appended is queryable after a flush, exactly once, even across kill -9."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings, strategies as st

from ground import archive_layout as layout
from ground.archive import Archive
from ground.synthetic_pass import PassShape, pass_packets
from protocol.codec import make_codec
from protocol.framing import frame_all
from protocol.opals import DICTIONARY

CODEC = make_codec()
ROOT = Path(__file__).resolve().parents[1]


def _ids(archive: Archive) -> list[tuple[str, float, int]]:
    out = []
    for name in DICTIONARY.telemetry:
        t = archive.query(name, columns=[])
        out += [(name, tai, seq) for tai, seq in zip(t.column("tai").to_pylist(), t.column("seq").to_pylist())]
    return sorted(out)


def _expected(packets: list[bytes]) -> list[tuple[str, float, int]]:
    out = []
    for p in packets:
        d = CODEC.decode(p)
        out.append((d.name, d.tai, d.seq))
    return sorted(out)


def test_flush_makes_packets_queryable_with_the_layout_schema(tmp_path):
    packets = list(pass_packets(CODEC, PassShape(duration=20)))
    a = Archive(tmp_path, DICTIONARY)
    a.append(packets[:100])
    a.flush()
    a.append(packets[100:])
    a.flush()
    assert _ids(a) == _expected(packets)
    day = layout.day_dirs(tmp_path, "TRACKING")[0][1]
    f = layout.live_segments(day)[0]
    assert pq.read_schema(f).remove_metadata() == layout.arrow_schema(DICTIONARY.telemetry["TRACKING"]).remove_metadata()
    t = a.query("TRACKING", PassShape.start_tai + 5, PassShape.start_tai + 6, ["az", "track_state"])
    assert t.num_rows == 10 and t.column_names == ["time", "tai", "seq", "az", "track_state"]
    assert list(a.raw_packets()) == packets


def test_compaction_keeps_every_row_once_and_readers_skip_superseded(tmp_path):
    packets = list(pass_packets(CODEC, PassShape(duration=30)))
    a = Archive(tmp_path, DICTIONARY)
    for i in range(0, len(packets), 50):
        a.append(packets[i:i + 50])
        a.flush()
    before = _ids(a)
    day = layout.day_dirs(tmp_path, "TRACKING")[0][1]
    small = sorted(day.glob("seg-*"))
    assert len(small) > 5
    keep = [p.read_bytes() for p in small]
    assert a.compact(min_segments=2) > 0
    assert _ids(a) == before == _expected(packets)
    # A crash between writing the merged file and deleting the small ones: readers skip them.
    for p, data in zip(small, keep):
        p.write_bytes(data)
    assert _ids(a) == before
    assert len(layout.live_segments(day)) == 1
    Archive(tmp_path, DICTIONARY)  # recovery deletes the superseded files
    assert len(list(day.glob("seg-*"))) == 1


def test_recovery_cuts_a_torn_raw_record_and_redecodes(tmp_path):
    packets = list(pass_packets(CODEC, PassShape(duration=10)))
    a = Archive(tmp_path, DICTIONARY)
    a.append(packets[:60])
    a.flush()
    a.append(packets[60:80])   # appended, never flushed
    a.raw.flush()
    with open(next((tmp_path / "raw").glob("*.raw")), "ab") as fh:
        fh.write(frame_all([packets[80]])[:-5])  # torn by the crash
    b = Archive(tmp_path, DICTIONARY)
    assert b.raw.torn_bytes_cut > 0
    b.flush()
    assert _ids(b) == _expected(packets[:80])


@settings(max_examples=15, deadline=None)
@given(cuts=st.lists(st.integers(min_value=1, max_value=400), min_size=1, max_size=6))
def test_any_flush_schedule_gives_the_same_archive(tmp_path_factory, cuts):
    packets = list(pass_packets(CODEC, PassShape(duration=40)))
    a = Archive(tmp_path_factory.mktemp("a"), DICTIONARY, durable=False)
    pos = 0
    for c in cuts:
        a.append(packets[pos:pos + c])
        a.flush()
        pos += c
    a.append(packets[pos:])
    a.flush()
    a.compact(min_segments=2)
    assert _ids(a) == _expected(packets)


def test_kill_9_during_ingest_loses_and_duplicates_nothing(tmp_path):
    """A real subprocess ingesting a recorded stream, killed -9 at random points, restarted."""
    rng = random.Random(1234)
    packets = list(pass_packets(CODEC, PassShape(duration=300)))
    stream = bytearray()
    for i, p in enumerate(packets):
        if i % 997 == 0:
            stream += bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 40)))  # line noise
        stream += frame_all([p])
    src = tmp_path / "pass.bin"
    src.write_bytes(stream)
    arch = tmp_path / "archive"
    cmd = [sys.executable, "-m", "ground.cli", "ingest", str(src), "--archive", str(arch),
           "--chunk", "1024", "--flush-bytes", "2048", "--compact-every", "7"]
    ckpt = arch / "checkpoint.json"
    kills = 0
    for attempt in range(40):
        before = ckpt.stat().st_mtime_ns if ckpt.exists() else 0
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if attempt < 5:
            # Wait until this run has committed something, then kill it at a random moment.
            while proc.poll() is None and (not ckpt.exists() or ckpt.stat().st_mtime_ns == before):
                time.sleep(0.005)
            time.sleep(rng.uniform(0.0, 0.3))
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
                kills += 1
        out, err = proc.communicate(timeout=120)
        if proc.returncode == 0:
            break
        assert proc.returncode == -signal.SIGKILL, err.decode()
    assert proc.returncode == 0
    assert kills >= 3
    a = Archive(arch, DICTIONARY)
    ids = _ids(a)
    assert len(ids) == len(set(ids)), "duplicated rows"
    assert ids == _expected(packets)
    assert list(a.raw_packets()) == packets
