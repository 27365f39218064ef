"""Online reads cache their plan per registry version: a new version (here a shorter ttl)
changes what reads return once the store has noticed it, and a pinned store never does."""

from __future__ import annotations

import textwrap

import pytest
from online_support import DEFINITIONS, activity_row, ts

import featurestore.store
from featurestore import FeatureStore
from featurestore.online.response import FeatureStatus


def status_and_plays(store: FeatureStore) -> tuple[FeatureStatus, int | None]:
    resp = store.get_online_features(["activity:plays"], {"member_id": [1]})
    return resp.statuses()["plays"][0], resp.to_dict()["plays"][0]


def test_a_new_ttl_reaches_reads_after_the_interval_and_never_a_pinned_store(
    repo_factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [1000.0]
    monkeypatch.setattr(featurestore.store, "_monotonic", lambda: clock[0])
    store = repo_factory(activity=[activity_row(1, 0, plays=7)])  # ttl of ten years
    store.materialize(ts(-1), ts(1))
    repo = store.repo_path
    reader = FeatureStore(repo, registry_ttl=1.0)
    pinned = FeatureStore(repo, registry_version=store.registry.head())
    present = (FeatureStatus.PRESENT, 7)
    assert status_and_plays(reader) == present
    assert status_and_plays(pinned) == present

    # Another process applies a one-day ttl: the value (from 2026-01-01) is now too old.
    (repo / "definitions.py").write_text(textwrap.dedent(DEFINITIONS).replace("TTL_DAYS", "1"))
    FeatureStore(repo).apply("one-day ttl")

    assert status_and_plays(reader) == present  # inside the interval: the cached plan
    clock[0] += 1.5
    assert status_and_plays(reader) == (FeatureStatus.EXPIRED, None)
    assert status_and_plays(FeatureStore(repo)) == (FeatureStatus.EXPIRED, None)
    clock[0] += 3600
    assert status_and_plays(pinned) == present  # the pinned version's ttl, always
