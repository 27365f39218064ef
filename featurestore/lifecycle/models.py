"""Registered models: a name and version pointing to exactly the training dataset (and so
the registry version and feature definitions) they were trained on.

A model version is immutable: registering the same name and version again with different
content is an error; with the same content it is a no-op.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from featurestore._frozen import FrozenDict
from featurestore._proto import lifecycle_pb2 as pb
from featurestore.errors import NotFoundError, RegistryError, RequestError
from featurestore.lifecycle._storage import RecordStore, check_name, record_store
from featurestore.lifecycle.datasets import get_training_dataset
from featurestore.lifecycle.records import (
    Model,
    TrainingDataset,
    model_from_proto,
    model_to_proto,
)
from featurestore.registry.store import default_author

if TYPE_CHECKING:
    from featurestore.store import FeatureStore

KIND = "models"


def register_model(
    store: FeatureStore,
    name: str,
    version: str | int,
    *,
    training_dataset: str | TrainingDataset,
    artifact_uri: str = "",
    metrics: Mapping[str, float] | None = None,
    tags: Mapping[str, str] | None = None,
    description: str = "",
) -> Model:
    """Record model ``name`` at ``version``, trained on ``training_dataset`` (a name or a
    ``TrainingDataset``)."""
    check_name("model", name)
    version = check_name("model version", str(version))
    dataset = (
        training_dataset
        if isinstance(training_dataset, TrainingDataset)
        else get_training_dataset(store, training_dataset)
    )
    model = Model(
        id="",
        name=name,
        version=version,
        training_dataset=dataset.name,
        training_dataset_id=dataset.id,
        registry_version=dataset.registry_version,
        feature_refs=dataset.feature_refs,
        view_fingerprints=FrozenDict({v.view: v.data_fingerprint for v in dataset.views}),
        artifact_uri=artifact_uri,
        metrics=_metrics(name, metrics),
        tags=FrozenDict(dict(tags or {})),
        description=description,
        created_at=datetime.now(UTC),
        created_by=default_author(store.repo_path),
    )
    records = record_store(store, KIND)
    ref = f"{name}/{version}"
    with records.locked():
        existing = records.ref(ref)
        if existing is not None:
            old = get_model(store, name, version)
            if _same(old, model):
                return old
            msg = (
                f"model {name!r} version {version!r} is already registered (trained on "
                f"{old.training_dataset!r} at {old.created_at:%Y-%m-%d %H:%M}); versions are "
                "immutable, register a new version"
            )
            raise RegistryError(msg)
        record_id = records.put(model_to_proto(model))
        records.set_ref(ref, record_id)
    return model_from_proto(record_id, model_to_proto(model))


def get_model(store: FeatureStore, name: str, version: str | int | None = None) -> Model:
    """Model ``name`` at ``version`` (default: the most recently registered version)."""
    records = record_store(store, KIND)
    if version is None:
        versions = list_models(store, name)
        if not versions:
            raise NotFoundError(_unknown(records, name))
        return versions[-1]
    record_id = records.ref(f"{name}/{version}")
    if record_id is None:
        known = [m.version for m in list_models(store, name)]
        if not known:
            raise NotFoundError(_unknown(records, name))
        msg = f"model {name!r} has no version {str(version)!r}; registered versions: {known}"
        raise NotFoundError(msg)
    return model_by_id(store, record_id)


def model_by_id(store: FeatureStore, record_id: str) -> Model:
    return model_from_proto(record_id, record_store(store, KIND).get(record_id, pb.Model))


def list_models(store: FeatureStore, name: str | None = None) -> list[Model]:
    """Every registered model version (of ``name`` only, if given), by name then
    registration time."""
    refs = record_store(store, KIND).refs(f"{name}/" if name else "")
    models = [model_by_id(store, rid) for rid in refs.values()]
    return sorted(models, key=lambda m: (m.name, m.created_at, m.version))


def _metrics(name: str, metrics: Mapping[str, float] | None) -> dict[str, float]:
    out = {}
    for key, value in (metrics or {}).items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
            msg = f"model {name!r}: metric {key!r} is {value!r}; metrics are numbers (not NaN)"
            raise RequestError(msg)
        out[str(key)] = float(value)
    return out


def _same(a: Model, b: Model) -> bool:
    """Equal apart from when and by whom they were registered."""
    keep = ("training_dataset_id", "artifact_uri", "tags", "description", "feature_refs")
    return all(getattr(a, k) == getattr(b, k) for k in keep) and dict(a.metrics) == dict(b.metrics)


def _unknown(records: RecordStore, name: str) -> str:
    names = sorted({ref.split("/", 1)[0] for ref in records.refs()})
    return f"no model named {name!r}; registered models: {names or 'none'}"
