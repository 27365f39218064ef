"""Value types: names, Arrow mapping, and which data types a declared type accepts."""

from __future__ import annotations

import pyarrow as pa
import pytest

from featurestore.errors import DefinitionError
from featurestore.types import (
    SCALARS,
    Array,
    Float32,
    Float64,
    Int32,
    Int64,
    String,
    UnixTimestamp,
    ValueType,
    from_arrow,
    is_compatible,
    parse,
)

ALL = [*SCALARS.values(), *(Array(t) for t in SCALARS.values())]


@pytest.mark.parametrize("vtype", ALL, ids=str)
def test_name_and_arrow_type_round_trip(vtype: ValueType) -> None:
    assert parse(str(vtype)) == vtype
    assert from_arrow(vtype.to_arrow()) == vtype


@pytest.mark.parametrize(
    ("arrow", "expected"),
    [
        (pa.int8(), Int32),  # narrow ints read as Int32
        (pa.uint32(), Int64),  # uint32 does not fit Int32
        (pa.large_string(), String),  # large strings are strings
        (pa.timestamp("ns"), UnixTimestamp),  # naive, any unit
        (pa.date32(), UnixTimestamp),  # dates are timestamps at midnight
        (pa.large_list(pa.float32()), Array(Float32)),  # large lists are arrays
    ],
)
def test_from_arrow_maps_variants(arrow: pa.DataType, expected: ValueType) -> None:
    assert from_arrow(arrow) == expected


@pytest.mark.parametrize(
    ("declared", "actual", "ok"),
    [
        (Int64, Int32, True),  # widening int
        (Float64, Float32, True),  # widening float
        (Int32, Int64, False),  # never narrows
        (Float64, Int64, False),  # no int -> float guessing
        (Array(Int64), Array(Int32), True),  # widening inside arrays
        (Array(Int64), Int64, False),  # scalar is not an array
        (String, String, True),  # identity
    ],
)
def test_is_compatible(declared: ValueType, actual: ValueType, ok: bool) -> None:
    assert is_compatible(declared, actual) is ok


@pytest.mark.parametrize("text", ["int64", "Array(Array(Int64))", "Decimal", ""])
def test_parse_rejects_unknown_names_listing_allowed(text: str) -> None:
    with pytest.raises(DefinitionError, match=r"allowed: Bool, Int32|Array\(\) takes a scalar"):
        parse(text)


def test_struct_has_no_value_type() -> None:
    with pytest.raises(DefinitionError, match="has no featurestore value type"):
        from_arrow(pa.struct([("a", pa.int64())]))
