"""Lineage facts: source file stats and table fingerprints."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime

import fsspec
import hypothesis.strategies as st
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import given, settings
from lifecycle_support import Repo, write_activity

from featurestore.errors import SourceDataError
from featurestore.lifecycle.lineage import source_files, table_fingerprint

TABLE = pa.table(
    {
        "i": pa.array([1, None, 3], pa.int64()),
        "s": pa.array(["x", None, "z"]),
        "ts": pa.array([datetime(2026, 1, 1, tzinfo=UTC), None, None], pa.timestamp("us", "UTC")),
        "d": pa.array([date(2026, 1, 1), None, None]),
        "f": pa.array([1.5, None, 2.0], pa.float32()),
        "b": pa.array([True, None, False]),
        "l": pa.array([[1, 2], None, []], pa.list_(pa.int64())),
    }
)


def test_fingerprint_ignores_chunking() -> None:
    rechunked = pa.concat_tables([TABLE.slice(0, 1), TABLE.slice(1, 1), TABLE.slice(2)])
    assert rechunked.column(0).num_chunks == 3
    assert table_fingerprint(rechunked) == table_fingerprint(TABLE)


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t.set_column(0, "i", pa.array([1, 0, 3], pa.int64())),  # null -> 0
        lambda t: t.set_column(1, "s", pa.array(["x", "", "z"])),  # null -> ""
        lambda t: t.set_column(5, "b", pa.array([True, False, False])),  # null -> False
        lambda t: t.set_column(0, "i", pa.array([1, None, 3], pa.int32())),  # type only
        lambda t: t.rename_columns(["j", *t.column_names[1:]]),  # name only
        lambda t: t.select([1, 0, 2, 3, 4, 5, 6]),  # column order
        lambda t: t.slice(0, 2),  # a row fewer
        lambda t: t.take([2, 1, 0]),  # row order
        lambda t: t.set_column(6, "l", pa.array([[2, 1], None, []], pa.list_(pa.int64()))),
    ],
)
def test_fingerprint_sees_every_difference(change: object) -> None:
    assert table_fingerprint(change(TABLE)) != table_fingerprint(TABLE)  # type: ignore[operator]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.integers(-3, 3)), max_size=6),
    st.lists(st.one_of(st.none(), st.integers(-3, 3)), max_size=6),
)
def test_fingerprint_equal_exactly_when_values_equal(a: list, b: list) -> None:
    # reference: plain Python list equality (None is a null, distinct from every number)
    ta, tb = pa.table({"x": pa.array(a, pa.int64())}), pa.table({"x": pa.array(b, pa.int64())})
    assert (table_fingerprint(ta) == table_fingerprint(tb)) == (a == b)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.text(max_size=3)), max_size=6),
    st.lists(st.one_of(st.none(), st.text(max_size=3)), max_size=6),
    st.integers(0, 3),
)
def test_string_fingerprint_equal_exactly_when_values_equal(a: list, b: list, cut: int) -> None:
    # reference: plain list equality; a sliced array (non-zero offset) hashes like a fresh one
    sliced = pa.array(["pad"] * cut + a, pa.string()).slice(cut)
    ta, tb = pa.table({"x": sliced}), pa.table({"x": pa.array(b, pa.string())})
    assert (table_fingerprint(ta) == table_fingerprint(tb)) == (a == b)


def test_source_files_of_a_directory(repo: Repo) -> None:
    second = write_activity(repo.path, rows=3, name="part-1.parquet")
    files = source_files(repo.store, "data/activity")
    assert [os.path.basename(f.path) for f in files] == ["part-0.parquet", "part-1.parquet"]
    assert files[1].path == "data/activity/part-1.parquet"  # inside the repo: relative
    assert files[1].size == second.stat().st_size
    assert files[1].mtime == datetime.fromtimestamp(second.stat().st_mtime, UTC)
    assert files[1].etag == ""


def test_source_files_of_a_glob_and_a_single_file(repo: Repo) -> None:
    write_activity(repo.path, rows=3, name="part-1.parquet")
    globbed = source_files(repo.store, "data/activity/*-1.parquet")
    assert [os.path.basename(f.path) for f in globbed] == ["part-1.parquet"]
    single = source_files(repo.store, "data/activity/part-0.parquet")
    assert [os.path.basename(f.path) for f in single] == ["part-0.parquet"]


def test_source_files_on_another_filesystem(repo: Repo) -> None:
    fs = fsspec.filesystem("memory")
    with fs.open("/lineage-test/activity/part-0.parquet", "wb") as f:
        pl.DataFrame({"member_id": [1]}).write_parquet(f)
    files = source_files(repo.store, "memory://lineage-test/activity")
    assert [f.path for f in files] == ["memory:///lineage-test/activity/part-0.parquet"]
    assert files[0].size > 0
    fs.rm("/lineage-test", recursive=True)


def test_source_files_of_a_missing_path_names_it(repo: Repo) -> None:
    with pytest.raises(SourceDataError, match="data/nothing"):
        source_files(repo.store, "data/nothing", view="activity")
