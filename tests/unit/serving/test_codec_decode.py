"""``response_from_proto`` decodes a reply as its previous, column-by-column version did."""

from __future__ import annotations

from itertools import accumulate
from typing import Any
from unittest import mock

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from featurestore._proto import serving_pb2 as pb
from featurestore.errors import RequestError
from featurestore.online.response import FeatureColumn, OnlineResponse
from featurestore.serving import codec


def reference_response_from_proto(msg: pb.GetOnlineFeaturesResponse) -> OnlineResponse:
    """``codec.response_from_proto`` before it gathered columns per kind (kept verbatim)."""
    entities = codec.decode_table(msg.entities)
    features = []
    last: tuple[pb.ValueColumn, pa.Array] | None = None  # a view's features share one
    statuses: dict[bytes, pa.Array] = {}  # equal status bytes share one array
    for f in msg.features:
        if last is not None and last[0] == f.event_timestamps:
            event_timestamps = last[1]
        else:
            event_timestamps = codec.decode_column(f.event_timestamps, f.name)
            last = (f.event_timestamps, event_timestamps)
        status = statuses.get(f.statuses)
        if status is None:
            codes = np.frombuffer(f.statuses, np.uint8)
            status = pa.Array.from_buffers(pa.uint8(), len(codes), [None, pa.py_buffer(codes)])
            statuses[f.statuses] = status
        features.append(
            FeatureColumn(
                name=f.name,
                values=codec.decode_column(f.values, f.name),
                statuses=status,
                event_timestamps=event_timestamps,
            )
        )
    return OnlineResponse(entities=entities, features=tuple(features))


_SCALARS: dict[str, st.SearchStrategy[Any]] = {
    "bool_values": st.booleans(),
    "int32_values": st.integers(-(2**31), 2**31 - 1),
    "int64_values": st.integers(-(2**63), 2**63 - 1),
    "float_values": st.floats(width=32),  # NaN and infinities included
    "double_values": st.floats(),
    "string_values": st.text(max_size=4),  # non-ASCII too
    "bytes_values": st.binary(max_size=4),
    "timestamp_values": st.integers(-(2**63), 2**63 - 1),
}
_LIST_ITEMS = [k for k in _SCALARS if k != "timestamp_values"]  # to_pylist needs datetimes


def _values_of(col: pb.ValueColumn, kind: str) -> Any:
    field = getattr(col, kind)
    return field.micros if kind == "timestamp_values" else field.values


@st.composite
def value_columns(
    draw: st.DrawFn, rows: int, kinds: list[str], *, bad: bool = False
) -> pb.ValueColumn:
    """A column of ``rows`` values, nulls or not; with ``bad``, perhaps a malformed one."""
    col = pb.ValueColumn()
    kind = draw(st.sampled_from([*kinds, "none"] if bad else kinds))
    if kind == "none":
        return col  # no kind set
    if kind == "list_values":
        lengths = draw(st.lists(st.integers(0, 3), min_size=rows, max_size=rows))
        offsets = list(accumulate(lengths, initial=0))
        items = draw(value_columns(offsets[-1], _LIST_ITEMS))
        if bad and draw(st.booleans()):
            offsets = draw(st.lists(st.integers(-1, 4), max_size=rows + 1))
        col.list_values.offsets.extend(offsets)
        col.list_values.items.CopyFrom(items)
    else:
        getattr(col, kind).SetInParent()  # an empty column keeps its kind
        _values_of(col, kind).extend(draw(st.lists(_SCALARS[kind], min_size=rows, max_size=rows)))
    nulls = draw(st.sampled_from(["none", "some", "wrong"] if bad else ["none", "some"]))
    if nulls != "none":
        flags = rows + (
            draw(st.sampled_from([-1, 1]) if rows else st.just(1)) if nulls == "wrong" else 0
        )
        col.nulls.extend(draw(st.lists(st.booleans(), min_size=flags, max_size=flags)))
    return col


