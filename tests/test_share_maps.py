"""Modifying maps and chains: what each transform does, that chaining only narrows (the paper's
reseller C gets nothing more), and that pushing filters into the Parquet scan changes nothing."""
from __future__ import annotations

import collections
import json

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ground.share.chain import compose
from ground.share.maps import MapError, ModifyingMap, Predicate, Transform
from ground.share.scan import packet_schema, scan_unit, work_units
from ground.share.synthetic import write_archive
from protocol.opals import DICTIONARY

SCHEMA = packet_schema(DICTIONARY, "HOUSEKEEPING")


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    root = tmp_path_factory.mktemp("archive")
    write_archive(root, DICTIONARY.telemetry["HOUSEKEEPING"], 600, days=2, row_group_size=200)
    return root


def run_chain(root, maps) -> pa.Table:
    """The production path: compose, scan each unit with the pushed filter, apply the rest."""
    plan = compose(SCHEMA, maps)
    parts = []
    for unit in work_units(root, "HOUSEKEEPING", whole_files=plan.aggregates):
        batches = list(scan_unit(unit, SCHEMA, list(plan.scan_columns), plan.scan_filter()))
        table = pa.Table.from_batches(batches) if batches else plan.scan_schema().empty_table()
        parts.append(plan.apply(table))
    out = pa.concat_tables(parts)
    assert out.schema == plan.output_schema
    return out


def full_table(root) -> pa.Table:
    return run_chain(root, [ModifyingMap()])


def run_sequentially(root, maps) -> pa.Table:
    """The reference: each map applied alone to the materialized output of the previous one."""
    table = full_table(root)
    for m in maps:
        table = compose(table.schema, [m]).apply_all(table)
    return table


def test_filters_are_pushed_into_the_scan_until_a_column_is_transformed(archive):
    provider = ModifyingMap(filters=(Predicate("mode", "<", 100),),
                            transforms=(Transform("bus_voltage", "scale", factor=1000.0, units="mV"),))
    reseller = ModifyingMap(filters=(Predicate("temp_laser", ">", 20.0), Predicate("bus_voltage", ">", 20000.0)))
    plan = compose(SCHEMA, [provider, reseller])
    assert [p.column for p in plan.pushed] == ["mode", "temp_laser"]
    assert [p.column for p in plan.residual[1]] == ["bus_voltage"]
    out = run_chain(archive, [provider, reseller])
    assert out.num_rows > 0
    assert pc.all(pc.less(out["mode"], 100)).as_py()
    assert pc.all(pc.greater(out["bus_voltage"], 20000.0)).as_py()
    assert out.schema.field("bus_voltage").metadata[b"units"] == b"mV"
    assert out.equals(run_sequentially(archive, [provider, reseller]))


def test_each_transform(archive):
    full = full_table(archive)
    m = ModifyingMap(transforms=(
        Transform("time", "round_time", seconds=60), Transform("cmd_accepted", "redact"),
        Transform("temp_laser", "hash", salt="s"), Transform("bus_current", "null"),
        Transform("temp_gimbal", "round", digits=0), Transform("bus_voltage", "scale", factor=2.0, offset=1.0),
        Transform("uptime", "redact", value=7)))
    out = run_chain(archive, [m])
    assert out.num_rows == full.num_rows
    assert all(t.second == 0 for t in out["time"].to_pylist())
    assert set(out["cmd_accepted"].to_pylist()) == {0} and out.schema.field("cmd_accepted").type == pa.uint16()
    assert set(out["uptime"].to_pylist()) == {7}
    hashed = out["temp_laser"].to_pylist()
    assert all(isinstance(h, str) and len(h) == 16 for h in hashed) and len(set(hashed)) > 1
    assert out["bus_current"].null_count == out.num_rows
    assert out["temp_gimbal"].to_pylist() == [round(v) for v in full["temp_gimbal"].to_pylist()]
    assert out["bus_voltage"].to_pylist() == pytest.approx([2 * v + 1 for v in full["bus_voltage"].to_pylist()])


def test_custom_transform_is_a_trusted_provider_function(archive):
    m = ModifyingMap(transforms=(Transform("temp_laser", "custom", function="pyarrow.compute:negate"),))
    out = run_chain(archive, [m])
    assert out["temp_laser"].to_pylist() == [-v for v in full_table(archive)["temp_laser"].to_pylist()]


def test_one_minute_averages(archive):
    out = run_chain(archive, [ModifyingMap(columns=("time", "temp_laser", "mode"), average_seconds=60)])
    assert out.column_names == ["time", "mode", "temp_laser", "n"]
    assert sum(out["n"].to_pylist()) == full_table(archive).num_rows
    assert set(out["n"].to_pylist()) == {60}  # 1 Hz data, buckets never cut by the unit split


