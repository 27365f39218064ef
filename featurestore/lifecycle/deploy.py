"""Deploying models: checks, the deployment history, undeploy and rollback.

Each model has a chain of deployment records (newest first through ``previous``), the
newest named by the pointer ``deployments/refs/<model>``. A deploy that passes its checks
(``featurestore.lifecycle.checks``) appends a record with the model version and the registry
version it was checked against; an undeploy appends a record without a version. Nothing is
recorded when a check fails: ``DeployRefusedError`` carries the report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from featurestore._proto import lifecycle_pb2 as pb
from featurestore.errors import DeployRefusedError, NotFoundError, RequestError
from featurestore.lifecycle._storage import RecordStore, record_store
from featurestore.lifecycle.checks import check_compatibility, check_freshness, check_skew
from featurestore.lifecycle.datasets import dataset_by_id
from featurestore.lifecycle.models import get_model
from featurestore.lifecycle.records import (
    DeployCheck,
    Deployment,
    deployment_from_proto,
    deployment_to_proto,
)
from featurestore.registry.store import default_author

if TYPE_CHECKING:
    from featurestore.store import FeatureStore

KIND = "deployments"
_RECORDS: dict[tuple[str, str], Deployment] = {}  # immutable records, by (location, id)
_RECORDS_KEPT = 1024
DEFAULT_SKEW_SAMPLE = 100
DEFAULT_MAX_MISMATCH_RATE = 0.0


@dataclass(frozen=True)
class DeployReport:
    """What the checks found for one model version; ``deployment`` is set on success."""

    model: str
    version: str
    checks: tuple[DeployCheck, ...]
    deployment: Deployment | None = None

    @property
    def ok(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failed(self) -> tuple[DeployCheck, ...]:
        return tuple(c for c in self.checks if not c.passed)


def deploy_model(
    store: FeatureStore,
    name: str,
    version: str | int,
    *,
    skew_sample: int = DEFAULT_SKEW_SAMPLE,
    max_mismatch_rate: float = DEFAULT_MAX_MISMATCH_RATE,
    now: datetime | None = None,
    seed: int = 0,
    _rolled_back_from: str = "",
) -> DeployReport:
    """Check model ``name`` at ``version`` and, if every check passes, record it as the
    deployed version. Raises ``DeployRefusedError`` (with ``.report``) otherwise.

    ``skew_sample`` distinct entities of the training dataset are compared (0 skips the skew
    check); ``max_mismatch_rate`` is the largest share of them allowed to differ. ``now``
    (default: the clock) is when freshness is judged and point-in-time values are taken;
    online values are always read as they are.
    """
    if not 0.0 <= max_mismatch_rate <= 1.0:
        msg = f"max_mismatch_rate is {max_mismatch_rate!r}; give a fraction from 0 to 1"
        raise RequestError(msg)
    model = get_model(store, name, version)
    dataset = dataset_by_id(store, model.training_dataset_id)
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    records = record_store(store, KIND)
    previous = records.ref(name)
    registry_version = store.registry.resolve(store.pinned_version or "HEAD")
    current = store.registry.read(registry_version).definitions
    checks = [
        check_compatibility(store, dataset, current),
        check_freshness(store, dataset, current, moment),
        check_skew(
            store,
            dataset,
            current,
            moment,
            sample=skew_sample,
            max_mismatch_rate=max_mismatch_rate,
            seed=seed,
        ),
    ]
    report = DeployReport(model.name, model.version, tuple(checks))
    if not report.ok:
        reasons = "; ".join(d for c in report.failed for d in c.details[:1])
        failed = ", ".join(c.name for c in report.failed)
        msg = f"deploy of model {name!r} version {model.version!r} refused ({failed}): {reasons}"
        raise DeployRefusedError(msg, report)
    record = Deployment(
        id="",
        model=model.name,
        version=model.version,
        model_id=model.id,
        registry_version=registry_version,
        feature_refs=model.feature_refs,
        deployed_at=moment,
        deployed_by=default_author(store.repo_path),
        previous=previous or "",
        rolled_back_from=_rolled_back_from,
        checks=tuple(checks),
    )
    deployment = _append(records, record, previous)
    return DeployReport(model.name, model.version, tuple(checks), deployment)


def undeploy_model(store: FeatureStore, name: str) -> Deployment:
    """Stop serving model ``name``: record a deployment without a version."""
    records = record_store(store, KIND)
    current = current_deployment(store, name)
    if current is None:
        msg = f"model {name!r} is not deployed; nothing to undeploy"
        raise NotFoundError(msg)
    record = Deployment(
        id="",
        model=name,
        version="",
        model_id="",
        registry_version=current.registry_version,
        feature_refs=(),
        deployed_at=datetime.now(UTC),
        deployed_by=default_author(store.repo_path),
        previous=current.id,
        rolled_back_from="",
    )
    return _append(records, record, current.id)


def rollback_deployment(
    store: FeatureStore,
    name: str,
    *,
    skew_sample: int = DEFAULT_SKEW_SAMPLE,
    max_mismatch_rate: float = DEFAULT_MAX_MISMATCH_RATE,
    now: datetime | None = None,
) -> DeployReport:
    """Deploy again the version that was deployed before the current one (after the same
    checks as any deploy)."""
    history = deployment_history(store, name)
    current_version = history[0].version if history else ""
    target = next((d for d in history[1:] if d.active and d.version != current_version), None)
    if target is None:
        shown = f"version {current_version!r}" if current_version else "nothing"
        msg = (
            f"model {name!r} has no earlier deployment to roll back to "
            f"(currently deployed: {shown})"
        )
        raise NotFoundError(msg)
    return deploy_model(
        store,
        name,
        target.version,
        skew_sample=skew_sample,
        max_mismatch_rate=max_mismatch_rate,
        now=now,
        _rolled_back_from=target.id,
    )


def current_deployment(store: FeatureStore, name: str) -> Deployment | None:
    """The deployed version of model ``name``, or None when it is not deployed."""
    record_id = record_store(store, KIND).ref(name)
    if record_id is None:
        return None
    record = deployment_by_id(store, record_id)
    return record if record.active else None


def deployment_history(
    store: FeatureStore, name: str, limit: int | None = None
) -> list[Deployment]:
    """Deployment records of model ``name``, newest first (undeploys included)."""
    out: list[Deployment] = []
    record_id = record_store(store, KIND).ref(name)
    while record_id and (limit is None or len(out) < limit):
        record = deployment_by_id(store, record_id)
        out.append(record)
        record_id = record.previous
    return out


def list_deployments(store: FeatureStore) -> list[Deployment]:
    """The newest record of every model ever deployed (inactive ones are undeploys)."""
    refs = record_store(store, KIND).refs()
    return [deployment_by_id(store, rid) for _, rid in sorted(refs.items())]


def deployment_by_id(store: FeatureStore, record_id: str) -> Deployment:
    """A deployment record (records never change, so they are cached by id)."""
    key = (store.registry.state_url(KIND), record_id)
    cached = _RECORDS.get(key)
    if cached is None:
        msg = record_store(store, KIND).get(record_id, pb.Deployment)
        cached = deployment_from_proto(record_id, msg)
        if len(_RECORDS) >= _RECORDS_KEPT:
            _RECORDS.clear()
        _RECORDS[key] = cached
    return cached


def deployed_features(store: FeatureStore, model_name: str) -> list[str]:
    """The ``view:feature`` refs of the deployed version of ``model_name``, in training
    order. Raises ``NotFoundError`` when the model is not deployed."""
    deployment = current_deployment(store, model_name)
    if deployment is None:
        deployed = sorted(d.model for d in list_deployments(store) if d.active)
        msg = f"model {model_name!r} is not deployed; deployed models: {deployed or 'none'}"
        raise NotFoundError(msg)
    return list(deployment.feature_refs)


def _append(records: RecordStore, record: Deployment, previous: str | None) -> Deployment:
    record_id = records.put(deployment_to_proto(record))
    records.swap(record.model, record_id, expected=previous)
    return deployment_from_proto(record_id, deployment_to_proto(record))
