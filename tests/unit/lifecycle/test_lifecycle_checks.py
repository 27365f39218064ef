"""Deploy checks on a real repo and registry: compatibility and freshness."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta

import pytest
from lifecycle_support import Repo

from featurestore.lifecycle.checks import check_compatibility, check_freshness, same_value
from featurestore.materialize.watermarks import advance

NOW = datetime(2026, 1, 10, 12, 30, tzinfo=UTC)


def _compat(repo: Repo, features: tuple[str, ...] = ("plays", "minutes"), **changes: str):
    dataset = repo.dataset(features)
    repo.define(**changes)
    return check_compatibility(repo.store, dataset, repo.store.definitions())


@pytest.mark.parametrize(
    ("changes", "note"),
    [
        ({}, ""),  # nothing changed
        ({"owner": "bo"}, ""),  # metadata only: same data fingerprint
        ({"schedule": "@daily"}, ""),  # serving setting only
        ({"extra_fields": ', Field("rating", Float64)'}, "schema.rating"),  # a new feature
        ({"plays": "Int32"}, ""),  # breaking, but on a feature the model does not use
    ],
)
def test_compatible_changes_pass(repo: Repo, changes: dict[str, str], note: str) -> None:
    features = ("minutes",) if "plays" in changes else ("plays", "minutes")
    check = _compat(repo, features, **changes)
    assert check.passed, check.details
    assert note in "\n".join(check.details)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"plays": "Int32"}, "breaking change to schema.plays: Int64 -> Int32"),  # used type
        ({"ttl": "timedelta(days=5)"}, "breaking change to ttl: 2d -> 5d"),  # ttl
        ({"path": "data/other"}, "breaking change to source.path"),  # source moved
        (
            {"entity_extra": ", value_type=String"},
            "breaking change to join_keys: member_id Int64 -> member_id String",
        ),  # key type
    ],
)
def test_breaking_changes_fail_naming_the_field(
    repo: Repo, changes: dict[str, str], message: str
) -> None:
    if "path" in changes:
        (repo.path / "data" / "other").mkdir()
        shutil.copy(
            repo.path / "data" / "activity" / "part-0.parquet",
            repo.path / "data" / "other" / "part-0.parquet",
        )
    check = _compat(repo, **changes)
    assert not check.passed
    assert any(message in d for d in check.details), check.details


def test_a_removed_view_fails(repo: Repo) -> None:
    dataset = repo.dataset()
    (repo.path / "views.py").write_text(
        "from featurestore import Entity\nmember = Entity(name='member', join_keys=['member_id'])\n"
    )
    defs = repo.store.load_repo()
    repo.store.registry.commit(defs, parent=repo.store.registry.head(), author="t")
    check = check_compatibility(repo.store, dataset, repo.store.definitions())
    assert not check.passed
    assert check.details == ("view 'activity' was removed since training",)


def _fresh(repo: Repo, watermark: datetime | None):
    dataset = repo.dataset()
    defs = repo.store.definitions()
    if watermark is not None:
        advance(repo.store, {defs.feature_view("activity"): watermark})
    return check_freshness(repo.store, dataset, defs, NOW)


def test_never_materialized_fails(repo: Repo) -> None:
    check = _fresh(repo, None)
    assert not check.passed
    assert check.details[0] == (
        "view 'activity' was never materialized; run `featurestore materialize`"
    )


@pytest.mark.parametrize(
    ("age", "passed"),
    [
        (timedelta(days=2), True),  # exactly the ttl: still fresh (inclusive)
        (timedelta(days=2, seconds=1), False),  # one second past the ttl
    ],
)
def test_ttl_bound(repo: Repo, age: timedelta, passed: bool) -> None:
    check = _fresh(repo, NOW - age)
    assert check.passed is passed
    if not passed:
        expected = "is stale: materialized up to 2026-01-08 12:29:59 (2d ago), older than its ttl"
        assert expected in check.details[0]


@pytest.mark.parametrize(
    ("watermark", "passed"),
    [
        (datetime(2026, 1, 10, 12, 0, tzinfo=UTC), True),  # covers the latest tick
        (datetime(2026, 1, 10, 11, 0, tzinfo=UTC), True),  # one run in flight: allowed
        (datetime(2026, 1, 10, 10, 59, tzinfo=UTC), False),  # missed a whole run
    ],
)
def test_schedule_bound(repo: Repo, watermark: datetime, passed: bool) -> None:
    repo.define(schedule="@hourly")
    check = _fresh(repo, watermark)
    assert check.passed is passed, check.details
    if not passed:
        assert check.details[0] == (
            "view 'activity' is behind its schedule '@hourly': materialized up to "
            "2026-01-10 10:59:00, but the run due at 2026-01-10 11:00 should have covered that"
        )


def test_offline_only_view_fails(repo: Repo) -> None:
    repo.define(online="False")
    check = _fresh(repo, NOW)
    assert not check.passed
    assert "not online (online=False)" in check.details[0]


def test_fresh_view_passes_and_says_how_fresh(repo: Repo) -> None:
    check = _fresh(repo, NOW - timedelta(minutes=5))
    assert check.passed
    assert check.details == ("view 'activity' materialized up to 2026-01-10 12:25:00 (5m ago)",)


@pytest.mark.parametrize(
    ("a", "b", "equal"),
    [
        (1.0, 1.0 + 1e-9, True),  # float32 round trip noise
        (1.0, 1.001, False),  # a real difference
        (float("nan"), float("nan"), True),  # NaN equals NaN here
        (None, 0, False),  # null is not zero
        (None, None, True),  # both missing
        ([1.0, 2.0], [1.0, 2.0 + 1e-9], True),  # lists element-wise
        ([1], [1, 2], False),  # lists of different length
        (datetime(2026, 1, 1), datetime(2026, 1, 1, tzinfo=UTC), True),  # naive read as UTC
    ],
)
def test_same_value(a: object, b: object, equal: bool) -> None:
    assert same_value(a, b) is equal


def test_skew_skips_views_without_entity_keys(repo: Repo) -> None:
    import dataclasses

    from featurestore.lifecycle.checks import check_skew
    from featurestore.repo.fingerprint import data_fingerprint

    base = repo.dataset()
    (repo.path / "views.py").write_text(
        "from featurestore import FeatureView, Field, ParquetSource\n"
        "from featurestore.types import Int64\n"
        "totals = FeatureView(name='totals', schema=[Field('plays', Int64)],\n"
        "                     source=ParquetSource(path='data/activity'))\n"
    )
    defs = repo.store.load_repo()
    repo.store.registry.commit(defs, parent=repo.store.registry.head(), author="t")
    lineage = dataclasses.replace(
        base.views[0],
        view="totals",
        data_fingerprint=data_fingerprint(defs.feature_view("totals"), defs),
        features=("plays",),
    )
    dataset = dataclasses.replace(base, views=(lineage,), feature_refs=("totals:plays",))
    check = check_skew(repo.store, dataset, defs, NOW, sample=10, max_mismatch_rate=0.0)
    assert check.passed
    assert check.details == ("skipped: the views have no entity keys to sample",)
