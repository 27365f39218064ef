"""Model registration and the records' protobuf round trip."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from lifecycle_support import Repo

from featurestore.errors import NotFoundError, RegistryError, RequestError
from featurestore.lifecycle import get_model, list_models, register_model
from featurestore.lifecycle._storage import RecordStore
from featurestore.lifecycle.lineage import SourceFile
from featurestore.lifecycle.records import (
    DeployCheck,
    Deployment,
    TrainingDataset,
    dataset_from_proto,
    dataset_to_proto,
    deployment_from_proto,
    deployment_to_proto,
    model_from_proto,
    model_to_proto,
)


def _stored(repo: Repo, name: str = "train") -> TrainingDataset:
    records = RecordStore(repo.store, "datasets")
    dataset = dataclasses.replace(repo.dataset(), name=name)
    record_id = records.put(dataset_to_proto(dataset))
    records.set_ref(name, record_id)
    return dataclasses.replace(dataset, id=record_id)


def test_dataset_record_round_trips(repo: Repo) -> None:
    dataset = dataclasses.replace(
        _stored(repo),
        tags={"team": "retention"},  # type: ignore[arg-type]
        views=(
            dataclasses.replace(
                repo.dataset().views[0],
                files=(
                    SourceFile("s3://b/a.parquet", 10, None, '"etag-1"'),  # etag, no mtime
                    SourceFile("/x/b.parquet", 20, datetime(2026, 1, 1, tzinfo=UTC)),  # mtime
                ),
            ),
        ),
    )
    back = dataset_from_proto(dataset.id, dataset_to_proto(dataset))
    assert back == dataset


def test_deployment_record_round_trips() -> None:
    record = Deployment(
        id="abc",
        model="churn",
        version="2",
        model_id="m" * 64,
        registry_version="r" * 64,
        feature_refs=("activity:plays",),
        deployed_at=datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC),
        deployed_by="ana",
        previous="p" * 64,
        rolled_back_from="",
        checks=(DeployCheck("skew", True, ("mismatch rate 0.00%",)),),
    )
    assert deployment_from_proto("abc", deployment_to_proto(record)) == record


def test_register_points_to_the_dataset_and_its_definitions(repo: Repo) -> None:
    dataset = _stored(repo)
    model = register_model(
        repo.store,
        "churn",
        1,
        training_dataset="train",
        artifact_uri="file:///models/churn-1.npz",
        metrics={"auc": 0.81, "n": 3},
        tags={"owner": "retention"},
    )
    assert model.version == "1"
    assert model.training_dataset_id == dataset.id
    assert model.registry_version == dataset.registry_version
    assert model.feature_refs == ("activity:plays", "activity:minutes")
    assert dict(model.view_fingerprints) == {"activity": dataset.views[0].data_fingerprint}
    assert dict(model.metrics) == {"auc": 0.81, "n": 3.0}
    assert get_model(repo.store, "churn", "1") == model
    assert model_from_proto(model.id, model_to_proto(model)) == model


def test_versions_are_immutable_but_reregistering_the_same_is_a_no_op(repo: Repo) -> None:
    _stored(repo)
    first = register_model(repo.store, "churn", "1", training_dataset="train", metrics={"a": 1})
    again = register_model(repo.store, "churn", "1", training_dataset="train", metrics={"a": 1})
    assert again.id == first.id
    with pytest.raises(RegistryError, match="'churn' version '1' is already registered"):
        register_model(repo.store, "churn", "1", training_dataset="train", metrics={"a": 2})


def test_latest_version_and_listing(repo: Repo) -> None:
    _stored(repo)
    register_model(repo.store, "churn", "1", training_dataset="train")
    register_model(repo.store, "churn", "2", training_dataset="train")
    register_model(repo.store, "rank", "a", training_dataset="train")
    assert get_model(repo.store, "churn").version == "2"
    assert [(m.name, m.version) for m in list_models(repo.store)] == [
        ("churn", "1"),
        ("churn", "2"),
        ("rank", "a"),
    ]
    assert [m.version for m in list_models(repo.store, "churn")] == ["1", "2"]


@pytest.mark.parametrize(
    ("name", "version", "message"),
    [
        ("nope", None, "no model named 'nope'; registered models: ['churn']"),  # unknown model
        ("churn", "9", "model 'churn' has no version '9'; registered versions: ['1']"),
    ],
)
def test_unknown_models_are_named(repo: Repo, name: str, version: str | None, message: str) -> None:
    _stored(repo)
    register_model(repo.store, "churn", "1", training_dataset="train")
    with pytest.raises(NotFoundError) as info:
        get_model(repo.store, name, version)
    assert str(info.value) == message


@pytest.mark.parametrize(
    "metrics",
    [
        {"auc": "high"},  # not a number
        {"auc": float("nan")},  # NaN
        {"ok": True},  # a bool is not a metric
    ],
)
def test_bad_metrics_are_refused(repo: Repo, metrics: dict) -> None:
    _stored(repo)
    with pytest.raises(RequestError, match="metrics are numbers"):
        register_model(repo.store, "churn", "1", training_dataset="train", metrics=metrics)


def test_unknown_dataset_is_named(repo: Repo) -> None:
    with pytest.raises(NotFoundError, match="no training dataset named 'missing'"):
        register_model(repo.store, "churn", "1", training_dataset="missing")


@pytest.mark.parametrize(
    "rate",
    [
        -0.01,  # below 0
        1.5,  # above 1
    ],
)
def test_mismatch_rate_must_be_a_fraction(repo: Repo, rate: float) -> None:
    from featurestore.lifecycle import deploy_model

    with pytest.raises(RequestError, match="give a fraction from 0 to 1"):
        deploy_model(repo.store, "churn", 1, max_mismatch_rate=rate)
