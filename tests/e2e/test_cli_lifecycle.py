"""The lifecycle commands as a user runs them: datasets, models, deploy, undeploy,
deployments (list, history, rollback), with exit codes and the refusal report."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner, Result

from featurestore import FeatureStore
from featurestore.cli import main

VIEWS = """
from datetime import timedelta
from featurestore import Entity, FeatureView, Field, ParquetSource
from featurestore.types import Float64, Int64

member = Entity(name="member", join_keys=["member_id"])
activity = FeatureView(
    name="activity",
    entities=[member],
    ttl=timedelta(days=2),
    schema=[Field("plays", Int64), Field("minutes", Float64)],
    source=ParquetSource(path="data/activity"),
)
"""


def run(repo: Path, *args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(main, ["-C", str(repo), *args], catch_exceptions=False)
    assert result.exit_code == code, result.output + (result.stderr or "")
    return result


def write_activity(repo: Path, now: datetime, plays_offset: int = 0, name: str = "a") -> None:
    members = [1, 2, 3]
    path = repo / "data" / "activity" / f"{name}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pl.DataFrame(
        {
            "member_id": members,
            "event_timestamp": [now - timedelta(hours=1)] * 3,
            "plays": [m * 10 + plays_offset for m in members],
            "minutes": [m * 2.5 for m in members],
        }
    ).write_parquet(path)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An applied repo with a training dataset and two versions of a registered model."""
    monkeypatch.setenv("FEATURESTORE_AUTHOR", "ana@example.com")
    path = tmp_path / "repo"
    path.mkdir()
    (path / "featurestore.yaml").write_text("project: cli_lifecycle\n")
    (path / "views.py").write_text(VIEWS)
    now = datetime.now(UTC)
    write_activity(path, now)
    run(path, "apply")
    store = FeatureStore(path)
    entity_df = pl.DataFrame({"member_id": [1, 2, 3], "event_timestamp": [now] * 3})
    store.create_training_dataset("train", entity_df, ["activity:plays", "activity:minutes"])
    store.register_model("churn", 1, training_dataset="train", metrics={"auc": 0.75})
    store.register_model("churn", 2, training_dataset="train", metrics={"auc": 0.8})
    return path


def materialize(repo: Path) -> None:
    now = datetime.now(UTC)
    FeatureStore(repo).materialize(now - timedelta(days=30), now)


def test_datasets_list_show_and_verify(repo: Path) -> None:
    listed = run(repo, "datasets", "list").output
    assert "train" in listed and "ana@example.com" in listed
    shown = run(repo, "datasets", "show", "train").output
    assert "rows              3" in shown
    assert "activity:plays" in shown and "activity:minutes" in shown
    assert "data/activity/a.parquet" in shown
    assert f"stored at         {repo}/data/datasets/train/" in shown
    verified = run(repo, "datasets", "verify", "train").output
    assert "training dataset 'train' (3 rows) matches a fresh recompute" in verified
    write_activity(repo, datetime.now(UTC) - timedelta(minutes=30), plays_offset=7)
    changed = run(repo, "datasets", "verify", "train", code=1).output
    assert "does NOT match" in changed
    assert "data changed: view 'activity': modified" in changed
    missing = run(repo, "datasets", "show", "nope", code=1)
    assert "no training dataset named 'nope'; known: ['train']" in missing.stderr


def test_models_list_and_show(repo: Path) -> None:
    listed = run(repo, "models", "list").output
    assert "churn" in listed and "auc=0.75" in listed and "auc=0.8" in listed
    shown = run(repo, "models", "show", "churn").output
    assert "churn version 2" in shown
    assert "training dataset  train" in shown
    assert "metric auc = 0.8" in shown
    assert "activity:plays" in shown
    assert "version 1" in run(repo, "models", "show", "churn", "1").output
    unknown = run(repo, "models", "show", "churn", "9", code=1)
    assert "model 'churn' has no version '9'; registered versions: ['1', '2']" in unknown.stderr


def test_deploy_refuses_with_a_report_then_deploys(repo: Path) -> None:
    refused = run(repo, "deploy", "churn", "1", code=1)
    assert "FAIL freshness" in refused.output
    assert "view 'activity' was never materialized" in refused.output
    assert "PASS compatibility" in refused.output
    assert "refused: deploy of model 'churn' version '1' refused" in refused.stderr
    assert "No deployments" in run(repo, "deployments").output
    materialize(repo)
    deployed = run(repo, "deploy", "churn", "1")
    assert "PASS skew" in deployed.output
    assert "Deployed model churn version 1" in deployed.output
    run(repo, "deploy", "churn", "2", "--skew-sample", "2", "--max-mismatch-rate", "0.5")
    listed = run(repo, "deployments", "list").output
    assert "churn" in listed and "2" in listed
    assert "yes" in run(repo, "models", "list").output
    rolled = run(repo, "deployments", "rollback", "churn").output
    assert "Deployed model churn version 1" in rolled
    history = run(repo, "deployments", "history", "churn").output
    assert "rollback to" in history
    assert "Undeployed model churn" in run(repo, "undeploy", "churn").output
    assert "(undeployed)" in run(repo, "deployments").output
    again = run(repo, "undeploy", "churn", code=1)
    assert "model 'churn' is not deployed; nothing to undeploy" in again.stderr


def test_deploy_refusal_through_the_console_script(repo: Path) -> None:
    script = Path(sys.executable).parent / "featurestore"
    env = {**os.environ, "NO_COLOR": "1"}
    result = subprocess.run(
        [str(script), "-C", str(repo), "deploy", "churn", "1", "--skew-sample", "0"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL freshness" in result.stdout
    assert "refused (freshness)" in result.stderr
    assert "Traceback" not in result.stderr


def test_datasets_create_from_a_file_or_sql(repo: Path) -> None:
    now = datetime.now(UTC)
    pl.DataFrame({"member_id": [1, 2], "event_timestamp": [now, now]}).write_parquet(
        repo / "data" / "entities.parquet"
    )
    made = run(
        repo, "datasets", "create", "from_file", "--entities", "data/entities.parquet",
        "--features", "activity:plays,activity:minutes", "--description", "two members",
    ).output  # fmt: skip
    assert "Created training dataset from_file: 2 rows, 2 features" in made
    sql = "SELECT 3 AS member_id, now() AS event_timestamp"
    run(repo, "datasets", "create", "from_sql", "--entities", sql, "--features", "activity:plays")
    frame = FeatureStore(repo).get_training_dataset("from_sql").to_polars()
    assert frame["plays"].to_list() == [30]
    again = run(
        repo, "datasets", "create", "from_sql", "--entities", sql, "--features", "activity:plays",
        code=1,
    )  # fmt: skip
    assert "training dataset 'from_sql' already exists" in again.stderr
    neither = run(repo, "datasets", "create", "x", "--entities", sql, code=2)
    assert "give either --features view:feature ... or --service NAME" in neither.output
