"""The packed order's time bounds from Parquet row-group statistics, and when there are none."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from featurestore.materialize.latest import statistics_bounds

T = datetime(2026, 1, 1, tzinfo=UTC)
T_US = int(T.timestamp()) * 1_000_000


def _write(path: Path, table: pa.Table, **options) -> Path:
    pq.write_table(table, path, **options)
    return path


def _times(micros: list[int | None], unit: str = "us") -> pa.Array:
    scale = {"s": 1_000_000, "ms": 1000, "us": 1}.get(unit)
    raw = [None if m is None else (m * 1000 if scale is None else m // scale) for m in micros]
    return pa.array(raw, pa.int64()).cast(pa.timestamp(unit, "UTC"))


def _dataset(*paths: Path) -> ds.Dataset:
    return ds.dataset([str(p) for p in paths], format="parquet")


def test_bounds_span_every_row_group_of_every_file(tmp_path) -> None:
    first = pa.table({"ts": _times([T_US + 5, T_US + 9, T_US + 7]), "c": _times([3, None, 4])})
    second = pa.table({"ts": _times([T_US + 2]), "c": _times([None])})  # created all null
    paths = [
        _write(tmp_path / "a.parquet", first, row_group_size=2),
        _write(tmp_path / "b.parquet", second),
    ]
    assert statistics_bounds(_dataset(*paths), "ts", "c") == (T_US + 2, T_US + 9, 3, 4)
    assert statistics_bounds(_dataset(*paths), "ts", None) == (T_US + 2, T_US + 9, None, None)


def test_other_units_become_microseconds_covering_every_row(tmp_path) -> None:
    table = pa.table(
        {
            "s": _times([T_US, T_US + 2_000_000], "s"),
            "ns": pa.array([T_US * 1000 + 1, T_US * 1000 + 2_999], pa.timestamp("ns", "UTC")),
        }
    )
    dataset = _dataset(_write(tmp_path / "a.parquet", table))
    # nanoseconds widen to the enclosing microseconds: epoch_us truncates them
    assert statistics_bounds(dataset, "ns", "s") == (T_US, T_US + 3, T_US, T_US + 2_000_000)


def test_no_bounds_without_statistics_or_a_timestamp_column(tmp_path) -> None:
    table = pa.table({"ts": _times([T_US]), "day": pa.array(["2026-01-01"])})
    plain = _write(tmp_path / "a.parquet", table)
    bare = _write(tmp_path / "b.parquet", table, write_statistics=False)
    missing = _write(tmp_path / "c.parquet", table.drop_columns(["ts"]))  # e.g. a hive column
    assert statistics_bounds(_dataset(plain), "ts", None) is not None
    assert statistics_bounds(_dataset(plain, bare), "ts", None) is None
    assert statistics_bounds(_dataset(plain, missing), "ts", None) is None
    assert statistics_bounds(_dataset(plain), "day", None) is None  # a string
    assert statistics_bounds(_dataset(plain), "ts", "day") is None
