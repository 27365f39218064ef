"""``RetrievalJob`` outputs and the forms entity rows may take."""

from __future__ import annotations

import fsspec
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from offline_support import Offline, at, entity_rows

from featurestore.definitions import Field, RequestSource, on_demand_feature_view
from featurestore.errors import DefinitionError, RequestError, SourceDataError
from featurestore.types import Float64, Int64

N = 50


@pytest.fixture
def view(offline: Offline):
    path = offline.write(
        "f.parquet",
        {
            "member_id": [m for m in range(N) for _ in range(2)],
            "event_timestamp": [at(h) for _ in range(N) for h in (1, 3)],
            "plays": [m * 10 + h for m in range(N) for h in (1, 3)],
        },
    )
    return offline.view("act", path)


@pytest.fixture
def entities() -> pl.DataFrame:
    # reversed keys, alternating times, a label: order must survive
    keys = list(reversed(range(N)))
    return entity_rows(keys, [at(2 if k % 2 else 4) for k in keys], label=keys)


def expected(entities: pl.DataFrame) -> list[int]:
    return [k * 10 + (1 if k % 2 else 3) for k in entities["member_id"]]


def test_batches_stream_in_order(offline: Offline, view, entities) -> None:
    reader = offline.job([view], entities, ["act:plays"]).to_batches(batch_rows=7)
    batches = list(reader)
    assert all(b.num_rows <= 7 for b in batches) and len(batches) >= N // 7
    table = pa.Table.from_batches(batches)
    assert table.column("label").to_pylist() == entities["label"].to_list()
    assert table.column("plays").to_pylist() == expected(entities)


def test_schema_matches_every_output(offline: Offline, view, entities) -> None:
    job = offline.job([view], entities, ["act:plays"])
    assert job.schema.names == ["member_id", "event_timestamp", "label", "plays"]
    assert job.to_arrow().schema == job.schema
    assert job.to_batches().schema == job.schema


def test_pandas_and_polars_outputs(offline: Offline, view, entities) -> None:
    job = offline.job([view], entities, ["act:plays"])
    assert job.to_pandas()["plays"].tolist() == expected(entities)
    assert job.to_polars()["plays"].to_list() == expected(entities)


@pytest.mark.parametrize("scheme", ["local", "memory"])  # a path, and an fsspec URL
def test_to_parquet(offline: Offline, view, entities, scheme) -> None:
    url = str(offline.root / "out.parquet") if scheme == "local" else "memory://frames/out.parquet"
    seen: list[int] = []
    rows = offline.job([view], entities, ["act:plays"]).to_parquet(
        url, batch_rows=16, on_batch=seen.append
    )
    assert rows == N and sum(seen) == N and len(seen) > 1
    with fsspec.open(url, "rb") as handle:
        table = pq.read_table(handle)
    assert table.column("plays").to_pylist() == expected(entities)


def test_entity_inputs_give_the_same_frame(offline: Offline, view, entities) -> None:
    path = offline.root / "entities.parquet"
    entities.write_parquet(path)
    inputs = {
        "polars": entities,
        "pandas": entities.to_pandas(),
        "arrow": entities.to_arrow(),
        "parquet path": str(path),
        "parquet url": f"file://{path}",
        "sql": f"SELECT * FROM read_parquet('{path}')",
    }
    for kind, entity_df in inputs.items():
        frame = offline.frame([view], entity_df, ["act:plays"])
        assert frame["label"].to_list() == entities["label"].to_list(), kind
        assert frame["plays"].to_list() == expected(entities), kind


def test_entity_parquet_directory_keeps_file_then_row_order(
    offline: Offline, view, entities
) -> None:
    (offline.root / "ents").mkdir()
    entities.head(20).write_parquet(offline.root / "ents" / "a.parquet")
    entities.tail(N - 20).write_parquet(offline.root / "ents" / "b.parquet")
    frame = offline.frame([view], str(offline.root / "ents"), ["act:plays"])
    assert frame["label"].to_list() == entities["label"].to_list()


