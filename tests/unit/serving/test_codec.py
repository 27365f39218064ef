"""Arrow ⇄ wire columns: every type, nulls, lists, empty columns, malformed input."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from featurestore._proto import serving_pb2 as pb
from featurestore.errors import RequestError
from featurestore.online.response import FeatureColumn, OnlineResponse
from featurestore.serving import codec

TS = pa.timestamp("us", tz="UTC")
T0 = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)


def roundtrip(array: pa.Array) -> pa.Array:
    col = pb.ValueColumn()
    codec.encode_column(array, col, "c")
    wire = pb.ValueColumn.FromString(col.SerializeToString())
    return codec.decode_column(wire, "c")


@pytest.mark.parametrize(
    ("array", "expected_type"),
    [
        (pa.array([True, None, False]), pa.bool_()),  # bool with a null
        (pa.array([1, None, -(2**31)], pa.int32()), pa.int32()),  # int32 minimum
        (pa.array([2**62, None, -1], pa.int64()), pa.int64()),  # beyond 32 bits
        (pa.array([1, 2], pa.int8()), pa.int32()),  # narrow ints widen to Int32
        (pa.array([2**32 - 1], pa.uint32()), pa.int64()),  # uint32 needs Int64
        (pa.array([1.5, None], pa.float32()), pa.float32()),  # float32 stays float32
        (pa.array([1e300, float("inf")], pa.float64()), pa.float64()),  # large doubles
        (pa.array(["é", None, ""]), pa.string()),  # unicode, null, empty string
        (pa.array(["a"], pa.large_string()), pa.string()),  # large_string narrows
        (pa.array([b"\x00\xff", None]), pa.binary()),  # arbitrary bytes
        (pa.array([T0, None], TS), TS),  # microseconds survive
        (pa.array([[1, 2], None, [], [3]], pa.list_(pa.int64())), pa.list_(pa.int64())),
        (pa.array([["x", None]], pa.list_(pa.string())), pa.list_(pa.string())),  # null item
        (pa.array([], pa.float64()), pa.float64()),  # empty column keeps its type
        (pa.array([0.0, 0.0]), pa.float64()),  # only zeros (proto3 defaults) keeps its type
        (pa.array([None], pa.int64()), pa.int64()),  # only a null keeps its type
        (pa.array([], pa.list_(pa.int32())), pa.list_(pa.int32())),  # empty list column
    ],
)
def test_roundtrip_keeps_values_and_nulls(array: pa.Array, expected_type: pa.DataType) -> None:
    out = roundtrip(array)
    assert out.type == expected_type
    assert out.to_pylist() == array.to_pylist()


_SCALARS = [
    (pa.bool_(), "bool_values", lambda i: i % 2 == 0, False),
    (pa.int32(), "int32_values", lambda i: i - 5, 0),
    (pa.int64(), "int64_values", lambda i: 2**40 + i, 0),
    (pa.float32(), "float_values", lambda i: i + 0.5, 0.0),
    (pa.float64(), "double_values", lambda i: i / 3, 0.0),
    (pa.string(), "string_values", lambda i: f"s{i}", ""),
    (pa.binary(), "bytes_values", lambda i: bytes([i % 256]), b""),
    (TS, "timestamp_values", lambda i: 1_767_225_600_000_000 + i, 0),
]


@pytest.mark.parametrize("rows", [3, 1000])  # few rows go through Python lists, more numpy
@pytest.mark.parametrize(("arrow_type", "kind", "value", "default"), _SCALARS)
def test_sliced_columns_with_nulls_send_a_placeholder_per_null_row(
    arrow_type: pa.DataType, kind: str, value: Any, default: Any, rows: int
) -> None:
    full = [None if i % 3 == 1 else value(i) for i in range(rows + 2)]
    array = pa.array(full, arrow_type).slice(1, rows)  # an offset into shared buffers
    col = pb.ValueColumn()
    codec.encode_column(array, col, "c")
    field = getattr(col, kind)
    sent = list(field.micros if kind == "timestamp_values" else field.values)
    want = full[1 : rows + 1]
    assert list(col.nulls) == [v is None for v in want]
    assert sent == [default if v is None else v for v in want]
    assert codec.decode_column(col, "c").equals(array)


@pytest.mark.parametrize("rows", [3, 1000])
@pytest.mark.parametrize(("arrow_type", "kind", "value", "default"), _SCALARS)
def test_sliced_columns_without_nulls_send_their_values(
    arrow_type: pa.DataType, kind: str, value: Any, default: Any, rows: int
) -> None:
    array = pa.array([value(i) for i in range(rows + 2)], arrow_type).slice(2)
    col = pb.ValueColumn()
    codec.encode_column(array, col, "c")
    field = getattr(col, kind)
    sent = list(field.micros if kind == "timestamp_values" else field.values)
    assert not col.nulls
    assert sent == [value(i) for i in range(2, rows + 2)]
    assert codec.decode_column(col, "c").equals(array)


def test_naive_timestamps_and_dates_are_read_as_utc() -> None:
    naive = pa.array([datetime(2026, 1, 2, 3, 4, 5)], pa.timestamp("ns"))
    assert roundtrip(naive).to_pylist() == [datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)]
    assert roundtrip(pa.array([date(2026, 1, 2)])).to_pylist() == [datetime(2026, 1, 2, tzinfo=UTC)]


def test_chunked_arrays_are_combined() -> None:
    chunked = pa.chunked_array([[1, 2], [3]], pa.int64())
    col = pb.ValueColumn()
    codec.encode_column(chunked, col, "c")
    assert codec.decode_column(col, "c").to_pylist() == [1, 2, 3]


@pytest.mark.parametrize(
    "array",
    [
        pa.array([{"a": 1}]),  # a struct
        pa.array([[{"a": 1}]]),  # a list of structs, after a list of ints was sent
    ],
)
def test_unsupported_arrow_type_names_the_column(array: pa.Array) -> None:
    codec.encode_column(pa.array([[1]]), pb.ValueColumn(), "ints")
    with pytest.raises(RequestError, match=r"column 'weird'.*supported"):
        codec.encode_column(array, pb.ValueColumn(), "weird")


def test_uint64_too_large_is_refused_not_wrapped() -> None:
    with pytest.raises(RequestError, match=r"column 'k': cannot send uint64"):
        codec.encode_column(pa.array([2**64 - 1], pa.uint64()), pb.ValueColumn(), "k")


@pytest.mark.parametrize(
    ("column", "message"),
    [
        (pb.ValueColumn(), "has no values set"),  # no kind: type unknown
        (
            pb.ValueColumn(int64_values=pb.Int64Values(values=[1, 2]), nulls=[True]),
            "2 values but 1 null flags",
        ),  # null flags must match the length
        (
            pb.ValueColumn(
                list_values=pb.ListValues(
                    offsets=[0, 3], items=pb.ValueColumn(int64_values=pb.Int64Values(values=[1]))
                )
            ),
            "offsets must start at 0",
        ),  # offsets past the items
        (
            pb.ValueColumn(
                list_values=pb.ListValues(
                    offsets=[0, 2, 1, 2],
                    items=pb.ValueColumn(int64_values=pb.Int64Values(values=[1, 2])),
                )
            ),
            "never decrease",
        ),  # decreasing offsets
        (
            pb.ValueColumn(
                list_values=pb.ListValues(
                    items=pb.ValueColumn(int64_values=pb.Int64Values(values=[]))
                )
            ),
            "offsets must start at 0",
        ),  # no offsets at all (needs at least [0])
    ],
)
def test_malformed_columns_are_request_errors(column: pb.ValueColumn, message: str) -> None:
    with pytest.raises(RequestError, match=message):
        codec.decode_column(column, "driver_id")


@pytest.mark.parametrize(
    ("names", "lengths", "message"),
    [
        (["a", "a"], [1, 1], "unique"),  # duplicate names
        (["", "b"], [1, 1], "non-empty"),  # empty name
        (["a", "b"], [1, 2], "same length"),  # ragged columns
    ],
)
@pytest.mark.parametrize("decode", [codec.decode_table, codec.decode_rows])
def test_decoding_rejects_bad_column_sets(
    names: list[str], lengths: list[int], message: str, decode: Any
) -> None:
    cols = [
        pb.NamedColumn(name=n, column=pb.ValueColumn(int64_values=pb.Int64Values(values=[0] * k)))
        for n, k in zip(names, lengths, strict=True)
    ]
    with pytest.raises(RequestError, match=message):
        decode(cols)


def named(name: str, array: pa.Array) -> pb.NamedColumn:
    out = pb.NamedColumn(name=name)
    codec.encode_column(array, out.column, name)
    return out


def test_decode_rows_gives_plain_lists_where_python_holds_the_values_exactly() -> None:
    rows = codec.decode_rows(
        [
            named("i64", pa.array([2**62, -1], pa.int64())),
            named("i32", pa.array([1, 2], pa.int32())),
            named("s", pa.array(["é", ""])),
            named("b", pa.array([b"\x00", b""])),
            named("with_null", pa.array([1, None], pa.int64())),  # a null: stays Arrow
            named("f", pa.array([1.5, 2.0])),  # floats: Arrow (the store casts by type)
            named("t", pa.array([T0, T0], TS)),  # timestamps: Arrow, not micros as ints
        ]
    )
    assert rows["i64"] == [2**62, -1]
    assert rows["i32"] == [1, 2]
    assert rows["s"] == ["é", ""]
    assert rows["b"] == [b"\x00", b""]
    assert rows["with_null"] == pa.array([1, None], pa.int64())
    assert rows["f"] == pa.array([1.5, 2.0])
    assert rows["t"] == pa.array([T0, T0], TS)


def test_online_response_roundtrip() -> None:
    response = OnlineResponse(
        entities=pa.table({"driver_id": pa.array([1, 2, 3], pa.int64())}),
        features=(
            FeatureColumn(
                "conv_rate",
                pa.array([0.5, None, None], pa.float64()),
                pa.array([0, 1, 2], pa.uint8()),
                pa.array([T0, T0, None], TS),
            ),
            FeatureColumn(
                "tags",
                pa.array([["a"], None, None], pa.list_(pa.string())),
                pa.array([0, 3, 2], pa.uint8()),
                pa.array([T0, T0, None], TS),
            ),
        ),
    )
    wire = codec.response_to_proto(response, "abc")
    back = codec.response_from_proto(
        pb.GetOnlineFeaturesResponse.FromString(wire.SerializeToString())
    )
    assert wire.registry_version == "abc"
    assert back.entities.equals(response.entities)
    for got, want in zip(back.features, response.features, strict=True):
        assert got.name == want.name
        assert got.values.equals(want.values)
        assert got.statuses.equals(want.statuses)
        assert got.event_timestamps.equals(want.event_timestamps)


# Hypothesis: any int64/float/string column with nulls comes back equal.
_values = st.one_of(
    st.lists(st.none() | st.integers(-(2**63), 2**63 - 1)).map(lambda v: pa.array(v, pa.int64())),
    st.lists(st.none() | st.floats(allow_nan=False)).map(lambda v: pa.array(v, pa.float64())),
    st.lists(st.none() | st.text()).map(lambda v: pa.array(v, pa.string())),
    st.lists(st.none() | st.lists(st.none() | st.integers(-5, 5), max_size=4)).map(
        lambda v: pa.array(v, pa.list_(pa.int64()))
    ),
)


@given(_values)
def test_roundtrip_matches_input(array: pa.Array) -> None:
    assert roundtrip(array).to_pylist() == array.to_pylist()
