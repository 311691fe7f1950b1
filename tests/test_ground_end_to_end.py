"""End to end: the real simulator process and the ground over UDP loopback, one planned pass.

Uses the ground pytest plugin (opals_processes, opals_api). Asserts what operations relies on:
every command verified, the laser fired only while authorised and tracking, every file intact
(byte for byte against the payload's file store), and the archive complete by sequence count.
"""
from __future__ import annotations

import json
import socket
import sys
import zlib
from pathlib import Path

import pytest

from ground.archive import Archive
from ground.pass_operations import decode_optical_recording, operate_pass, plan_next_pass
from ground.passes import iso_utc
from ground.pytest_plugin import GroundTestApi
from ground.report import OpticalPassInputs, pass_stats, write_report
from ground.session import HazardousCommandError, Session
from protocol.opals import DICTIONARY
from protocol.time_codes import datetime_to_tai

ROOT = Path(__file__).resolve().parents[1]


def _port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def flown_pass(tmp_path_factory):
    """Fly one pass once; the tests below read what it left behind."""
    import datetime as dt
    import subprocess
    tmp = tmp_path_factory.mktemp("e2e")
    planned = plan_next_pass(datetime_to_tai(dt.datetime(2014, 6, 5, tzinfo=dt.timezone.utc)))
    g, s = _port(), _port()
    start = planned.start_tai - 120.0
    store = tmp / "flight-store"
    cmd = [sys.executable, "-m", "sim.cli", "run", "--link", f"udp://127.0.0.1:{g}?local=127.0.0.1:{s}",
           "--geometry", "orbit", "--start", iso_utc(start), "--plan", "ground", "--hold", "--speed", "max",
           "--duration", f"{planned.end_tai - start + 300:.0f}", "--store", str(store),
           "--summary", str(tmp / "sim.json"), "--quiet",
           "--optical", "--optical-record", str(tmp / "optical" / "received.bits"), "--optical-record-seconds", "3",
           "--optical-source", str(tmp / "optical" / "source.bin")]
    log = open(tmp / "sim.log", "w")
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    session = Session.connect(f"udp://127.0.0.1:{s}?local=127.0.0.1:{g}", data_dir=tmp / "ground", operator="e2e")
    api = GroundTestApi(session)
    try:
        session.wait_for_payload()
        # Commands sent live, verified through the acknowledgement stages and an event.
        api.mark_events()
        api.send_and_assert("PING", token=4242)
        ping = api.assert_event_sequence(["PING"])
        # The ground refuses to fire on its own: nothing of this reaches the payload.
        with pytest.raises(HazardousCommandError):
            session.cmd("LASER_FIRE")
        with pytest.raises(HazardousCommandError):
            session.cmd("LASER_FIRE", confirm="LASER_FIRE")   # confirmed, but never armed
        outcome = operate_pass(session, planned, lambda: proc.poll() is None, files_timeout=60.0)
    finally:
        if proc.poll() is None:
            proc.terminate()
        proc.wait(timeout=60)
        session.close()
    archive = Archive(tmp / "ground" / "archive", DICTIONARY)
    return {"planned": planned, "outcome": outcome, "session": session, "archive": archive, "store": store,
            "sim": json.loads((tmp / "sim.json").read_text()), "returncode": proc.returncode, "tmp": tmp,
            "ping": ping,
            "optical": decode_optical_recording(tmp / "optical" / "received.bits", tmp / "optical" / "source.bin")}


def test_every_command_verified(flown_pass):
    o = flown_pass["outcome"]
    assert flown_pass["returncode"] == 0
    assert len(o.uploaded) == len(flown_pass["planned"].plan)
    assert all(r.status == "COMPLETED" for r in o.uploaded)
    assert sorted(o.executed) == sorted(c.name for c in flown_pass["planned"].plan)
    assert o.rejected == []
    from ground.history import CommandHistory
    hist = CommandHistory(flown_pass["tmp"] / "ground" / "history.sqlite").entries(name="LASER_FIRE")
    assert [h.status for h in hist] == ["REFUSED", "REFUSED"]   # the two refused live attempts


def test_laser_fired_only_while_authorised_and_tracking(flown_pass):
    st = pass_stats(flown_pass["archive"])
    assert st.emitting_s > 10.0                     # it did transmit
    assert st.emission_unauthorised_onsets == 0     # never started unless armed/firing, locked, in limits
    assert st.safing_latency_max_s <= 0.05          # dark within a few cycles when authorisation went
    assert flown_pass["sim"]["hazards"]["H1"] == 0 and flown_pass["sim"]["hazards"]["H2"] == 0
    fired = [e for e in flown_pass["session"].events if e.name == "LASER_FIRED"]
    armed = [e for e in flown_pass["session"].events if e.name == "LASER_ARMED"]
    assert fired and armed and armed[0].tai <= fired[0].tai