@st.composite
def replies(draw: st.DrawFn) -> pb.GetOnlineFeaturesResponse:
    """Entity columns, then views whose features share (or, now and then, do not share) one
    event-time column; one reply in eight may be malformed somewhere."""
    bad = draw(st.integers(0, 7)) == 0
    rows = draw(st.integers(0, 6))
    msg = pb.GetOnlineFeaturesResponse(registry_version="v")
    kinds = [*_SCALARS, "list_values"]
    names = draw(st.lists(st.sampled_from(["driver_id", "zone", ""] if bad else ["a", "b", "c"])))
    for name in names if bad else sorted(set(names)):
        length = rows + (draw(st.sampled_from([0, 0, 1])) if bad else 0)
        column = draw(value_columns(length, kinds, bad=bad))
        msg.entities.add(name=name).column.CopyFrom(column)
    for view in range(draw(st.integers(0, 3))):
        stamps = draw(value_columns(rows, ["timestamp_values"], bad=bad))
        for i in range(draw(st.integers(0, 4))):
            f = msg.features.add(name=f"v{view}_f{i}")
            f.values.CopyFrom(draw(value_columns(rows, kinds, bad=bad)))
            f.statuses = bytes(draw(st.lists(st.integers(0, 3), min_size=rows, max_size=rows)))
            own = draw(st.integers(0, 5)) == 0  # a feature with its own event times
            f.event_timestamps.CopyFrom(
                draw(value_columns(rows, ["timestamp_values"])) if own else stamps
            )
    return pb.GetOnlineFeaturesResponse.FromString(msg.SerializeToString())


def comparable(array: pa.Array) -> list[str]:
    """Values as text: NaN equals NaN, -0.0 differs from 0.0, timestamps as micros (any)."""
    if pa.types.is_timestamp(array.type):
        array = array.view(pa.int64())
    return [repr(v) for v in array.to_pylist()]


def assert_same_array(got: pa.Array, want: pa.Array) -> None:
    assert isinstance(got, pa.Array)
    assert got.type == want.type
    assert len(got) == len(want)
    assert got.null_count == want.null_count
    got.validate(full=True)
    assert comparable(got) == comparable(want)


def assert_same_response(got: OnlineResponse, want: OnlineResponse) -> None:
    assert got.entities.schema == want.entities.schema
    assert got.entities.num_rows == want.entities.num_rows
    for g, w in zip(got.entities.columns, want.entities.columns, strict=True):
        assert g.num_chunks == w.num_chunks == 1
        assert_same_array(g.chunk(0), w.chunk(0))
    assert [f.name for f in got.features] == [f.name for f in want.features]
    for g, w in zip(got.features, want.features, strict=True):
        assert_same_array(g.values, w.values)
        assert_same_array(g.statuses, w.statuses)
        assert_same_array(g.event_timestamps, w.event_timestamps)
    # the same arrays are shared: event times of consecutive features, equal statuses
    for attr in ("event_timestamps", "statuses"):
        got_ids = [id(getattr(f, attr)) for f in got.features]
        want_ids = [id(getattr(f, attr)) for f in want.features]
        assert [got_ids.index(i) for i in got_ids] == [want_ids.index(i) for i in want_ids]


def outcome(msg: pb.GetOnlineFeaturesResponse, decode: Any) -> OnlineResponse | str:
    try:
        return decode(msg)
    except RequestError as exc:
        return f"RequestError: {exc}"


