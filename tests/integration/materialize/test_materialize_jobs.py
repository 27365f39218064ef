"""Materialization on each store: the window, the tie rule, watermarks, incremental runs."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest
from online_support import ACTIVITY_SCHEMA, activity_row, ts, write_parquet

from featurestore.errors import OnlineStoreError, RequestError
from featurestore.materialize import latest
from featurestore.materialize.watermarks import all_watermarks, get_watermark


def _plays(store, members) -> list:
    return store.get_online_features(["activity:plays"], {"member_id": members}).to_dict()["plays"]


def test_window_bounds_are_inclusive(repo_factory) -> None:
    rows = [
        activity_row(1, 1, plays=1),  # exactly at start
        activity_row(2, 3, plays=2),  # exactly at end
        activity_row(3, 0.5, plays=3),  # before start
        activity_row(4, 2, plays=40),
        activity_row(4, 3.5, plays=41),  # after end: the in-window row is used
    ]
    store = repo_factory(activity=rows)
    [result] = store.materialize(ts(1), ts(3), views=["activity"])
    assert result.ok and result.rows_written == 3
    assert _plays(store, [1, 2, 3, 4]) == [1, 2, None, 40]


def test_tie_rule_event_then_created_then_source_order(repo_factory) -> None:
    store = repo_factory(
        activity=[
            activity_row(1, 1, plays=10),
            activity_row(1, 1, plays=11),  # same file, later row: wins the full tie
            activity_row(2, 1, plays=20, created=ts(2)),  # later created beats file order
            activity_row(3, 1, plays=30, created=None),
            activity_row(4, 1, plays=40),
        ]
    )
    write_parquet(
        store.repo_path / "data/activity/part-1.parquet",
        [
            activity_row(2, 1, plays=21, created=ts(1)),
            activity_row(3, 1, plays=31, created=ts(0)),  # any created beats null
            activity_row(4, 1, plays=41),  # a later file wins the full tie
        ],
        ACTIVITY_SCHEMA,
    )
    store.materialize(ts(0), ts(2))
    assert _plays(store, [1, 2, 3, 4]) == [11, 20, 31, 41]


def test_files_of_other_schemas_are_fetched_together(repo_factory, monkeypatch) -> None:
    """Winners are fetched a file at a time only from files of one schema: a file's own
    columns are not the union's (here a file without ``genre``)."""
    monkeypatch.setattr(latest, "FILE_ROWS", 0)  # files of any size are large enough
    store = repo_factory(activity=[activity_row(1, 1, plays=10), activity_row(2, 1, plays=20)])
    write_parquet(
        store.repo_path / "data/activity/part-1.parquet",
        [{k: v for k, v in activity_row(2, 2, plays=21).items() if k != "genre"}],
    )
    store.materialize(ts(0), ts(3))
    got = store.get_online_features(
        ["activity:plays", "activity:genre"], {"member_id": [1, 2]}
    ).to_dict()
    assert (got["plays"], got["genre"]) == ([10, 21], ["g10", None])


def test_watermarks_move_only_for_views_that_succeeded(repo_factory) -> None:
    store = repo_factory(activity=[activity_row(1, 1, plays=1)])
    write_parquet(
        store.repo_path / "data/pair/part-0.parquet",
        [{"member_id": 1, "title_id": "t", "affinity": "high", "event_timestamp": ts(1)}],
    )  # affinity is declared Float32
    assert get_watermark(store, "activity") is None
    results = {r.view: r for r in store.materialize(ts(0), ts(2))}
    assert results["activity"].ok and results["profile"].ok
    assert not results["pair"].ok and "affinity" in (results["pair"].error or "")
    assert all_watermarks(store) == {"activity": ts(2), "profile": ts(2)}
    store.materialize(ts(0), ts(1), views=["activity"])  # a backfill never moves it back
    assert get_watermark(store, "activity") == ts(2)


def test_incremental_runs_from_the_watermark(repo_factory) -> None:
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(days=5)

    def row(member: int, day: float, plays: int) -> dict:
        return activity_row(member, 0, plays=plays, event_timestamp=ts(day, base))

    store = repo_factory(ttl_days=3, activity=[row(1, 1, 1)])
    [first] = store.materialize_incremental(ts(2, base), views=["activity"])
    assert (first.start, first.end, first.rows_written) == (ts(-1, base), ts(2, base), 1)
    write_parquet(
        store.repo_path / "data/activity/part-1.parquet",
        [row(1, 3, 2), row(2, 1.5, 3)],
        ACTIVITY_SCHEMA,
    )
    [second] = store.materialize_incremental(ts(4, base), views=["activity"])
    assert (second.start, second.rows_written) == (ts(2, base), 1)  # only the new window
    assert _plays(store, [1, 2]) == [2, None]  # member 2's row is before the watermark
    [again] = store.materialize_incremental(ts(3, base), views=["activity"])
    assert again.rows_written == 0 and again.ok  # already past: nothing to do


def test_rerun_is_idempotent(repo_factory) -> None:
    store = repo_factory(activity=[activity_row(m, 1 + m / 10, plays=m) for m in range(30)])
    store.materialize(ts(0), ts(5))
    first = store.get_online_features(
        ["activity:plays", "activity:genre"], {"member_id": list(range(31))}
    ).to_arrow(with_status=True)
    store.materialize(ts(0), ts(5))
    again = store.get_online_features(
        ["activity:plays", "activity:genre"], {"member_id": list(range(31))}
    ).to_arrow(with_status=True)
    assert first.equals(again)


