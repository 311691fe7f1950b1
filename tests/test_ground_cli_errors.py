"""opals-ground turns an unwritable output or a missing file into a message and exit 2."""
from __future__ import annotations

from ground.cli import main


def test_dictionary_export_to_a_missing_directory_is_a_message(tmp_path, capsys):
    assert main(["dictionary", "--json", "-o", str(tmp_path / "no" / "such" / "dir.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("opals-ground dictionary: error:") and "No such file" in err


def test_dictionary_export_writes_where_asked(tmp_path):
    out = tmp_path / "d.json"
    assert main(["dictionary", "--json", "-o", str(out)]) == 0
    assert '"HOUSEKEEPING"' in out.read_text()
