"""Everything derived from the dictionary stays derived: the committed docs page is the generated
one, the JSON export (through the real CLI) lists every packet, command and event, and the numpy
dtypes match the packet lengths."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from protocol.construct_defs import telemetry_length
from protocol.dtypes import record_dtype, wire_dtype
from protocol.export import to_markdown
from protocol.opals import DICTIONARY

ROOT = Path(__file__).resolve().parents[1]


def test_committed_docs_page_is_the_generated_one():
    committed = (ROOT / "docs" / "dictionary.md").read_text(encoding="utf-8")
    assert committed == to_markdown(DICTIONARY), "docs/dictionary.md is stale: run `make docs` and commit it"


def test_docs_page_lists_every_packet_command_and_event():
    page = to_markdown(DICTIONARY)
    for p in DICTIONARY.telemetry.values():
        assert f"### {p.name} (APID 0x{p.apid:03X}" in page
    for c in DICTIONARY.commands.values():
        assert f"| 0x{c.opcode:02X} | {c.name} |" in page
    for e in DICTIONARY.events.values():
        assert f"| {e.event_id} | {e.name} |" in page


def test_cli_json_export_round_trips_the_dictionary():
    out = subprocess.run([sys.executable, "-m", "ground.cli", "dictionary", "--json"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    d = json.loads(out)
    assert {t["name"]: t["apid"] for t in d["telemetry"]} == {p.name: p.apid for p in DICTIONARY.telemetry.values()}
    assert {c["name"]: c["opcode"] for c in d["commands"]} == {c.name: c.opcode for c in DICTIONARY.commands.values()}
    assert {e["name"]: e["id"] for e in d["events"]} == {e.name: e.event_id for e in DICTIONARY.events.values()}
    hk = next(t for t in d["telemetry"] if t["name"] == "HOUSEKEEPING")
    assert hk["length"] == 48 and [f["name"] for f in hk["fields"]][-1] == "uptime"
    assert d["framing"]["sync_marker"] == "1ACFFC1D"


def test_dtypes_are_derived_with_the_right_sizes():
    for p in DICTIONARY.telemetry.values():
        if p.is_variable:
            continue
        assert wire_dtype(p).itemsize == telemetry_length(p)
        assert record_dtype(p).itemsize == 8 + sum(f.size for f in p.fields)
        assert record_dtype(p).names[3:] == tuple(f.name for f in p.fields)