def test_a_rerun_rewrites_equal_values_as_ties(repo_factory, monkeypatch) -> None:
    """Writing the values a store already holds (a rerun) writes every key again: an equal
    value is a tie, which goes to the incoming one."""
    from featurestore.online import _redis_write
    from featurestore.online._pack import pack_batch

    monkeypatch.setattr(_redis_write, "CHUNK", 2)  # several script calls
    rows = [activity_row(m, 1 + m / 10, plays=m) for m in (1, 2, 3, 4)]
    store = repo_factory(activity=rows)
    view = store.definitions().feature_view("activity")
    [batch] = latest.latest_batches(store, view, ts(0), ts(5))
    assert store.online_store.write(pack_batch(view, batch)) == 4
    assert store.online_store.write(pack_batch(view, batch)) == 4
    assert _plays(store, [1, 2, 3, 4]) == [1, 2, 3, 4]


def test_many_batches_stream(repo_factory, monkeypatch) -> None:
    monkeypatch.setattr(latest, "BATCH_ROWS", 7)
    monkeypatch.setattr(latest, "PARTITION_ROWS", 20)  # 3 hash partitions of the entities
    store = repo_factory(activity=[activity_row(m, 1, plays=m) for m in range(50)])
    seen: list[int] = []
    from featurestore.materialize.jobs import materialize

    [result] = materialize(
        store, ts(0), ts(2), views=["activity"], progress=lambda v, n: seen.append(n)
    )
    assert result.rows_written == 50 and len(seen) >= 8 and (seen[0], seen[-1]) == (0, 50)
    assert _plays(store, list(range(50))) == list(range(50))


def test_a_failing_write_with_a_full_queue_ends_the_job(repo_factory, monkeypatch) -> None:
    """The store refuses the first batch while the reader has filled the queue: the view
    fails with the store's message (no hang joining the reader), its watermark unmoved."""
    # 4 batches: the writer takes the first, 3 fill the queue, and the reader's end-of-data
    # mark waits for room the failed writer never makes
    monkeypatch.setattr(latest, "BATCH_ROWS", 2)
    store = repo_factory(activity=[activity_row(m, 1, plays=m) for m in range(8)])

    def refuse(batch):
        time.sleep(0.3)  # the reader fills the queue meanwhile
        raise OnlineStoreError("disk full")

    monkeypatch.setattr(store.online_store, "write", refuse)
    done: list = []
    job = threading.Thread(
        target=lambda: done.append(store.materialize(ts(0), ts(2), views=["activity"])),
        daemon=True,
    )
    job.start()
    job.join(timeout=30)
    assert done, "materialize did not return"
    [result] = done[0]
    assert not result.ok and "disk full" in (result.error or "")
    assert get_watermark(store, "activity") is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start": ts(2), "end": ts(1)}, "after end"),  # an empty window is a mistake
        ({"views": ["nope"]}, "nope"),  # unknown view is named
    ],
)
def test_bad_requests(repo_factory, kwargs, message) -> None:
    store = repo_factory()
    args = {"start": ts(0), "end": ts(1), **kwargs}
    with pytest.raises((RequestError, KeyError), match=message):
        store.materialize(args["start"], args["end"], views=args.get("views"))


def test_naive_datetimes_are_utc(repo_factory) -> None:
    store = repo_factory(activity=[activity_row(1, 1, plays=3)])
    [result] = store.materialize(
        ts(1).replace(tzinfo=None), ts(1).replace(tzinfo=None), views=["activity"]
    )
    assert result.rows_written == 1 and result.end == ts(1)
    assert pa.types.is_timestamp(pa.array([result.end]).type)
    assert result.end - result.start == timedelta(0)


def test_push_view_without_offline_data_materializes_nothing(repo_factory) -> None:
    """A push source's directory appears with the first offline push; until then the view
    materializes 0 rows (a missing file of a plain Parquet source is an error)."""
    import shutil

    store = repo_factory()
    shutil.rmtree(store.repo_path / "data/activity")
    (store.repo_path / "data/profile.parquet").unlink()
    results = {r.view: r for r in store.materialize(ts(0), ts(1))}
    assert results["activity"].ok and results["activity"].rows_written == 0
    assert not results["profile"].ok and "profile.parquet" in (results["profile"].error or "")


def test_source_on_another_filesystem(make_repo, unique_project) -> None:
    """A batch source on fsspec's memory:// filesystem materializes like a local one."""
    import fsspec
    import pyarrow.parquet as pq

    from featurestore import FeatureStore

    root = f"memory://{unique_project}/events"
    fs = fsspec.filesystem("memory")
    for i, plays in enumerate([1, 2]):
        table = pa.Table.from_pylist(
            [activity_row(1, 1, plays=plays), activity_row(2, 1 + i, plays=10 + plays)],
            schema=ACTIVITY_SCHEMA,
        )
        with fs.open(f"{root}/part-{i}.parquet", "wb") as f:
            pq.write_table(table, f)
    repo = make_repo(
        {
            "defs.py": f"""
            from featurestore import Entity, FeatureView, Field, ParquetSource, PushSource
            from featurestore.types import Float64, Int64, String
            member = Entity(name="member", join_keys=["member_id"])
            activity = FeatureView(
                name="activity", entities=[member],
                schema=[Field("plays", Int64), Field("score", Float64), Field("genre", String)],
                source=PushSource(name="push", batch_source=ParquetSource(
                    path="{root}", created_timestamp_column="created")))
            """
        },
        config=f"project: {unique_project}\n",
    )
    store = FeatureStore(repo)
    store.apply()
    [result] = store.materialize(ts(0), ts(3))
    assert result.ok, result.error
    assert _plays(store, [1, 2]) == [2, 12]  # member 1: a full tie, the later file wins
    store.push("push", [activity_row(1, 1, plays=3)], to="offline")  # one PUT, a later name
    assert len(fs.ls(root)) == 3
    store.materialize(ts(0), ts(3))
    assert _plays(store, [1]) == [3]
