"""Bad input to ``opals-ground`` is a clear message and exit status 2, never a traceback."""
from __future__ import annotations

import pytest

from ground.cli import main


@pytest.mark.parametrize("argv, says", [
    (["ingest", "{tmp}/no-such-recording.bin", "--archive", "{tmp}/arch"], "No such file"),
    (["ingest", "{tmp}", "--archive", "{tmp}/arch"], "Is a directory"),
    (["query", "HOUSEKEEPING", "--archive", "{tmp}/arch", "--start", "yesterday"], "isoformat"),
    (["replay", "--archive", "{tmp}/arch", "--start", "garbage", "--end", "x"], "isoformat"),
    (["replay", "--archive", "{tmp}/arch", "--start", "2014-06-01", "--end", "2014-06-02", "--packets", "NOPE"],
     "unknown packet(s) NOPE"),
    (["run", "not-a-link", "--data-dir", "{tmp}/d", "--duration", "0"], "link scheme"),
    (["watch", "not-a-link", "--data-dir", "{tmp}/d", "--duration", "0"], "link scheme"),
    (["cmd", "not-a-link", "NOOP", "--data-dir", "{tmp}/d"], "link scheme"),
    (["optical", "decode", "{tmp}/no-such-recording.bin"], "No such file"),
    (["optical", "curves", "-o", "{tmp}/x.png", "--snr-db", ",,"], "at least one SNR point"),
    (["optical", "curves", "-o", "{tmp}/missing-dir/x.png", "--snr-db", "9", "--frames", "1"], "No such file"),
])
def test_bad_input_is_a_clear_error_with_status_2(tmp_path, capsys, argv, says):
    rc = main([a.replace("{tmp}", str(tmp_path)) for a in argv])
    err = capsys.readouterr().err
    assert rc == 2
    assert says in err and "Traceback" not in err


@pytest.mark.parametrize("argv", [
    ["optical", "decode", "-", "--chunk", "0"],
    ["optical", "decode", "-", "--chunk", "-5"],
    ["optical", "curves", "-o", "x.png", "--frames", "0"],
])
def test_non_positive_sizes_are_refused_by_the_parser(capsys, argv):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert "must be a positive integer" in capsys.readouterr().err


def test_ingest_reports_the_garbage_it_discarded(tmp_path, capsys):
    from protocol.codec import Codec
    from protocol.framing import frame
    from protocol.opals import DICTIONARY

    codec = Codec(DICTIONARY)
    good = frame(codec.encode_tm("EVENT", [1, 0, 0, 0, 0, 0], seq=1, time=1e9))
    junk = bytes(range(7, 250))            # no sync marker inside
    rec = tmp_path / "rec.bin"
    rec.write_bytes(junk + good)
    assert main(["ingest", str(rec), "--archive", str(tmp_path / "arch")]) == 0
    out = capsys.readouterr().out
    assert "ingested 1 packets" in out
    assert f"{len(junk)} bytes discarded" in out


def test_run_against_a_silent_payload_says_so(tmp_path, capsys):
    """A dead peer is not a silent success: the run ends with what it received and link DOWN."""
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
        peer.bind(("127.0.0.1", 0))
        url = f"udp://127.0.0.1:{peer.getsockname()[1]}?local=127.0.0.1:0"
        assert main(["run", url, "--data-dir", str(tmp_path / "d"), "--duration", "0.2"]) == 0
    err = capsys.readouterr().err
    assert "0 packets received" in err and "link DOWN" in err


def test_query_and_replay_on_a_missing_archive_say_so_and_create_nothing(tmp_path, capsys):
    from ground.cli import main as cli
    nowhere = tmp_path / "no-archive"
    assert cli(["query", "TRACKING", "--archive", str(nowhere)]) == 2
    assert cli(["replay", "--archive", str(nowhere), "--start", "2014-06-05T00:00:00Z",
                "--end", "2014-06-06T00:00:00Z"]) == 2
    assert "no archive at" in capsys.readouterr().err
    assert not nowhere.exists()
