"""Bad command-line input to opals-sim is a usage error with a message, never a traceback."""
from __future__ import annotations

import pytest

from sim.cli import main


@pytest.mark.parametrize("argv, says", [
    (["run", "--speed", "fast"], "--speed"),
    (["run", "--speed", "-1"], "--speed"),
    (["run", "--speed", "0"], "--speed"),
    (["run", "--start", "yesterday-ish"], "--start"),
    (["run", "--control-hz", "0"], "--control-hz"),
    (["run", "--duration", "-5"], "--duration"),
    (["passes", "--start", "2014-13-45"], "--start"),
    (["passes", "--days", "0"], "--days"),
])
def test_bad_flags_are_refused_when_the_command_line_is_read(argv, says, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err


@pytest.mark.parametrize("argv, says", [
    (["run", "--duration", "1", "--quiet", "--plan-file", "{tmp}/missing.json"], "No such file"),
    (["run", "--duration", "1", "--quiet", "--plan-file", "{tmp}/garbage.json"], "garbage.json"),
    (["run", "--duration", "1", "--quiet", "--plan-file", "{tmp}/notaplan.json"], "not a pass plan"),
    (["run", "--duration", "1", "--quiet", "--plan-file", "{tmp}/empty.json"], "no commands"),
    (["run", "--duration", "1", "--quiet", "--link", "bogus://x"], "unknown link scheme"),
    (["run", "--duration", "1", "--quiet", "--link", "udp://127.0.0.1:notaport"], "Port"),
    (["passes", "--tle", "{tmp}/missing.tle"], "No such file"),
])
def test_a_missing_file_or_bad_link_is_a_message_and_exit_2(argv, says, tmp_path, capsys):
    (tmp_path / "garbage.json").write_text("{not json")
    (tmp_path / "notaplan.json").write_text('{"commands": [{"name": "NOOP"}]}')
    (tmp_path / "empty.json").write_text('{"commands": []}')
    assert main([a.format(tmp=tmp_path) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("opals-sim: error:") and says in err
