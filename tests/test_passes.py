"""Ground pass planning: the feasible pass list, the day-in-the-life plan, the CLI."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ground.cli import main as ground_main
from ground.pass_plan import (PlanError, PlanTiming, TimedCommand, format_plan_table, plan_from_json, plan_pass,
                              plan_to_json, plan_window, validate_plan)
from ground.passes import PassQuery, feasible_passes, format_pass_table, nearest_orbit, passes_to_json
from protocol.codec import make_codec
from protocol.geometry import OCTL, Orbit, Pass, Window, find_passes, in_field_of_regard, load_tle, look_angles
from protocol.opals import DICTIONARY

DAY = 86400.0


@pytest.fixture(scope="module")
def orbit() -> Orbit:
    return Orbit(*load_tle())


@pytest.fixture(scope="module")
def passes(orbit: Orbit) -> list[Pass]:
    return feasible_passes(orbit, PassQuery(orbit.epoch_tai, days=2.0))


@pytest.fixture(scope="module")
def plan(orbit: Orbit, passes: list[Pass]) -> list[TimedCommand]:
    return plan_pass(orbit, passes[0])


def _names(plan: list[TimedCommand]) -> list[str]:
    return [c.name for c in plan]


def _one(plan: list[TimedCommand], name: str) -> TimedCommand:
    (c,) = [c for c in plan if c.name == name]
    return c


# ---------------------------------------------------------------- pass list
def test_feasible_passes_are_the_feasible_subset_of_all_passes(orbit: Orbit, passes: list[Pass]):
    everything = find_passes(orbit, OCTL, orbit.epoch_tai, orbit.epoch_tai + 4 * DAY)
    feasible = feasible_passes(orbit, PassQuery(orbit.epoch_tai, days=4.0))
    assert feasible == [p for p in everything if p.feasible_duration > 0]
    assert 0 < len(feasible) < len(everything)  # the south-side passes are left out
    assert passes == feasible[:len(passes)]


def test_nearest_orbit_picks_the_element_set_closest_in_time(orbit: Orbit):
    assert nearest_orbit(orbit.epoch_tai + DAY).epoch_tai == orbit.epoch_tai
    later = nearest_orbit(orbit.epoch_tai + 12 * DAY)
    assert later.epoch_tai > orbit.epoch_tai + 10 * DAY


def test_pass_table_and_json_list_every_pass(passes: list[Pass]):
    table = format_pass_table(passes)
    assert len(table.splitlines()) == 2 + len(passes)
    assert f"{passes[0].max_elevation_deg:.1f}" in table
    records = json.loads(passes_to_json(passes))
    assert [r["number"] for r in records] == list(range(1, len(passes) + 1))
    assert records[0]["feasible_duration_s"] == pytest.approx(passes[0].feasible_duration, abs=1e-3)
    assert records[0]["rise_utc"].endswith("Z")
    assert "no feasible pass" in format_pass_table([])


def test_pass_table_shows_an_infeasible_pass_without_failing(orbit: Orbit):
    p = next(p for p in find_passes(orbit, OCTL, orbit.epoch_tai, orbit.epoch_tai + 7 * DAY) if not p.feasible)
    row = format_pass_table([p]).splitlines()[2]
    assert " - " in row and "0.0s" in row


def test_non_positive_span_is_refused(orbit: Orbit):
    with pytest.raises(ValueError):
        feasible_passes(orbit, PassQuery(orbit.epoch_tai, days=0))


@pytest.mark.parametrize("days, min_el", [(float("inf"), 20.0), (float("nan"), 20.0), (1e6, 20.0),
                                          (1.0, -95.0), (1.0, 95.0)])
def test_unbounded_span_or_impossible_elevation_is_refused(orbit: Orbit, days: float, min_el: float):
    with pytest.raises(ValueError):
        feasible_passes(orbit, PassQuery(orbit.epoch_tai, days=days, min_elevation_deg=min_el))


# ---------------------------------------------------------------- the plan
def test_every_planned_command_validates_and_encodes(plan: list[TimedCommand]):
    codec = make_codec()
    assert validate_plan(plan) == []
    for seq, c in enumerate(plan):
        assert DICTIONARY.commands[c.name].validate(c.args) == []
        assert codec.decode(codec.encode_cmd(c.name, c.args, seq=seq & 0x3FFF)).name == c.name


def test_plan_runs_the_day_in_the_life_in_order(plan: list[TimedCommand], passes: list[Pass]):
    p = passes[0]
    w = plan_window(p)
    names = [n for n in _names(plan) if n != "LOAD_PREDICT"]
    assert names == ["HEALTH_CHECK", "CLEAR_PREDICTS", "SLEW", "START_PASS", "LASER_ARM", "LASER_FIRE",
                     "END_PASS", "STOW", "FILE_DOWNLINK_ALL", "GO_IDLE"]
    first_predict = _names(plan).index("LOAD_PREDICT")
    assert _names(plan)[first_predict - 1] == "CLEAR_PREDICTS" and _names(plan).index("SLEW") > first_predict
    times = [c.tai for c in plan]
    assert times == sorted(times)
    assert _one(plan, "HEALTH_CHECK").tai <= p.rise_tai - 300  # well before rise
    assert _one(plan, "START_PASS").tai < w.start_tai
    arm, fire = _one(plan, "LASER_ARM"), _one(plan, "LASER_FIRE")
    assert w.start_tai + 2 <= arm.tai < fire.tai < arm.tai + arm.args["window"]  # locked, within the ARM window
    assert fire.tai < w.stop_tai
    assert _one(plan, "END_PASS").tai == pytest.approx(w.stop_tai)
    assert _one(plan, "FILE_DOWNLINK_ALL").args == {"cfdp_class": 2}
    assert _one(plan, "GO_IDLE").tai > _one(plan, "FILE_DOWNLINK_ALL").tai > _one(plan, "STOW").tai > w.stop_tai


def test_only_the_laser_commands_need_confirmation(plan: list[TimedCommand]):
    assert {c.name for c in plan if c.hazardous} == {"LASER_ARM", "LASER_FIRE"}
    doc = json.loads(plan_to_json(plan))
    assert {c["name"] for c in doc["commands"] if c["requires_confirmation"]} == {"LASER_ARM", "LASER_FIRE"}
    table = format_plan_table(plan, plan[0].tai)
    assert "CONFIRM LASER_ARM" in table and "CONFIRM LASER_FIRE" in table and "CONFIRM STOW" not in table


def test_predicts_are_the_gimbal_angles_every_second_over_the_window(orbit: Orbit, plan: list[TimedCommand],
                                                                     passes: list[Pass]):
    rows = [c.args for c in plan if c.name == "LOAD_PREDICT"]
    w = plan_window(passes[0])
    tai = np.array([r["tai"] for r in rows])
    assert [r["index"] for r in rows] == list(range(len(rows)))
    assert np.allclose(np.diff(tai), 1.0)
    assert tai[0] <= w.start_tai - 29 and tai[-1] >= w.stop_tai + 29  # window plus the 30 s margin
    la = look_angles(orbit, OCTL, tai)
    assert np.allclose([r["az"] for r in rows], la.az, atol=1e-4)
    assert np.allclose([r["el"] for r in rows], la.el, atol=1e-4)
    inside = (tai >= w.start_tai) & (tai <= w.stop_tai)
    assert in_field_of_regard(la.az[inside], la.el[inside]).all()
    slew = _one(plan, "SLEW").args
    assert in_field_of_regard(slew["az"], slew["el"])


def test_plan_json_holds_every_command_with_opcode_and_utc(plan: list[TimedCommand], passes: list[Pass]):
    doc = json.loads(plan_to_json(plan, passes[0], number=1))
    assert len(doc["commands"]) == len(plan)
    assert doc["pass"]["number"] == 1
    assert all(c["opcode"] == DICTIONARY.commands[c["name"]].opcode and c["utc"].endswith("Z") for c in doc["commands"])
    assert format_plan_table(plan, plan[0].tai).count("LOAD_PREDICT") == 1  # rows collapsed for humans


def test_plan_json_reads_back_identically_and_bad_files_are_refused(plan: list[TimedCommand]):
    assert plan_from_json(plan_to_json(plan)) == plan
    doc = json.loads(plan_to_json(plan))
    for c in doc["commands"]:
        c["hazardous"] = False  # a file cannot disarm the confirmation: the dictionary decides
    assert {c.name for c in plan_from_json(json.dumps(doc)) if c.hazardous} == {"LASER_ARM", "LASER_FIRE"}
    doc["commands"][-1]["args"] = {"cfdp_class": 7}
    doc["commands"][-1]["name"] = "FILE_DOWNLINK_ALL"
    with pytest.raises(PlanError, match="cfdp_class"):
        plan_from_json(json.dumps(doc))
    for junk in ("", "[]", '{"commands": [{"name": "NOOP"}]}', '{"commands": [{"tai": "x", "name": "NOOP"}]}'):
        with pytest.raises(PlanError):
            plan_from_json(junk)


def test_a_pass_without_feasible_window_cannot_be_planned(orbit: Orbit):
    p = next(p for p in find_passes(orbit, OCTL, orbit.epoch_tai, orbit.epoch_tai + 7 * DAY) if not p.feasible)
    with pytest.raises(PlanError, match="no feasible window"):
        plan_pass(orbit, p)


def test_a_window_too_short_to_arm_and_fire_is_refused(orbit: Orbit, passes: list[Pass]):
    p = passes[0]
    w = p.feasible[0]
    short = Pass(p.station, p.rise_tai, p.set_tai, p.culmination_tai, p.max_elevation_deg, p.min_elevation_deg,
                 p.above_min, (Window(w.start_tai, w.start_tai + 3.0),), p.peak_angular_rate_deg_s)
    with pytest.raises(PlanError, match="too short"):
        plan_pass(orbit, short)


def test_validate_plan_reports_bad_arguments_order_and_flags():
    bad = [TimedCommand(10.0, "SLEW", {"az": 120.0, "el": 5.0}),
           TimedCommand(5.0, "LASER_FIRE", {}, hazardous=False),
           TimedCommand(20.0, "NO_SUCH_COMMAND")]
    errors = validate_plan(bad)
    assert any("az" in e and "outside valid range" in e for e in errors)
    assert any("hazardous flag" in e for e in errors)
    assert any("precedes" in e for e in errors)
    assert any("unknown command" in e for e in errors)


@settings(max_examples=6, deadline=None)
@given(st.floats(0.0, 20.0))
def test_any_feasible_pass_in_june_2014_plans_into_valid_commands(day: float):
    start = Orbit(*load_tle()).epoch_tai + day * DAY
    orbit = nearest_orbit(start)
    found = feasible_passes(orbit, PassQuery(start, days=1.0))
    for p in found:
        if max(w.duration for w in p.feasible) > PlanTiming().lock_expected_after_s + 2:
            assert validate_plan(plan_pass(orbit, p)) == []


# ---------------------------------------------------------------- the CLI
def test_cli_lists_passes_and_prints_a_plan(capsys):
    assert ground_main(["passes", "--days", "2"]) == 0
    table = capsys.readouterr().out
    assert "feasible start" in table and "88." in table
    assert ground_main(["passes", "--days", "2", "--plan", "1", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["pass"]["number"] == 1 and doc["commands"][0]["name"] == "HEALTH_CHECK"
    assert ground_main(["passes", "--start", "2014-06-05T00:00:00Z", "--json"]) == 0
    assert all(r["rise_utc"].startswith("2014-06-0") for r in json.loads(capsys.readouterr().out))


def test_cli_bad_input_is_a_clear_error_not_a_crash(capsys, tmp_path):
    assert ground_main(["passes", "--start", "yesterday"]) == 2
    assert "opals-ground passes:" in capsys.readouterr().err
    assert ground_main(["passes", "--tle", str(tmp_path / "missing.tle")]) == 2
    (tmp_path / "junk.tle").write_text("not a tle\n")
    assert ground_main(["passes", "--tle", str(tmp_path / "junk.tle")]) == 2
    assert "no two-line element set" in capsys.readouterr().err
    assert ground_main(["passes", "--days", "1", "--plan", "99"]) == 1
    assert "no pass 99" in capsys.readouterr().err


def test_installed_entry_point_runs_as_a_process():
    out = subprocess.run([sys.executable, "-m", "ground.cli", "passes", "--days", "1", "--plan", "1"],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    assert "CONFIRM LASER_FIRE" in out and "FILE_DOWNLINK_ALL" in out