def test_files_intact(flown_pass):
    o = flown_pass["outcome"]
    received = flown_pass["session"].files.received
    assert o.files_expected >= 3 and o.files_done == o.files_expected
    for f in received:
        original = flown_pass["store"] / Path(f.name).name
        assert f.ok and f.path.read_bytes() == original.read_bytes(), f.name
        assert f.crc32 == zlib.crc32(original.read_bytes())


def test_archive_complete_by_sequence_count(flown_pass):
    comp = {c.packet: c for c in pass_stats(flown_pass["archive"]).completeness}
    for name in ("HOUSEKEEPING", "TRACKING", "SAFETY", "COMMAND_ACK", "EVENT", "FILE_PDU", "FILE_DIRECTORY"):
        c = comp[name]
        assert c.first_seq == 0 and c.gaps == 0 and c.duplicates == 0, c
    # What the session decoded live is exactly what the archive holds.
    received = flown_pass["session"].received
    for name, c in comp.items():
        assert c.received == received[name], name
    # Nothing lost at the end either (gaps cannot show that): every packet the payload put on the
    # link, by its own count, is in the archive.
    link = flown_pass["sim"]["link"]
    assert link["send_errors"] == 0
    assert sum(c.received for c in comp.values()) == link["packets_out"]


def test_report_from_the_archive(flown_pass):
    out = flown_pass["tmp"] / "report"
    page = write_report(flown_pass["archive"], out, "e2e", flown_pass["session"].files.received).read_text()
    assert "gimbal.png" in page and page.count("<tr>") > 10
    files = json.loads((out / "summary.json").read_text())["files"]
    assert files and all(f["matches_directory"] for f in files)


def test_optical_downlink_decoded_by_the_ground(flown_pass):
    """Flight played the video out while the laser emitted; the ground decoded the receiver's
    recording with its own decoder: frames found, FER measured, every good frame's bytes equal to
    the source, and the decoder's losses agree with the channel's truth for the same frames."""
    link = flown_pass["sim"]["optical"]
    d = flown_pass["optical"]
    r = d.report
    assert link["frames"] > 10 * 4000 and link["emit_s"] > 10.0
    assert 0.0 <= link["frame_error_rate"] < 0.5 and link["timeline"]
    assert sum(b["frames"] for b in link["timeline"]) == link["frames"]
    rec = link["recording"]
    assert rec["frames"] > 2.5 * 4000 and r["frames_good"] > 0.5 * rec["frames"]
    assert r["frames"] <= rec["frames"] + 2 and r["frames_failed"] + (rec["frames"] - r["frames"]) >= rec["frames_failed"]
    assert abs(r["frames_failed"] - rec["frames_failed"]) <= 0.05 * rec["frames"] + 5
    assert d.segments > 0 and d.segments_matching == d.segments
    assert d.bytes_checked == r["bytes_recovered"] > 0
    assert 0.0 <= r["frame_error_rate"] < 0.5
    # Flight owns the playout: the events bracket it and count what it played.
    ev = [e for e in flown_pass["session"].events if e.name.startswith("OPTICAL_PLAYOUT")]
    assert ev and ev[0].name == "OPTICAL_PLAYOUT_STARTED" and ev[-1].name == "OPTICAL_PLAYOUT_STOPPED"
    played = sum(e.args["frames"] for e in ev if e.name == "OPTICAL_PLAYOUT_STOPPED")
    assert played == link["frames_modulated"] == link["frames"] + link["frames_unlit"]


def test_report_has_the_optical_section(flown_pass):
    from ground.report import cached_coding_curves
    out = flown_pass["tmp"] / "report-optical"
    curves = cached_coding_curves(flown_pass["tmp"] / "curves.json", snr_db=(7.5, 8.25, 9.0), frames=200)
    page = write_report(flown_pass["archive"], out, "e2e", flown_pass["session"].files.received,
                        optical=OpticalPassInputs(flown_pass["optical"], flown_pass["sim"]["optical"], curves, 200)).read_text()
    assert "Optical downlink" in page and (out / "optical_fer.png").stat().st_size > 0
    assert (out / "optical_curves.png").stat().st_size > 0
    fig = json.loads((out / "summary.json").read_text())["optical"]
    assert fig["ground decoder: frame error rate"] == flown_pass["optical"].report["frame_error_rate"]
    assert fig["pass frames"] == flown_pass["sim"]["optical"]["frames"]
    assert [p.fer for p in curves][0] > [p.fer for p in curves][-1]