def test_reseller_c_gets_nothing_more(archive):
    """Upstream withholds temp_laser and rows with mode >= 100: asking for them changes nothing."""
    provider = ModifyingMap(filters=(Predicate("mode", "<", 100),), columns=("time", "mode", "bus_voltage"))
    greedy = ModifyingMap(filters=(Predicate("mode", ">=", 0),), columns=("time", "mode", "bus_voltage", "temp_laser"))
    upstream = run_chain(archive, [provider])
    assert run_chain(archive, [provider, greedy]).equals(upstream)
    assert run_chain(archive, [provider, ModifyingMap(filters=(Predicate("mode", ">=", 100),))]).num_rows == 0
    with pytest.raises(MapError, match="temp_laser"):
        compose(SCHEMA, [provider, ModifyingMap(filters=(Predicate("temp_laser", ">", 0),))])
    with pytest.raises(MapError, match="no columns"):
        compose(SCHEMA, [provider, ModifyingMap(columns=("temp_laser",))])


def test_bad_maps_are_rejected_with_reasons():
    with pytest.raises(MapError, match="operator"):
        ModifyingMap.from_dict({"filters": [["mode", "~", 1]]})
    with pytest.raises(MapError, match="transform"):
        ModifyingMap.from_dict({"transforms": [{"column": "mode", "kind": "explode"}]})
    with pytest.raises(MapError, match="unknown map keys"):
        ModifyingMap.from_dict({"select": ["mode"]})
    with pytest.raises(MapError, match="does not fit"):
        compose(SCHEMA, [ModifyingMap(filters=(Predicate("time", ">", "yesterday"),))])
    m = ModifyingMap.from_dict({"filters": [["mode", "in", [1, 2]]], "columns": ["mode"],
                                "transforms": [{"column": "mode", "kind": "scale", "factor": 2}]})
    assert ModifyingMap.from_dict(m.to_dict()) == m


@given(chain=st.lists(st.deferred(lambda: maps), min_size=1, max_size=3))
def test_maps_survive_their_json_form(chain):
    """What a reseller forwards upstream is exactly its map."""
    for m in chain:
        assert ModifyingMap.from_dict(json.loads(json.dumps(m.to_dict()))) == m


# ---- property: any chain only narrows -----------------------------------------------------------
NUMERIC = ["mode", "laser_state", "cmd_accepted", "temp_laser", "temp_gimbal", "bus_voltage", "uptime"]
predicates = st.builds(Predicate, st.sampled_from(NUMERIC), st.sampled_from(["<", "<=", ">", ">=", "!=", "=="]),
                       st.one_of(st.integers(0, 300), st.floats(0, 40, allow_nan=False)))
transforms = st.one_of(
    st.builds(Transform, st.sampled_from(NUMERIC), st.just("null")),
    st.builds(Transform, st.sampled_from(NUMERIC), st.just("redact")),
    st.builds(Transform, st.sampled_from(NUMERIC), st.just("round"), digits=st.integers(-1, 2)),
    st.builds(Transform, st.sampled_from(NUMERIC), st.just("scale"), factor=st.floats(-3, 3, allow_nan=False)),
    st.builds(Transform, st.just("time"), st.just("round_time"), seconds=st.sampled_from([1, 10, 60])))
maps = st.builds(ModifyingMap, st.lists(predicates, max_size=2).map(tuple),
                 st.one_of(st.none(), st.sets(st.sampled_from(["time", "seq", *NUMERIC]), min_size=1).map(tuple)),
                 st.lists(transforms, max_size=2).map(tuple))


def _valid_chain(chain) -> bool:
    try:
        compose(SCHEMA, chain)
        return True
    except MapError:
        return False


def _rows(table: pa.Table, columns) -> collections.Counter:
    return collections.Counter(tuple(r[c] for c in columns) for r in table.select(columns).to_pylist())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chain=st.lists(maps, min_size=1, max_size=3).filter(_valid_chain))
def test_any_chain_output_is_a_subset_of_every_upstream_output(archive, chain):
    out = run_chain(archive, chain)
    assert out.equals(run_sequentially(archive, chain))  # pushdown changes nothing
    for k in range(len(chain)):
        upstream = run_chain(archive, chain[:k + 1])
        assert set(out.column_names) <= set(upstream.column_names)
        assert out.num_rows <= upstream.num_rows
        for c in out.column_names:  # a value withheld (nulled) upstream never reappears
            if upstream[c].null_count == upstream.num_rows and upstream.num_rows:
                assert out[c].null_count == out.num_rows
        if not any(m.transforms for m in chain[k + 1:]):
            assert not (_rows(out, out.column_names) - _rows(upstream, out.column_names))
