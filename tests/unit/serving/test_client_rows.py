"""FeatureClient's shortcut for plain int and str entity rows writes exactly the columns the
Arrow path writes, and leaves every other input to the Arrow path."""

from __future__ import annotations

from typing import Any

import pytest

from featurestore._proto import serving_pb2 as pb
from featurestore.online._entity_rows import as_table
from featurestore.serving import codec
from featurestore.serving.client import _encode_plain_rows


def via_arrow(rows: Any) -> pb.GetOnlineFeaturesRequest:
    request = pb.GetOnlineFeaturesRequest()
    table = as_table(rows, "entity_rows")
    codec.encode_table(zip(table.column_names, table.columns, strict=True), request.entities)
    return request


@pytest.mark.parametrize(
    "rows",
    [
        {"driver_id": [1001]},  # one int key
        {"driver_id": [2**63 - 1, -(2**63), 0]},  # the int64 limits
        {"driver_id": [1, 2], "city": ["é", ""]},  # two keys: int and str (unicode, empty)
        ({"driver_id": 1}, {"driver_id": 2}),  # a tuple of row dicts
        [{"driver_id": 1, "city": "a"}, {"city": "b", "driver_id": 2}],  # keys in any order
        {"driver_id": (3, 4)},  # a tuple column
    ],
)
def test_plain_rows_encode_as_arrow_would(rows: Any) -> None:
    request = pb.GetOnlineFeaturesRequest()
    assert _encode_plain_rows(rows, request.entities)
    assert request == via_arrow(rows)


@pytest.mark.parametrize(
    "rows",
    [
        {"driver_id": [True, False]},  # bools are ints to Python, Bool to Arrow
        {"driver_id": [1, None]},  # a null
        {"driver_id": [1, "a"]},  # mixed types: Arrow's error
        {"driver_id": [2**63]},  # beyond int64: Arrow's uint64, then the codec's error
        {"driver_id": [1.5]},  # floats
        {"driver_id": [1, 2], "city": ["a"]},  # unequal lengths: Arrow's error
        {"driver_id": []},  # no rows: Arrow's null type
        {},  # no columns
        [{"driver_id": 1}, {"driver_id": 2, "city": "b"}],  # rows with different keys
        [],  # no rows
    ],
)
def test_other_rows_are_left_to_arrow(rows: Any) -> None:
    request = pb.GetOnlineFeaturesRequest()
    assert not _encode_plain_rows(rows, request.entities)
    assert not request.entities
