"""Entity rows: accepted shapes, and errors that name the column and row."""

from __future__ import annotations

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from featurestore.errors import RequestError
from featurestore.online._entity_rows import as_table, to_columns, typed_column
from featurestore.types import Bool, Bytes, Float64, Int32, Int64, String, UnixTimestamp


@pytest.mark.parametrize(
    "rows",
    [
        [{"m": 1, "x": "a"}, {"m": 2, "x": "b"}],  # list of dicts
        {"m": [1, 2], "x": ["a", "b"]},  # dict of columns
        pa.table({"m": [1, 2], "x": ["a", "b"]}),  # Arrow
        pl.DataFrame({"m": [1, 2], "x": ["a", "b"]}),  # polars
        pd.DataFrame({"m": [1, 2], "x": ["a", "b"]}),  # pandas
    ],
)
def test_shapes(rows) -> None:
    columns, n = to_columns(rows)
    assert n == 2
    assert typed_column("m", columns["m"], Int64, "entity key").to_pylist() == [1, 2]
    assert as_table(rows).num_rows == 2


def test_ragged_rows_and_bad_shapes() -> None:
    columns, n = to_columns([{"m": 1}, {"x": 2}])
    assert n == 2 and columns == {"m": [1, None], "x": [None, 2]}
    with pytest.raises(RequestError, match="list of dicts"):
        to_columns(42)
    with pytest.raises(RequestError, match="row 1"):
        to_columns([{"m": 1}, 5])


@pytest.mark.parametrize(
    ("values", "dtype", "message"),
    [
        ([1, None], Int64, "row 1"),  # a null key names the row
        (["1"], Int64, "Int64"),  # a string is not an integer
        ([True], Int64, "Int64"),  # nor is a bool
        ([2**40], Int32, "fit"),  # overflow of a narrower key
        ([1], String, "String"),  # an integer is not a string
        (["a"], Bytes, "Bytes"),  # str is not bytes
        ([1.5], Bool, "Bool"),  # a float is not a bool
        ([1, "a"], Int64, "Int64"),  # mixed values
        ([1], UnixTimestamp, "UnixTimestamp"),  # an integer is not a time
    ],
)
def test_typed_column_errors(values, dtype, message) -> None:
    with pytest.raises(RequestError, match=message):
        typed_column("k", values, dtype, "entity key")


def test_typed_column_widens() -> None:
    assert typed_column("k", [1, 2], Float64, "request field").type == pa.float64()
    assert typed_column("k", pa.array([3], pa.int8()), Int64, "entity key").to_pylist() == [3]


def test_as_table_names_what_is_wrong() -> None:
    with pytest.raises(RequestError, match=r"^df: cannot read it as columns of one type"):
        as_table({"m": [1, "two"]}, "df")
    with pytest.raises(RequestError, match=r"^entity_df is int; expected a pyarrow Table"):
        as_table(42, "entity_df")
