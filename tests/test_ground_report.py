"""The pass report is built from the archive alone; checked on a synthetic pass with known answers."""
from __future__ import annotations

from dataclasses import dataclass

from ground.archive import Archive
from ground.report import pass_stats, write_report
from ground.synthetic_pass import PassShape, pass_packets
from protocol.codec import make_codec
from protocol.opals import DICTIONARY

CODEC = make_codec()


@dataclass
class _File:
    name: str
    size: int
    crc32: int
    condition: str = "NO_ERROR"
    ok: bool = True


def _archive(tmp_path, drop_every: int = 0) -> Archive:
    shape = PassShape(duration=300)
    pk = list(pass_packets(CODEC, shape))
    if drop_every:
        pk = [p for i, p in enumerate(pk) if i % drop_every]
    pk.append(CODEC.encode_tm("FILE_DIRECTORY", {"file_id": 1, "kind": 0, "size": 1234, "crc32": 0xDEADBEEF,
                                                 "created": shape.start_tai}, 0, shape.start_tai + 299))
    a = Archive(tmp_path / "archive", DICTIONARY, durable=False)
    a.append(pk)
    a.flush()
    return a


def test_stats_match_the_pass_that_was_flown(tmp_path):
    st = pass_stats(_archive(tmp_path))
    shape = PassShape()
    assert st.tracking_samples == 3000
    assert st.locked_samples == int((shape.lose_lock_at - shape.lock_at) * 10)
    assert st.within_requirement == 1.0 and st.err_locked_max <= 60.0001
    assert abs(st.emitting_s - (shape.safe_at - shape.fire_at)) <= 1.0
    assert st.emitting_unauthorised_samples == 0
    assert all(c.gaps == 0 and c.duplicates == 0 and c.first_seq == 0 for c in st.completeness)


def test_transmission_statistics_cover_exactly_fire_to_safe(tmp_path):
    st = pass_stats(_archive(tmp_path))
    shape = PassShape()
    assert st.transmit_samples == round((shape.safe_at - shape.fire_at) * 10)
    assert st.transmit_within_requirement == 1.0
    assert 3 * 20.0 < st.err_transmit_3sigma <= 3 * 60.0001   # 40 +- 20 urad while locked


def test_missing_packets_show_in_completeness(tmp_path):
    st = pass_stats(_archive(tmp_path, drop_every=50))
    assert sum(c.gaps for c in st.completeness) > 0


def test_report_writes_html_plots_and_verifies_files(tmp_path):
    a = _archive(tmp_path)
    path = write_report(a, tmp_path / "out", "synthetic pass",
                        [_File("track.bin", 1234, 0xDEADBEEF), _File("bad.bin", 10, 1, "FILE_CHECKSUM_FAILURE", False)])
    page = path.read_text()
    for png in ("gimbal.png", "pointing.png", "laser.png", "link.png"):
        assert (tmp_path / "out" / png).stat().st_size > 5000
        assert png in page
    assert "track.bin" in page and "FILE_CHECKSUM_FAILURE" in page
    import json
    files = json.loads((tmp_path / "out" / "summary.json").read_text())["files"]
    assert [f["matches_directory"] for f in files] == [True, False]