@settings(max_examples=400, deadline=None)
@given(replies(), st.sampled_from([(codec._OFFSETS_MAX, codec._MANY), (3, codec._MANY), (9, 2)]))
def test_decoding_matches_the_column_by_column_version(
    msg: pb.GetOnlineFeaturesResponse, limits: tuple[int, int]
) -> None:
    want = outcome(msg, reference_response_from_proto)
    # small limits send strings and bytes through the >2 GiB path (one pa.array per
    # column) and longer columns through decode_column
    offsets_max, many = limits
    with mock.patch.multiple(codec, _OFFSETS_MAX=offsets_max, _MANY=many):
        got = outcome(msg, codec.response_from_proto)
    if isinstance(want, str) or isinstance(got, str):
        assert got == want
        return
    assert_same_response(got, want)
    for f, col in zip(got.features, msg.features, strict=True):  # and as pa.array builds it
        kind = col.values.WhichOneof("values")
        if kind in _SCALARS:
            values = list(_values_of(col.values, kind))
            nulls = list(col.values.nulls) or [False] * len(values)
            expected = [None if null else v for v, null in zip(values, nulls, strict=True)]
            assert_same_array(f.values, pa.array(expected, codec._KINDS[kind][0]))


def _column(kind: str, values: list[Any], nulls: list[bool] | None = None) -> pb.ValueColumn:
    col = pb.ValueColumn()
    getattr(col, kind).SetInParent()
    _values_of(col, kind).extend(values)
    col.nulls.extend(nulls or [])
    return col


def _reply(
    entities: dict[str, pb.ValueColumn], *features: tuple[str, pb.ValueColumn, pb.ValueColumn]
) -> pb.GetOnlineFeaturesResponse:
    msg = pb.GetOnlineFeaturesResponse()
    for name, col in entities.items():
        msg.entities.add(name=name).column.CopyFrom(col)
    for name, values, stamps in features:
        f = msg.features.add(name=name, statuses=bytes(len(_values_of(values, "double_values"))))
        f.values.CopyFrom(values)
        f.event_timestamps.CopyFrom(stamps)
    return msg


_IDS = _column("int64_values", [1, 2])
_STAMPS = _column("timestamp_values", [10, 0], [False, True])


@pytest.mark.parametrize(
    ("msg", "message"),
    [
        (
            _reply({"a": _IDS, "b": _column("int64_values", [1])}),
            r"entity columns must all have the same length, got \{'a': 2, 'b': 1\}",
        ),
        (_reply({"a": _IDS, "": _IDS}), "entity column names must be non-empty and unique"),
        (_reply({"a": pb.ValueColumn()}), "column 'a' has no values set"),
        (
            _reply({"a": _IDS}, ("x", _column("double_values", [1.0, 2.0], [True]), _STAMPS)),
            "column 'x' has 2 values but 1 null flags",
        ),
        (
            _reply(
                {"a": _IDS},
                (
                    "x",
                    _column("double_values", [1.0, 2.0]),
                    _column("timestamp_values", [1], [True, False]),
                ),
            ),
            "column 'x' has 1 values but 2 null flags",
        ),
    ],
)
def test_malformed_replies_raise_the_request_errors_they_did(
    msg: pb.GetOnlineFeaturesResponse, message: str
) -> None:
    with pytest.raises(RequestError, match=message):
        reference_response_from_proto(msg)
    with pytest.raises(RequestError, match=message):
        codec.response_from_proto(msg)


def test_features_of_a_view_share_its_event_times_and_null_rows_stay_null() -> None:
    other = _column("timestamp_values", [20, 30])
    msg = _reply(
        {"a": _IDS},
        ("x", _column("double_values", [1.5, 0.0], [False, True]), _STAMPS),
        ("y", _column("double_values", [2.5, 0.0], [False, True]), _STAMPS),
        ("z", _column("double_values", [3.5, 4.5]), other),
    )
    got = codec.response_from_proto(msg)
    x, y, z = got.features
    assert x.event_timestamps is y.event_timestamps
    assert x.event_timestamps.view(pa.int64()).to_pylist() == [10, None]
    assert z.event_timestamps.view(pa.int64()).to_pylist() == [20, 30]
    assert x.values.to_pylist() == [1.5, None]
    assert y.values.to_pylist() == [2.5, None]
    assert z.values.to_pylist() == [3.5, 4.5]
    assert z.values.null_count == 0
    assert_same_response(got, reference_response_from_proto(msg))
