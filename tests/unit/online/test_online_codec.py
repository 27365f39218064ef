"""The packed value codec: every type round-trips, nulls and all, through both decoders
(row by row for a few values, a column at a time in numpy for more)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime
from unittest import mock

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from featurestore import Entity, FeatureView, Field, ParquetSource
from featurestore.errors import OnlineStoreError
from featurestore.online import _codec
from featurestore.online._codec import NO_CREATED, ViewCodec
from featurestore.types import (
    Array,
    Bool,
    Bytes,
    Float32,
    Float64,
    Int32,
    Int64,
    String,
    UnixTimestamp,
)

FIELDS = [
    Field("b", Bool),
    Field("i32", Int32),
    Field("i64", Int64),
    Field("f32", Float32),
    Field("f64", Float64),
    Field("s", String),
    Field("by", Bytes),
    Field("ts", UnixTimestamp),
    Field("al", Array(Int64)),
    Field("as_", Array(String)),
    Field("ab", Array(Bytes)),
    Field("at", Array(UnixTimestamp)),
]
VIEW = FeatureView(
    name="v",
    entities=[Entity(name="e", join_keys=["k"])],
    schema=FIELDS,
    source=ParquetSource(path="p"),
)
moments = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)
VALUES = {
    "b": st.booleans(),
    "i32": st.integers(-(2**31), 2**31 - 1),
    "i64": st.integers(-(2**63), 2**63 - 1),
    "f32": st.floats(width=32, allow_nan=False),
    "f64": st.floats(allow_nan=False),
    "s": st.text(),
    "by": st.binary(),
    "ts": moments,
    "al": st.lists(st.none() | st.integers(-(2**63), 2**63 - 1), max_size=4),
    "as_": st.lists(st.none() | st.text(), max_size=4),
    "ab": st.lists(st.none() | st.binary(), max_size=3),
    "at": st.lists(st.none() | moments, max_size=3),
}
row_st = st.fixed_dictionaries({k: st.none() | v for k, v in VALUES.items()})


@pytest.fixture(params=["row by row", "in numpy"], autouse=True)
def decoder(request: pytest.FixtureRequest) -> Iterator[str]:
    """Every test here runs once per decoder: ``decode`` picks one by the number of values."""
    few = 10**9 if request.param == "row by row" else -1
    with mock.patch.object(_codec, "FEW", few):
        yield request.param


def _encode(codec: ViewCodec, rows: list[dict], events: list[int]) -> list[bytes]:
    columns = {f.name: pa.array([r[f.name] for r in rows], f.dtype.to_arrow()) for f in FIELDS}
    event = np.array(events, dtype=np.int64)
    created = np.full(len(rows), NO_CREATED, dtype=np.int64)
    return codec.encode(columns, event, created).to_pylist()


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(row_st, max_size=6), missing=st.lists(st.booleans(), max_size=6))
def test_round_trip(rows: list[dict], missing: list[bool]) -> None:
    codec = ViewCodec(VIEW)
    packed = _encode(codec, rows, list(range(len(rows))))
    stored = [None if i < len(missing) and missing[i] else v for i, v in enumerate(packed)]
    wanted = [f.name for f in FIELDS][::-1]  # any subset, any order
    decoded = codec.decode(stored, wanted)
    assert decoded.found.tolist() == [v is not None for v in stored]
    for name in wanted:
        col = decoded.columns[name]
        assert col.type == VIEW.field(name).dtype.to_arrow()
        expected = [r[name] if s is not None else None for r, s in zip(rows, stored, strict=True)]
        assert col.to_pylist() == expected, name
    present = [i for i, v in enumerate(stored) if v is not None]
    assert decoded.event_us[present].tolist() == present


def test_nan_and_infinity_round_trip() -> None:
    codec = ViewCodec(VIEW)
    row = dict.fromkeys(VALUES)
    row["f64"], row["f32"] = math.nan, math.inf
    out = codec.decode(_encode(codec, [row], [0]), ["f64", "f32"])
    assert math.isnan(out.columns["f64"][0].as_py())
    assert out.columns["f32"][0].as_py() == math.inf


def test_bytes_of_another_layout_are_refused() -> None:
    codec = ViewCodec(VIEW)
    with pytest.raises(OnlineStoreError, match="schema version"):
        codec.decode([b"\x00" * 5], ["i64"])


@pytest.mark.parametrize(
    ("change", "same"),
    [
        ({"schema": [*FIELDS[:-1], Field("at", Array(Int64))]}, False),  # a type changed
        ({"schema": FIELDS[1:]}, False),  # a feature removed
        ({"schema": [FIELDS[1], FIELDS[0], *FIELDS[2:]]}, False),  # order decides the bytes
        ({"entities": [Entity(name="e", join_keys=["k"], value_type=String)]}, False),  # key
        ({"ttl": None, "owner": "x", "description": "d"}, True),  # metadata only
        ({"source": ParquetSource(path="elsewhere")}, True),  # data location, same layout
    ],
)
def test_schema_version(change: dict, same: bool) -> None:
    args = {
        "name": "v",
        "entities": VIEW.entities,
        "schema": FIELDS,
        "source": VIEW.source,
        **change,
    }
    other = FeatureView(**args)
    assert (ViewCodec(other).schema_version == ViewCodec(VIEW).schema_version) is same


def test_feature_subsets_in_any_order_decode_alike_from_one_codec() -> None:
    """Unpack plans are cached per feature list: each list gets its own, right columns."""
    codec = ViewCodec(VIEW)
    rows = [
        dict.fromkeys(VALUES) | {"i64": 5, "f64": 1.5, "s": "x", "b": True},
        dict.fromkeys(VALUES),
    ]
    packed = _encode(codec, rows, [1, 2])
    stored = [packed[0], None, packed[1]]
    subsets = [
        ["f64"],  # one fixed-width feature
        ["i64", "f64"],  # two of one width
        ["f64", "i64"],  # the same features, other order
        ["s", "f64", "b", "i32"],  # variable width, a bool, two widths
        ["f64"],  # the first list again (a cache hit)
    ]
    for wanted in subsets:
        got = codec.decode(stored, wanted)
        fresh = ViewCodec(VIEW).decode(stored, wanted)
        assert list(got.columns) == wanted
        for name in wanted:
            expected = [rows[0][name], None, rows[1][name]]
            assert got.columns[name].to_pylist() == expected, (wanted, name)
            assert fresh.columns[name].equals(got.columns[name])


@pytest.mark.parametrize(
    ("min_event_us", "kept"),
    [
        (None, [True, True, True]),  # no ttl: every found row is kept
        (10, [False, True, True]),  # edge: an event exactly at the bound is kept, 1 us older not
        (12, [False, False, False]),  # every row older than the bound
    ],
)
def test_rows_older_than_the_bound_come_back_null(
    min_event_us: int | None, kept: list[bool]
) -> None:
    codec = ViewCodec(VIEW)
    rows = [dict.fromkeys(VALUES) | {"i64": i, "s": f"s{i}"} for i in range(3)]
    decoded = codec.decode(_encode(codec, rows, [9, 10, 11]), ["i64", "s", "f64"], min_event_us)
    assert decoded.columns["i64"].to_pylist() == [
        i if k else None for i, k in zip(range(3), kept, strict=True)
    ]
    assert decoded.columns["s"].to_pylist() == [
        f"s{i}" if k else None for i, k in zip(range(3), kept, strict=True)
    ]
    assert decoded.event_us.tolist() == [9, 10, 11]  # event times stay, for the response
    fresh = [True] * 3 if decoded.fresh is None else decoded.fresh.tolist()
    assert fresh == kept
    # f64 is null in every record: reported as a null of a kept row only
    null = decoded.null_in_row.get("f64")
    assert (null.tolist() if null is not None else [False] * 3) == kept
    assert "i64" not in decoded.null_in_row


@st.composite
def lookups(draw: st.DrawFn) -> tuple[list[bytes | None], int | None, list[str]]:
    """Stored values of up to 7 rows (some missing) with event times 0-20, a ttl bound
    among them (or none), and any subset of the features in any order."""
    rows = draw(st.lists(row_st, max_size=7))
    missing = draw(st.lists(st.booleans(), max_size=7))
    events = draw(st.lists(st.integers(0, 20), min_size=len(rows), max_size=len(rows)))
    packed = _encode(ViewCodec(VIEW), rows, events)
    stored = [None if i < len(missing) and missing[i] else v for i, v in enumerate(packed)]
    bound = draw(st.none() | st.integers(0, 21))
    wanted = draw(st.lists(st.sampled_from([f.name for f in FIELDS]), min_size=1, unique=True))
    return stored, bound, wanted


@settings(max_examples=150, deadline=None)
@given(lookup=lookups())
def test_both_decoders_agree(lookup: tuple[list[bytes | None], int | None, list[str]]) -> None:
    """Found, missing, event times, freshness, nulls and every column, for any subset."""
    stored, bound, wanted = lookup
    codec = ViewCodec(VIEW)
    with mock.patch.object(_codec, "FEW", 10**9):
        few = codec.decode(stored, wanted, bound)
    with mock.patch.object(_codec, "FEW", -1):
        bulk = codec.decode(stored, wanted, bound)
    assert few.found.tolist() == bulk.found.tolist()
    assert few.missing == bulk.missing
    assert few.event_us.tolist() == bulk.event_us.tolist()
    assert (None if few.fresh is None else few.fresh.tolist()) == (
        None if bulk.fresh is None else bulk.fresh.tolist()
    )
    assert {k: v.tolist() for k, v in few.null_in_row.items()} == {
        k: v.tolist() for k, v in bulk.null_in_row.items()
    }
    assert list(few.columns) == list(bulk.columns) == wanted
    for name in wanted:
        few.columns[name].validate(full=True)
        assert few.columns[name].equals(bulk.columns[name]), name
        assert few.columns[name].null_count == bulk.columns[name].null_count, name


def test_a_value_of_the_wrong_length_is_refused(decoder: str) -> None:
    """A stored value one byte short or long: the layout does not match, whichever decoder."""
    codec = ViewCodec(VIEW)
    good = _encode(codec, [dict.fromkeys(VALUES) | {"s": "abc"}], [1])[0]
    for bad in (good[:-1], good + b"x"):
        with pytest.raises(OnlineStoreError, match="schema version"):
            codec.decode([bad, good], ["i64"])


@settings(max_examples=150, deadline=None)
@given(lookup=lookups())
def test_lists_agree_with_the_arrays(
    lookup: tuple[list[bytes | None], int | None, list[str]],
) -> None:
    """``decode_lists`` holds what ``decode`` does, as Python values (timestamps as int
    microseconds), whichever decoder ``decode`` picks."""
    stored, bound, wanted = lookup
    codec = ViewCodec(VIEW)
    arrays = codec.decode(stored, wanted, bound)
    lists = codec.decode_lists(stored, wanted, bound)
    assert lists.found == arrays.found.tolist()
    assert lists.fresh == (None if arrays.fresh is None else arrays.fresh.tolist())
    assert lists.event_us == [
        int(e) if f else 0 for e, f in zip(arrays.event_us, lists.found, strict=True)
    ]
    assert list(lists.columns) == wanted
    for name in wanted:
        column = arrays.columns[name]
        if column.type == _codec.TS_TYPE:
            column = column.cast(pa.int64())
        assert lists.columns[name] == column.to_pylist(), name


def test_lists_refuse_a_value_of_the_wrong_length() -> None:
    codec = ViewCodec(VIEW)
    good = _encode(codec, [dict.fromkeys(VALUES) | {"s": "abc"}], [1])[0]
    for bad in (good[:-1], good + b"x", good[:5]):
        with pytest.raises(OnlineStoreError, match="schema version"):
            codec.decode_lists([good, bad], ["i64"])
