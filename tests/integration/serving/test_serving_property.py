"""Hypothesis: any lookup through the server equals the same lookup in-process (the
reference), values, statuses and event times, for any rows, duplicates and feature order."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from featurestore.serving.client import FeatureClient

pytestmark = [pytest.mark.grpc, pytest.mark.slow]

FEATURES = ["driver_stats:conv_rate", "driver_stats:trips", "driver_stats:city"]
T1 = datetime(2026, 1, 1, tzinfo=UTC)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    ids=st.lists(st.integers(0, 12), min_size=1, max_size=20),
    features=st.lists(st.sampled_from(FEATURES), min_size=1, max_size=3, unique=True),
    full_names=st.booleans(),
)
def test_remote_lookup_equals_in_process(
    applied_repo: Callable[[str], Any],
    serve: Callable[..., Any],
    unique_project: str,
    ids: list[int],
    features: list[str],
    full_names: bool,
) -> None:
    store, client = _served(applied_repo, serve, unique_project)
    rows = {"driver_id": ids}
    remote = client.get_online_features(features, rows, full_feature_names=full_names)
    local = store.get_online_features(features, rows, full_feature_names=full_names)
    assert remote.to_arrow(with_status=True).equals(local.to_arrow(with_status=True))


_cache: dict[str, tuple[Any, FeatureClient]] = {}


def _served(
    applied_repo: Callable[[str], Any], serve: Callable[..., Any], project: str
) -> tuple[Any, FeatureClient]:
    """One store and server per test run (hypothesis calls the test many times)."""
    if project not in _cache:
        _cache.clear()
        store = applied_repo(f"project: {project}\n")
        # ids 0-9 exist: some with null trips/city, one row older than the others.
        n = 10
        store.push(
            "driver_push",
            pa.table(
                {
                    "driver_id": pa.array(range(n), pa.int64()),
                    "event_timestamp": pa.array(
                        [T1 - timedelta(days=i) for i in range(n)], pa.timestamp("us", tz="UTC")
                    ),
                    "conv_rate": [i / 10 for i in range(n)],
                    "trips": pa.array([None if i % 3 == 0 else i for i in range(n)], pa.int64()),
                    "city": [None if i % 4 == 0 else f"c{i}" for i in range(n)],
                }
            ),
        )
        _cache[project] = (store, FeatureClient(serve(store).address))
    return _cache[project]
