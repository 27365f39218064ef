"""Offline data through fsspec: local paths, file:// and memory:// URLs, globs, directories,
hive partitions; and reads pruned by time."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from offline_support import Offline, at, entity_rows

from featurestore.offline.source import list_files, open_dataset

ROWS = {"member_id": [7, 8], "event_timestamp": [at(1), at(1)], "plays": [1, 2]}


@pytest.fixture
def memory_root() -> Iterator[str]:
    """A fresh folder on fsspec's in-memory filesystem, removed afterwards."""
    root = f"memory://fs-test-{uuid.uuid4().hex[:8]}"
    yield root
    fs = fsspec.filesystem("memory")
    if fs.exists(root):
        fs.rm(root, recursive=True)


def write_memory(url: str, data: dict) -> None:
    with fsspec.open(url, "wb") as handle:
        pq.write_table(pa.table(data), handle)


def plays(offline: Offline, path: str) -> list:
    view = offline.view("act", path)
    frame = offline.frame([view], entity_rows([7, 8], [at(2), at(2)]), ["act:plays"])
    return frame["plays"].to_list()


def test_relative_path_is_under_the_repo(offline: Offline) -> None:
    offline.write("data/f.parquet", ROWS)
    assert plays(offline, "data/f.parquet") == [1, 2]


def test_file_url(offline: Offline) -> None:
    path = offline.write("f.parquet", ROWS)
    assert plays(offline, f"file://{path}") == [1, 2]


def test_memory_url_file_directory_and_glob(offline: Offline, memory_root: str) -> None:
    write_memory(f"{memory_root}/src/a.parquet", {**ROWS, "plays": [1, 2]})
    write_memory(
        f"{memory_root}/src/b.parquet",
        {"member_id": [7], "event_timestamp": [at(1.5)], "plays": [3]},
    )
    assert plays(offline, f"{memory_root}/src/a.parquet") == [1, 2]
    assert plays(offline, f"{memory_root}/src") == [3, 2]
    assert plays(offline, f"{memory_root}/src/*.parquet") == [3, 2]


def test_local_glob_and_directory_skip_hidden_files(offline: Offline) -> None:
    offline.write("src/a.parquet", ROWS)
    offline.write("src/b.parquet", {"member_id": [8], "event_timestamp": [at(1.5)], "plays": [5]})
    (offline.root / "src" / "_SUCCESS").write_text("")  # written by Spark: ignored
    assert plays(offline, "src") == [1, 5]
    assert plays(offline, "src/a*.parquet") == [1, 2]


def test_hive_partitions(offline: Offline) -> None:
    # the partition key is a column: here it is the join key itself
    offline.write("hive/member_id=7/part.parquet", {"event_timestamp": [at(1)], "plays": [1]})
    offline.write("hive/member_id=8/part.parquet", {"event_timestamp": [at(1)], "plays": [2]})
    assert plays(offline, "hive") == [1, 2]


def test_hive_dataset_in_memory(offline: Offline, memory_root: str) -> None:
    write_memory(f"{memory_root}/h/day=1/p.parquet", ROWS)
    write_memory(
        f"{memory_root}/h/day=2/p.parquet",
        {"member_id": [8], "event_timestamp": [at(1.5)], "plays": [9]},
    )
    assert plays(offline, f"{memory_root}/h") == [1, 9]
    files = list_files(f"{memory_root}/h")
    assert files.hive and len(files.paths) == 2


def test_open_dataset_lists_the_same_files(offline: Offline) -> None:
    offline.write("hive/member_id=7/part.parquet", {"event_timestamp": [at(1)], "plays": [1]})
    view = offline.view("act", "hive")
    dataset = open_dataset(offline.store, view.batch_source, view="act")
    assert set(dataset.schema.names) == {"event_timestamp", "plays", "member_id"}


def test_reads_are_pruned_by_time(offline: Offline) -> None:
    """A frame over one day reads one day's row groups, not the whole year."""
    days = 30
    table = pa.table(
        {
            "member_id": [7] * days * 24,
            "event_timestamp": [at(h) for h in range(days * 24)],
            "plays": list(range(days * 24)),
        }
    )
    path = offline.root / "year.parquet"
    pq.write_table(table, path, row_group_size=24)  # one row group per day
    view = offline.view("act", str(path), ttl=timedelta(hours=12))
    entities = entity_rows([7, 7], [at(24 * 10 + 12), at(24 * 10 + 18)])
    job = offline.job([view], entities, ["act:plays"])
    assert job.to_polars()["plays"].to_list() == [24 * 10 + 12, 24 * 10 + 18]
    report = job.explain(analyze=True)
    scanned, total = _row_groups(report)
    assert total == days
    assert scanned <= 2  # day 10 (and the row group starting the next day, by its bound)


def test_without_ttl_only_the_upper_bound_prunes(offline: Offline) -> None:
    table = pa.table(
        {
            "member_id": [7] * 10,
            "event_timestamp": [at(24 * d) for d in range(10)],
            "plays": list(range(10)),
        }
    )
    path = offline.root / "days.parquet"
    pq.write_table(table, path, row_group_size=1)
    view = offline.view("act", str(path))
    job = offline.job([view], entity_rows([7], [at(24 * 3)]), ["act:plays"])
    assert job.to_polars()["plays"].to_list() == [3]
    scanned, total = _row_groups(job.explain(analyze=True))
    assert (scanned, total) == (4, 10)  # days 0..3


def _row_groups(report: str) -> tuple[int, int]:
    line = next(x for x in report.splitlines() if x.startswith("row groups scanned:"))
    words = line.split()
    return int(words[3]), int(words[5])


def test_entities_and_two_views_on_one_memory_filesystem(
    offline: Offline, memory_root: str
) -> None:
    # the filesystem is registered with DuckDB once, however many sources use it
    write_memory(f"{memory_root}/a.parquet", ROWS)
    write_memory(f"{memory_root}/b.parquet", {**ROWS, "minutes": [5, 6]})
    with fsspec.open(f"{memory_root}/entities.parquet", "wb") as handle:
        entity_rows([8, 7], [at(2), at(2)]).write_parquet(handle)
    views = [
        offline.view("a", f"{memory_root}/a.parquet"),
        offline.view("b", f"{memory_root}/b.parquet", ["minutes"]),
    ]
    frame = offline.frame(views, f"{memory_root}/entities.parquet", ["a:plays", "b:minutes"])
    assert frame.rows() == [(8, at(2), 2, 6), (7, at(2), 1, 5)]
