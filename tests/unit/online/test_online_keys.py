"""Entity keys: one per distinct key tuple, the same from any integer width."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from featurestore.online import _keys
from featurestore.online._keys import entity_keys, with_prefix
from featurestore.types import Bytes, Int32, Int64, String

SCHEMA = {"a": Int64, "b": String, "c": Bytes}


@settings(deadline=None)  # the machine is shared: timings vary
@given(
    st.lists(
        st.tuples(st.integers(-(2**63), 2**63 - 1), st.text(), st.binary()),
        max_size=20,
    )
)
def test_distinct_tuples_get_distinct_keys(rows: list[tuple[int, str, bytes]]) -> None:
    columns = {
        "a": pa.array([r[0] for r in rows], pa.int64()),
        "b": pa.array([r[1] for r in rows], pa.string()),
        "c": pa.array([r[2] for r in rows], pa.binary()),
    }
    keys = entity_keys(columns, SCHEMA, len(rows)).to_pylist()
    assert len(set(keys)) == len(set(rows))


def test_single_keys_are_readable_and_width_independent() -> None:
    narrow = entity_keys({"m": pa.array([7, -1], pa.int32())}, {"m": Int32}, 2)
    wide = entity_keys({"m": pa.array([7, -1], pa.int64())}, {"m": Int64}, 2)
    assert narrow.to_pylist() == wide.to_pylist() == [b"7", b"-1"]
    assert entity_keys({"s": pa.array(["a:b"])}, {"s": String}, 1).to_pylist() == [b"a:b"]
    assert entity_keys({}, {}, 3).to_pylist() == [b"", b"", b""]  # a view without entities
    assert with_prefix(b"p:", pa.array([b"1"], pa.binary())) == [b"p:1"]


def test_multi_keys_cannot_be_confused() -> None:
    schema = {"x": String, "y": String}
    one = entity_keys({"x": pa.array(["a:1#"]), "y": pa.array(["b"])}, schema, 1)
    two = entity_keys({"x": pa.array(["a"]), "y": pa.array(["1#:b"])}, schema, 1)
    assert one.to_pylist() != two.to_pylist()


@settings(deadline=None)  # the machine is shared: timings vary
@given(
    st.lists(
        st.tuples(st.integers(-(2**63), 2**63 - 1), st.text(), st.binary()),
        min_size=1,
        max_size=10,
    ),
    st.sampled_from([["a"], ["b"], ["c"], ["a", "b"], ["b", "c", "a"]]),
)
def test_small_and_bulk_paths_agree(rows: list[tuple[int, str, bytes]], names) -> None:
    """Requests (few rows, plain Python) and materialization (Arrow kernels) make equal keys."""
    columns = {
        "a": pa.array([r[0] for r in rows], pa.int64()),
        "b": pa.array([r[1] for r in rows], pa.string()),
        "c": pa.array([r[2] for r in rows], pa.binary()),
    }
    schema = {n: SCHEMA[n] for n in names}
    small = entity_keys(columns, schema, len(rows)).to_pylist()
    bulk = _keys.entity_keys(columns, schema, _keys.SMALL + 1).to_pylist()
    assert small == bulk
