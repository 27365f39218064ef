"""The example repo (``feature_repo/``): it loads, has what the README promises, its data
generator is deterministic, and plan/apply accept its generated data."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import duckdb
import polars as pl
import pytest

from featurestore import FeatureStore, PushSource, RequestSource
from featurestore.definitions.collection import Definitions
from featurestore.repo.loader import repo_python_files

EXAMPLE = Path(__file__).resolve().parents[2] / "feature_repo"
SOURCES = [
    "member_activity",
    "title_popularity.parquet",
    "member_title_engagement.parquet",
    "member_sessions",
    "churn_labels.parquet",
    "ranking_requests.parquet",
]


def _generator() -> ModuleType:
    name = "example_generate_data"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, EXAMPLE / "generate_data.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up while it runs
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="module")
def defs() -> Definitions:
    return FeatureStore(EXAMPLE).load_repo()


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    """A copy of the example repo with 2,000 rows of generated data, ending at the anchor."""
    repo = tmp_path / "feature_repo"
    shutil.copytree(EXAMPLE, repo, ignore=shutil.ignore_patterns("data", "__pycache__"))
    gen = _generator()
    gen.generate(2_000, 7, repo / "data", gen.ANCHOR)
    return repo


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*.parquet")}


def test_config_is_embedded_defaults() -> None:
    config = FeatureStore(EXAMPLE).config
    assert config.project == "streaming"
    assert config.registry == "data/registry"
    assert config.online_store.type == "sqlite"
    assert config.online_store.path == "data/online.db"
    assert config.offline_store.type == "duckdb"


def test_generator_is_not_a_definition_file() -> None:
    files = [p.name for p in repo_python_files(EXAMPLE)]
    assert "generate_data.py" not in files
    assert {"entities.py", "sources.py", "views.py", "on_demand.py", "services.py"} <= set(files)


def test_entities(defs: Definitions) -> None:
    assert {n: e.join_keys for n, e in defs.entities.items()} == {
        "member": ("member_id",),
        "title": ("title_id",),
    }
    assert {str(t) for e in defs.entities.values() for t in e.key_types} == {"Int64"}


def test_feature_views(defs: Definitions) -> None:
    views = defs.feature_views
    assert set(views) == {
        "member_viewing_activity",
        "title_popularity",
        "member_title_engagement",
        "member_session_events",
    }
    assert views["member_title_engagement"].join_keys == ("member_id", "title_id")
    assert views["member_viewing_activity"].schedule == "@hourly"
    assert views["title_popularity"].schedule == "@daily"
    assert 5 <= len(views["member_viewing_activity"].schema) <= 8
    assert 4 <= len(views["title_popularity"].schema) <= 6
    for view in views.values():
        assert view.owner and view.tags and view.ttl and view.description, view.name
        assert view.batch_source.created_timestamp_column == "created_timestamp", view.name
        assert not view.batch_source.path.startswith("/"), "paths are relative to the repo"


def test_push_source(defs: Definitions) -> None:
    source = defs.feature_views["member_session_events"].source
    assert isinstance(source, PushSource)
    assert source.name == "member_sessions_push"
    assert defs.views_of_push_source("member_sessions_push") == [
        defs.feature_views["member_session_events"]
    ]


def test_on_demand_view(defs: Definitions) -> None:
    odfv = defs.on_demand_feature_views["watch_context"]
    assert odfv.function == "on_demand:watch_context"
    assert [s.name for s in odfv.source_views] == ["member_viewing_activity"]
    assert [type(s) for s in odfv.sources if s not in odfv.source_views] == [RequestSource]
    assert odfv.feature_names == ("on_usual_device", "is_prime_time", "minutes_per_play_7d")


def test_on_demand_transform_edges(defs: Definitions) -> None:
    odfv = defs.on_demand_feature_views["watch_context"]
    inputs = pl.DataFrame(
        {
            "plays_7d": [4, 0, None, 2, 1],
            "minutes_watched_7d": [100.0, 0.0, None, 30.0, 45.0],
            "last_device_type": ["tv", "tv", None, "mobile", "web"],
            "device_type": ["tv", "mobile", "tv", "mobile", "tv"],
            "local_hour": [19, 18, 23, 0, 24],
        },
        schema_overrides={"local_hour": pl.Int32},
    )
    out = odfv.compute(inputs).to_dict(as_series=False)
    # rows: same device at 19:00 (prime time starts) / no plays: no mean, 18:00 not prime /
    # nothing known: nulls, 23:00 still prime / midnight / an out-of-range hour is not prime
    assert out["on_usual_device"] == [True, False, None, True, False]
    assert out["is_prime_time"] == [True, False, True, False, False]
    assert out["minutes_per_play_7d"] == [25.0, None, None, 15.0, 45.0]


def test_feature_services(defs: Definitions) -> None:
    churn = defs.feature_services["churn_model"]
    ranking = defs.feature_services["ranking_model"]
    assert {e.view for e in churn.entries} == {"member_viewing_activity", "member_session_events"}
    assert "member_viewing_activity:plays_7d" in churn.feature_refs
    assert "member_viewing_activity:last_device_type" not in churn.feature_refs  # projected
    assert {e.view for e in ranking.entries} == {
        "member_viewing_activity",
        "title_popularity",
        "member_title_engagement",
        "watch_context",
    }
    assert [s.view.name for s in defs.select(ranking)][-1] == "watch_context"


def test_generator_same_seed_same_bytes(tmp_path: Path) -> None:
    gen = _generator()
    end = datetime(2026, 3, 1, tzinfo=UTC)
    counts = gen.generate(1_000, 3, tmp_path / "a", end)
    gen.generate(1_000, 3, tmp_path / "a2", end)
    gen.generate(1_000, 4, tmp_path / "b", end)
    first, again, other = (_files(tmp_path / d) for d in ("a", "a2", "b"))
    assert sorted(counts) == sorted(f"{s}/" if "." not in s else s for s in SOURCES)
    assert first == again
    assert first.keys() and first != other


def test_generator_rewrites_instead_of_appending(tmp_path: Path) -> None:
    gen = _generator()
    gen.generate(1_000, 3, tmp_path, datetime(2026, 3, 1, tzinfo=UTC))
    before = _files(tmp_path)
    gen.generate(1_000, 3, tmp_path, datetime(2026, 5, 1, tzinfo=UTC))  # other day partitions
    gen.generate(1_000, 3, tmp_path, datetime(2026, 3, 1, tzinfo=UTC))
    assert _files(tmp_path) == before


def test_generated_data_has_its_promised_quirks(repo_copy: Path) -> None:
    data = repo_copy / "data"
    activity = f"read_parquet('{data}/member_activity/*/*.parquet', hive_partitioning=true)"
    con = duckdb.connect()
    row = con.execute(
        f"""select epoch_us(min(event_timestamp)), epoch_us(max(event_timestamp)),
                   bool_and(created_timestamp > event_timestamp),
                   count(*) filter (where created_timestamp - event_timestamp > interval 1 hour),
                   count(*) filter (where last_device_type is null),
                   count(*) filter (where avg_completion_30d is null),
                   bool_and(day = event_timestamp::date)
            from {activity}"""
    ).fetchone()
    assert row is not None
    first, last, created_after, late, null_devices, null_completion, partitioned = row
    anchor = int(datetime(2026, 11, 1, tzinfo=UTC).timestamp()) * 10**6
    month = int(timedelta(days=30).total_seconds()) * 10**6
    assert anchor - month < first < last <= anchor  # the 30 days before --end
    assert created_after and late > 0 and null_devices > 0 and null_completion > 0
    assert partitioned
    ties = con.execute(
        f"""select count(*) from (select member_id, event_timestamp from {activity}
            group by all having count(distinct created_timestamp) > 1)"""
    ).fetchone()
    assert ties is not None and ties[0] > 0  # recomputed rows: same key and time, later created
    labels = pl.read_parquet(data / "churn_labels.parquet")
    assert labels.schema == {
        "member_id": pl.Int64,
        "event_timestamp": pl.Datetime("us", "UTC"),
        "churned": pl.Boolean,
    }
    assert 0 < labels["churned"].mean() < 0.5  # type: ignore[operator]


def test_plan_accepts_generated_data(repo_copy: Path) -> None:
    store = FeatureStore(repo_copy)
    plan = store.plan()
    assert plan.data_checked and not plan.warnings
    assert {c.name for c in plan.changes} == {d.name for d in store.load_repo().all()}
    applied = store.apply(message="test")
    assert applied.applied_version is not None
    assert set(store.definitions().feature_views) == set(store.load_repo().feature_views)


def _source_rows(folder: Path) -> pl.DataFrame:
    """Every row of a Parquet folder, with its position in the source (files by full path)."""
    files = sorted(str(p) for p in folder.rglob("*.parquet"))
    frames = [pl.read_parquet(f, hive_partitioning=False) for f in files]
    return pl.concat(frames).with_row_index("position")


def _point_in_time(
    entities: pl.DataFrame, rows: pl.DataFrame, ttl: timedelta, features: list[str]
) -> pl.DataFrame:
    """The rule, written plainly: per entity row, the candidate with the greatest (event
    time, created time, position in the source) within ttl; nulls when there is none."""
    numbered = entities.with_row_index("row")
    candidates = (
        numbered.select("row", "member_id", "event_timestamp")
        .join(rows, on="member_id", suffix="_f")
        .filter(
            (pl.col("event_timestamp_f") <= pl.col("event_timestamp"))
            & (pl.col("event_timestamp_f") >= pl.col("event_timestamp") - ttl)
        )
        .sort("row", "event_timestamp_f", "created_timestamp", "position")
        .group_by("row", maintain_order=True)
        .last()
    )
    return numbered.join(candidates.select("row", *features), on="row", how="left").sort("row")


def test_churn_training_frame_follows_the_rule(repo_copy: Path) -> None:
    # realistic data: hive partitions, recomputed rows (ties on event time), late rows,
    # nulls, a directory source; compared with the rule written plainly in polars
    store = FeatureStore(repo_copy)
    store.apply(message="test")
    labels = pl.read_parquet(repo_copy / "data" / "churn_labels.parquet")
    frame = store.get_historical_features(labels, "churn_model").to_polars()

    assert frame.select(labels.columns).equals(labels)  # every row once, in order
    defs = store.definitions()
    for view_name, folder in [
        ("member_viewing_activity", "member_activity"),
        ("member_session_events", "member_sessions"),
    ]:
        view = defs.feature_views[view_name]
        features = [
            f
            for e in defs.feature_services["churn_model"].entries
            for f in e.features
            if e.view == view_name
        ]
        assert view.ttl is not None
        expected = _point_in_time(
            labels, _source_rows(repo_copy / "data" / folder), view.ttl, features
        )
        assert frame.select(features).equals(expected.select(features)), view_name
        assert frame.select(features).null_count().sum_horizontal().item() > 0  # some miss


def test_ranking_training_frame_computes_request_features(repo_copy: Path) -> None:
    store = FeatureStore(repo_copy)
    store.apply(message="test")
    requests = pl.read_parquet(repo_copy / "data" / "ranking_requests.parquet")
    frame = store.get_historical_features(requests, "ranking_model").to_polars()

    assert frame.select(requests.columns).equals(requests)
    assert frame["is_prime_time"].to_list() == requests["local_hour"].is_between(19, 23).to_list()
    usual = frame.select(pl.col("device_type") == pl.col("last_device_type"))
    assert frame["on_usual_device"].to_list() == usual.to_series().to_list()
    assert frame["completion_ratio"].is_not_null().any()  # member x title rows were found


def test_online_lookup_with_request_data_from_the_cli(repo_copy: Path) -> None:
    # a real process: the on-demand transformation is imported from the repo by name
    store = FeatureStore(repo_copy)
    store.apply(message="test")
    gen = _generator()
    store.materialize(gen.ANCHOR - timedelta(days=30), gen.ANCHOR)
    cli = Path(sys.executable).parent / "featurestore"
    entity = ["member_id=1000001", "title_id=1", "device_type=tv", "local_hour=20"]
    result = subprocess.run(
        [str(cli), "-C", str(repo_copy), "online-get", "--service", "ranking_model", "--json"]
        + [arg for e in entity for arg in ("--entity", e)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=repo_copy.parent,
    )
    assert result.returncode == 0, result.stderr
    (row,) = json.loads(result.stdout)
    assert row["is_prime_time"] is True and row["is_prime_time__status"] == "PRESENT"
    assert row["member_id"] == 1000001 and "completion_ratio" in row
