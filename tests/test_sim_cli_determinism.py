"""`opals-sim run` is deterministic for a seed, and --seed and --fault really reach the run."""
from __future__ import annotations

import json

from sim.cli import main

RUN = ["run", "--start", "2014-06-05T12:00:00Z", "--pass-offset", "20", "--duration", "30", "--quiet"]
WALL = {"wall_s", "speed_factor", "store"}


def _run(tmp_path, name: str, *extra: str) -> dict:
    out = tmp_path / f"{name}.json"
    assert main([*RUN, "--store", str(tmp_path / name), "--summary", str(out), *extra]) == 0
    return {k: v for k, v in json.loads(out.read_text()).items() if k not in WALL}


def test_same_seed_same_run_other_seed_other_run(tmp_path, capsys):
    a = _run(tmp_path, "a", "--seed", "3", "--fault", "photodiode_blind")
    b = _run(tmp_path, "b", "--seed", "3", "--fault", "photodiode_blind")
    c = _run(tmp_path, "c", "--seed", "4", "--fault", "photodiode_blind")
    assert a == b
    assert a["truth"]["samples"] > 1000 and a["truth"]["err_rms_urad"] > 0
    assert c["truth"]["err_rms_urad"] != a["truth"]["err_rms_urad"]
    assert a["faults"] == ["photodiode_blind"] and "photodiode_blind" in a["active_faults"]
    assert a["seed"] == 3 and c["seed"] == 4