def test_pandas_naive_nanosecond_times(offline: Offline, view) -> None:
    df = pd.DataFrame(
        {
            "member_id": [3, 3],
            "event_timestamp": pd.to_datetime(["2024-01-01 02:00", "2024-01-01 00:30"]),
        }
    )
    assert offline.frame([view], df, ["act:plays"])["plays"].to_list() == [31, None]


def test_on_demand_view_with_request_data(offline: Offline, view, entities) -> None:
    request = RequestSource("req", [Field("weight", Float64)])

    @on_demand_feature_view(sources=[view, request], schema=[Field("weighted", Float64)])
    def weighted(df: pl.DataFrame) -> pl.DataFrame:
        return df.select((pl.col("plays") * pl.col("weight")).alias("weighted"))

    rows = entities.with_columns(weight=pl.lit(0.5))
    job = offline.job([view, weighted], rows, ["weighted:weighted", "act:plays"])
    frame = job.to_polars()
    assert frame.columns == ["member_id", "event_timestamp", "label", "weight", "weighted", "plays"]
    assert frame["weighted"].to_list() == [p * 0.5 for p in expected(entities)]
    batches = list(job.to_batches(batch_rows=8))  # computed batch by batch
    assert (
        pa.Table.from_batches(batches).column("weighted").to_pylist() == frame["weighted"].to_list()
    )


def test_on_demand_view_without_its_request_data(offline: Offline, view, entities) -> None:
    request = RequestSource("req", [Field("weight", Float64)])

    @on_demand_feature_view(sources=[view, request], schema=[Field("weighted", Float64)])
    def weighted(df: pl.DataFrame) -> pl.DataFrame:
        return df.select((pl.col("plays") * pl.col("weight")).alias("weighted"))

    with pytest.raises(RequestError, match=r"needs request data \['weight'\]"):
        offline.job([view, weighted], entities, ["weighted:weighted"])


def test_on_demand_view_that_fails(offline: Offline, view, entities) -> None:
    @on_demand_feature_view(sources=[view], schema=[Field("bad", Int64)])
    def broken(df: pl.DataFrame) -> pl.DataFrame:
        raise ZeroDivisionError("boom")

    with pytest.raises(DefinitionError, match=r"on-demand view 'broken'.*boom"):
        offline.job([view, broken], entities, ["broken:bad"]).to_arrow()


def test_explain_shows_the_query(offline: Offline, view, entities) -> None:
    text = offline.job([view], entities, ["act:plays"]).explain()
    assert "ASOF LEFT JOIN" in text and "read_parquet" in text


def test_explain_with_several_joins(offline: Offline, view, entities) -> None:
    other = offline.view(
        "other",
        offline.write("g.parquet", {"member_id": [1], "event_timestamp": [at(1)], "minutes": [3]}),
        ["minutes"],
    )
    job = offline.job([view, other], entities, ["act:plays", "other:minutes"])
    text = job.explain()
    assert text.count("CREATE TEMP TABLE") == 3 and text.count("ASOF LEFT JOIN") == 2
    assert "row groups scanned:" in job.explain(analyze=True)  # every statement profiled
    assert job.to_polars()["minutes"].to_list()[-2:] == [3, None]  # members 1 and 0


def test_failed_write_leaves_no_file(offline: Offline, entities) -> None:
    good = offline.write("f.parquet", {"member_id": [1], "event_timestamp": [at(1)], "plays": [1]})
    view = offline.view("act", good)
    job = offline.job([view], entities, ["act:plays"])
    (offline.root / "f.parquet").write_bytes(b"corrupt")  # files are read when the job runs
    out = offline.root / "frame.parquet"
    with pytest.raises(SourceDataError):
        job.to_parquet(str(out))
    assert sorted(p.name for p in offline.root.iterdir() if "frame" in p.name) == []
