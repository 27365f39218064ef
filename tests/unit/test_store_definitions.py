"""``FeatureStore.definitions()``: the HEAD pointer is read at most every ``registry_ttl``
seconds, at once after this store's own writes or ``refresh()``, and never when pinned."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import featurestore.store
from featurestore import FeatureStore
from featurestore.errors import RegistryError

FEATURES = """
from featurestore import Entity, FeatureView, Field, ParquetSource
from featurestore.types import Int64

member = Entity(name="member", join_keys=["member_id"])
activity = FeatureView(
    name="activity",
    entities=[member],
    schema=[Field("plays", Int64)],
    source=ParquetSource(path="data/activity.parquet"),
    description="DESCRIPTION",
)
"""


class Clock:
    """The monotonic clock ``definitions()`` reads, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(featurestore.store, "_monotonic", fake)
    return fake


@pytest.fixture
def repo(make_repo: Callable[..., Path]) -> Path:
    path = make_repo({"features.py": FEATURES})
    apply(FeatureStore(path), "v1")
    return path


def apply(store: FeatureStore, message: str) -> None:
    store.apply(message, plan=store.plan(check_data=False))  # no data files needed here


def apply_elsewhere(repo: Path, description: str) -> str:
    """A new version committed by another process's store (a fresh object)."""
    (repo / "features.py").write_text(FEATURES.replace("DESCRIPTION", description))
    other = FeatureStore(repo)
    apply(other, description)
    version = other.registry.head()
    assert version is not None
    return version


def description(store: FeatureStore) -> str:
    return store.definitions().feature_view("activity").description


def count_calls(monkeypatch: pytest.MonkeyPatch, obj: object, name: str) -> list[int]:
    calls: list[int] = []
    real = getattr(obj, name)

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(obj, name, counting)
    return calls


def test_head_is_read_at_most_once_per_interval_and_a_new_version_is_seen_after_it(
    repo: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FeatureStore(repo, registry_ttl=1.0)
    assert description(store) == "DESCRIPTION"
    heads = count_calls(monkeypatch, store.registry, "head")
    apply_elsewhere(repo, "second")
    clock.now += 0.999  # still inside the interval: no pointer read, the old version
    assert [description(store) for _ in range(50)] == ["DESCRIPTION"] * 50
    assert heads == []
    clock.now += 0.002  # the interval has passed: one pointer read finds the new version
    assert description(store) == "second"
    assert description(store) == "second"
    assert len(heads) == 1


def test_an_unchanged_pointer_does_not_reread_the_version(
    repo: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FeatureStore(repo)
    first = store.definitions()
    reads = count_calls(monkeypatch, store.registry, "read")
    heads = count_calls(monkeypatch, store.registry, "head")
    clock.now += 5  # several intervals later: the pointer is read, it has not moved
    assert store.definitions() is first
    assert len(heads) == 1
    assert len(reads) == 1  # served from the registry's cache of immutable versions


@pytest.mark.parametrize(
    "ttl",
    [
        0.0,  # edge: no interval, every call reads the pointer (the old behaviour)
        -1.0,  # edge: a negative interval behaves as 0
    ],
)
def test_a_zero_interval_reads_the_pointer_on_every_call(
    repo: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch, ttl: float
) -> None:
    store = FeatureStore(repo, registry_ttl=ttl)
    store.definitions()
    heads = count_calls(monkeypatch, store.registry, "head")
    apply_elsewhere(repo, "now")
    assert description(store) == "now"
    store.definitions()
    assert len(heads) == 2


def test_refresh_reads_the_pointer_at_once(repo: Path, clock: Clock) -> None:
    store = FeatureStore(repo, registry_ttl=3600)
    assert description(store) == "DESCRIPTION"
    apply_elsewhere(repo, "refreshed")
    assert description(store) == "DESCRIPTION"
    assert store.refresh().feature_view("activity").description == "refreshed"
    assert description(store) == "refreshed"


def test_this_stores_own_apply_is_seen_at_once(repo: Path, clock: Clock) -> None:
    store = FeatureStore(repo, registry_ttl=3600)
    assert description(store) == "DESCRIPTION"
    (repo / "features.py").write_text(FEATURES.replace("DESCRIPTION", "mine"))
    apply(store, "mine")
    assert description(store) == "mine"


def test_a_pinned_version_is_never_reread(
    repo: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    v1 = FeatureStore(repo).registry.head()
    assert v1 is not None
    store = FeatureStore(repo, registry_version=v1[:8], registry_ttl=0)  # a prefix, resolved once
    assert description(store) == "DESCRIPTION"
    heads = count_calls(monkeypatch, store.registry, "head")
    reads = count_calls(monkeypatch, store.registry, "read")
    versions = count_calls(monkeypatch, store.registry, "versions")
    v2 = apply_elsewhere(repo, "second")
    clock.now += 10_000
    assert [description(store) for _ in range(20)] == ["DESCRIPTION"] * 20
    assert (heads, reads, versions) == ([], [], [])
    store.pinned_version = v2  # what the server does when it switches versions
    assert description(store) == "second"
    assert len(reads) == 1 and heads == []


def test_an_empty_registry_is_an_error_every_time(
    make_repo: Callable[..., Path], clock: Clock
) -> None:
    repo = make_repo({"features.py": FEATURES})
    store = FeatureStore(repo)
    for _ in range(2):
        with pytest.raises(RegistryError, match="featurestore apply"):
            store.definitions()
    apply(store, "first")
    assert description(store) == "DESCRIPTION"
