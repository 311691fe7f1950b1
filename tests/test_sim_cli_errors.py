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


def test_faults_lists_the_whole_catalogue(capsys):
    import json

    from sim.faults import CATALOGUE
    assert main(["faults", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert sorted(r["name"] for r in rows) == sorted(CATALOGUE)
    assert all(r["inhibit"] and r["description"] and r["onset"] for r in rows)
    assert main(["faults"]) == 0
    text = capsys.readouterr().out
    assert all(name in text for name in CATALOGUE)


def test_passes_lists_the_passes_above_the_elevation_asked(capsys):
    import re

    from sim.orbit_pass import iss_orbit, passes_between
    from sim.cli_run import _parse_time
    assert main(["passes", "--start", "2014-06-05T00:00:00Z", "--days", "2", "--min-elevation", "30"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    t0 = _parse_time("2014-06-05T00:00:00Z")
    expected = passes_between(iss_orbit(None, t0), t0, t0 + 2 * 86400.0, 30.0)
    assert len(lines) == len(expected) > 0
    assert all(float(re.search(r"max elevation\s+([\d.]+)", ln).group(1)) >= 30.0 for ln in lines)


def test_a_junk_tle_is_a_message(tmp_path, capsys):
    junk = tmp_path / "junk.tle"
    junk.write_text("ISS\n1 nonsense\n2 nonsense\n")
    assert main(["passes", "--tle", str(junk)]) == 2
    assert capsys.readouterr().err.startswith("opals-sim: error:")
