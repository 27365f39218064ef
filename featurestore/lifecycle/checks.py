"""The three checks a model must pass before it is deployed.

* **compatibility**: the current definition of every view the model read is its trained
  definition, or differs from it only in ways that leave the model's features unchanged
  (metadata, new features, serving settings, changes to features it does not use). A removed
  view or a breaking change (``featurestore.repo.diff``) to what it uses fails.
* **freshness**: every feature view it reads is online, has been materialized, and its
  watermark is within its ttl of now and no more than one scheduled run behind its schedule.
* **skew**: for a sample of the training dataset's entities, the online values equal the
  point-in-time values at now; the share of entities with any difference must not exceed
  ``max_mismatch_rate``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from featurestore.definitions import FeatureView
from featurestore.definitions.collection import Definitions
from featurestore.definitions.schedule import latest_tick
from featurestore.errors import FeatureStoreError
from featurestore.lifecycle.records import DeployCheck, TrainingDataset, ViewLineage
from featurestore.registry.store import short
from featurestore.repo.diff import Severity, diff_object, format_ttl
from featurestore.repo.fingerprint import data_fingerprint

if TYPE_CHECKING:
    from featurestore.store import FeatureStore

ENTITY_TIMESTAMP = "event_timestamp"
_EXAMPLES = 3


def check_compatibility(
    store: FeatureStore, dataset: TrainingDataset, current: Definitions
) -> DeployCheck:
    """Whether the current definitions still give the features the model was trained on."""
    try:
        trained = store.registry.read(dataset.registry_version).definitions
    except FeatureStoreError as exc:
        trained_at = short(dataset.registry_version)
        detail = f"cannot read the trained registry version {trained_at}: {exc}"
        return DeployCheck("compatibility", False, (detail,))
    problems: list[str] = []
    notes: list[str] = []
    for lineage in dataset.views:
        try:
            now = current.get(lineage.view)
        except FeatureStoreError:
            problems.append(f"view {lineage.view!r} was removed since training")
            continue
        if data_fingerprint(now, current) == lineage.data_fingerprint:
            continue
        try:
            old = trained.get(lineage.view)
        except FeatureStoreError:  # pragma: no cover - the manifest came from this version
            problems.append(f"view {lineage.view!r} is missing from the trained registry")
            continue
        if type(old) is not type(now):
            problems.append(f"view {lineage.view!r} changed kind since training")
            continue
        changes = diff_object(old, now)
        breaking = [
            c for c in changes if c.severity is Severity.BREAKING and _relevant(c.field, lineage)
        ]
        for c in breaking:
            problems.append(
                f"view {lineage.view!r}: breaking change to {c.field}: "
                f"{c.old or '(none)'} -> {c.new or '(none)'}"
            )
        if not breaking:
            fields = ", ".join(sorted({c.field for c in changes})) or "an upstream view"
            notes.append(f"view {lineage.view!r} changed compatibly ({fields})")
    if problems:
        return DeployCheck("compatibility", False, tuple(problems + notes))
    trained_at = short(dataset.registry_version)
    summary = f"{len(dataset.views)} view(s) compatible with the trained registry {trained_at}"
    return DeployCheck("compatibility", True, (summary, *notes))


def _relevant(field: str, lineage: ViewLineage) -> bool:
    """Whether a change to ``field`` can alter the features the model took from the view."""
    if not field.startswith("schema.") or not lineage.features:
        return True
    return field.split(".")[1] in lineage.features


def check_freshness(
    store: FeatureStore, dataset: TrainingDataset, current: Definitions, now: datetime
) -> DeployCheck:
    """Whether every feature view the model reads is materialized and fresh at ``now``."""
    from featurestore.materialize.watermarks import get_watermark

    problems: list[str] = []
    fine: list[str] = []
    for view in feature_views(dataset, current):
        if not view.online:
            problems.append(f"view {view.name!r} is not online (online=False); it cannot serve")
            continue
        watermark = get_watermark(store, view)
        if watermark is None:
            problems.append(
                f"view {view.name!r} was never materialized; run `featurestore materialize`"
            )
            continue
        age = now - watermark
        stamp = f"{watermark:%Y-%m-%d %H:%M:%S}"
        if view.ttl and age > view.ttl:
            problems.append(
                f"view {view.name!r} is stale: materialized up to {stamp} ({_ago(age)} ago), "
                f"older than its ttl {format_ttl(view.ttl)}"
            )
            continue
        if view.schedule:
            due = latest_tick(view.schedule, now)
            before = latest_tick(view.schedule, due - timedelta(microseconds=1))
            if watermark < before:
                problems.append(
                    f"view {view.name!r} is behind its schedule {view.schedule!r}: materialized "
                    f"up to {stamp}, but the run due at {before:%Y-%m-%d %H:%M} should have "
                    "covered that"
                )
                continue
        fine.append(f"view {view.name!r} materialized up to {stamp} ({_ago(age)} ago)")
    return DeployCheck("freshness", not problems, tuple(problems + fine))


def check_skew(
    store: FeatureStore,
    dataset: TrainingDataset,
    current: Definitions,
    now: datetime,
    *,
    sample: int,
    max_mismatch_rate: float,
    seed: int = 0,
) -> DeployCheck:
    """Online values against point-in-time values at ``now`` for a sample of entities."""
    views = feature_views(dataset, current)
    keys = list(dict.fromkeys(k for v in views for k in v.join_keys))
    refs = [f"{v.name}:{f}" for v in views for f in _features(dataset, v)]
    if sample <= 0 or not refs:
        return DeployCheck("skew", True, ("skipped (no sample requested or no stored features)",))
    if not keys:
        return DeployCheck("skew", True, ("skipped: the views have no entity keys to sample",))
    missing = [k for k in keys if k not in dataset.entity_columns]
    if missing:
        detail = f"the training dataset has no column(s) {missing} to sample entities from"
        return DeployCheck("skew", False, (detail,))
    rows = _sample(dataset.to_arrow().select(keys), sample, seed)
    if rows.num_rows == 0:
        return DeployCheck("skew", True, ("skipped: the training dataset has no entity rows",))
    online = store.get_online_features(
        refs, {k: rows.column(k).to_pylist() for k in keys}, full_feature_names=True
    ).to_arrow()
    entity_df = rows.append_column(
        ENTITY_TIMESTAMP, pa.array([now] * rows.num_rows, pa.timestamp("us", "UTC"))
    )
    offline = store.get_historical_features(entity_df, refs, full_feature_names=True).to_arrow()
    bad_rows: set[int] = set()
    examples: list[str] = []
    per_feature: dict[str, int] = {}
    for ref in refs:
        column = ref.replace(":", "__")
        got = online.column(column).to_pylist()
        want = offline.column(column).to_pylist()
        for i, (a, b) in enumerate(zip(got, want, strict=True)):
            if not same_value(a, b):
                bad_rows.add(i)
                per_feature[column] = per_feature.get(column, 0) + 1
                if len(examples) < _EXAMPLES:
                    who = ", ".join(f"{k}={rows.column(k)[i].as_py()}" for k in keys)
                    examples.append(f"{who}: {ref} online {a!r}, point-in-time {b!r}")
    rate = len(bad_rows) / rows.num_rows
    passed = rate <= max_mismatch_rate
    summary = (
        f"mismatch rate {rate:.2%} ({len(bad_rows)} of {rows.num_rows} sampled entities) "
        f"{'within' if passed else 'above'} the threshold {max_mismatch_rate:.2%}"
    )
    counts = [f"{name}: {n} mismatch(es)" for name, n in per_feature.items()]
    return DeployCheck("skew", passed, (summary, *counts, *examples))


def feature_views(dataset: TrainingDataset, current: Definitions) -> list[FeatureView]:
    """The current definitions of the feature views (not on-demand) the dataset read."""
    return [
        current.feature_views[v.view]
        for v in dataset.views
        if v.kind == "feature view" and v.view in current.feature_views
    ]


def _features(dataset: TrainingDataset, view: FeatureView) -> Sequence[str]:
    lineage = dataset.view(view.name)
    return lineage.features or view.feature_names


def _sample(keys: pa.Table, n: int, seed: int) -> pa.Table:
    """Up to ``n`` distinct key rows, chosen reproducibly by ``seed``."""
    distinct = keys.drop_null().group_by(keys.column_names, use_threads=False).aggregate([])
    if distinct.num_rows <= n:
        return distinct
    picks = sorted(random.Random(seed).sample(range(distinct.num_rows), n))
    return distinct.take(picks)


def same_value(a: Any, b: Any) -> bool:
    """Equal, with floats equal to a relative 1e-6 (Float32 round trips) and NaN == NaN."""
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-12)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, datetime) and isinstance(b, datetime):
        return _utc(a) == _utc(b)
    return bool(a == b)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _ago(age: timedelta) -> str:
    seconds = max(0, int(age.total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
