"""Plan against the registry head, apply as a compare-and-swap, and only on a change."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from featurestore import FeatureStore
from featurestore.errors import RegistryConflictError
from featurestore.registry.store import RegistryStore, short
from featurestore.repo.diff import Severity

FEATURES = """
from featurestore import Entity, FeatureService, FeatureView, Field, ParquetSource
from featurestore.types import Int64

member = Entity(name="member", join_keys=["member_id"])
activity = FeatureView(
    name="activity",
    entities=[member],
    schema=[Field("plays", Int64)],
    source=ParquetSource(path="data/activity.parquet"),
    owner="OWNER",
)
svc = FeatureService("svc", [activity])
"""


@pytest.fixture
def repo(make_repo: Callable[..., Path]) -> Path:
    return make_repo({"features.py": FEATURES})


def set_owner(repo: Path, owner: str) -> None:
    (repo / "features.py").write_text(FEATURES.replace("OWNER", owner))


def test_first_plan_adds_everything_and_apply_writes_one_version(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEATURESTORE_AUTHOR", "ana@example.com")
    store = FeatureStore(repo)
    plan = store.plan(check_data=False)
    assert plan.base_version is None and plan.has_changes
    assert [(c.kind, c.action) for c in plan.changes] == [
        ("entity", "add"),
        ("feature view", "add"),
        ("feature service", "add"),
    ]
    applied = store.apply("first", plan=plan)
    assert applied.applied_version == store.registry.head()
    snap = store.registry.read(applied.applied_version or "")
    assert (snap.author, snap.message, snap.parent) == ("ana@example.com", "first", None)
    assert snap.definitions == store.load_repo()


def test_applying_an_unchanged_repo_writes_nothing(repo: Path) -> None:
    store = FeatureStore(repo)
    first = store.apply(plan=store.plan(check_data=False)).applied_version
    again = store.plan(check_data=False)
    assert not again.has_changes and again.base_version == first
    assert store.apply(plan=again).applied_version is None
    assert store.registry.versions() == [first]
    assert "No changes" in again.render()


def test_a_metadata_change_is_planned_and_applied_as_a_new_version(repo: Path) -> None:
    store = FeatureStore(repo)
    first = store.apply(plan=store.plan(check_data=False)).applied_version
    set_owner(repo, "bo")
    plan = store.plan(check_data=False)
    (change,) = plan.changes
    assert (change.name, change.severity) == ("activity", Severity.METADATA)
    assert not plan.has_breaking_changes
    second = store.apply("owner", plan=plan).applied_version
    assert second is not None and second != first
    assert store.registry.read(second).parent == first


def test_a_stale_plan_is_refused_and_the_other_apply_is_kept(repo: Path) -> None:
    mine, theirs = FeatureStore(repo), FeatureStore(repo)
    base = mine.apply(plan=mine.plan(check_data=False)).applied_version
    set_owner(repo, "bo")
    stale = mine.plan(check_data=False)
    set_owner(repo, "cy")
    winner = theirs.apply(plan=theirs.plan(check_data=False)).applied_version
    with pytest.raises(RegistryConflictError) as info:
        mine.apply(plan=stale)
    assert f"now at {short(winner)}, plan was made at {short(base)}" in str(info.value)
    assert mine.registry.head() == winner
    owner = mine.definitions().feature_views["activity"].owner
    assert owner == "cy"


def test_rendering_is_readable_plain_text_for_pull_requests(repo: Path) -> None:
    store = FeatureStore(repo)
    store.apply(plan=store.plan(check_data=False))
    set_owner(repo, "[bold]bo")  # markup-looking text is shown, not interpreted
    text = store.plan(check_data=False).render()
    assert "\x1b[" not in text
    assert "~ feature view activity  (metadata)" in text
    assert "~ owner: OWNER -> [bold]bo  (metadata)" in text
    assert "Plan: 0 to add, 1 to change, 0 to remove (0 breaking)." in text
    assert "source data was not checked" in text


def test_registry_at_an_fsspec_url_from_the_config(make_repo: Callable[..., Path]) -> None:
    url = f"memory://plan-{uuid.uuid4().hex}/registry"
    repo = make_repo({"features.py": FEATURES}, config=f"project: p\nregistry: {url}\n")
    store = FeatureStore(repo)
    assert store.registry.url == url
    version = store.apply(plan=store.plan(check_data=False)).applied_version
    assert RegistryStore(url).head() == version
    assert FeatureStore(repo).definitions() == store.load_repo()
    assert not (repo / "data").exists()  # nothing written locally


def test_a_pinned_version_prefix_reads_that_version(repo: Path) -> None:
    store = FeatureStore(repo)
    first = store.apply(plan=store.plan(check_data=False)).applied_version or ""
    set_owner(repo, "bo")
    store.apply(plan=store.plan(check_data=False))
    pinned = FeatureStore(repo, registry_version=first[:10])
    assert pinned.definitions().feature_views["activity"].owner == "OWNER"
    assert FeatureStore(repo).definitions().feature_views["activity"].owner == "bo"
