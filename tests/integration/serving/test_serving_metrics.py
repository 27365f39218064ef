"""Metrics over HTTP from a real server: per-view freshness after a materialization."""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

pytestmark = pytest.mark.grpc


def scrape(server: Any) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{server.metrics_port}/metrics") as reply:
        return str(reply.read().decode())


def test_freshness_follows_the_watermark(data_store: Any, serve: Callable[..., Any]) -> None:
    server = serve(data_store, metrics_port=0)
    assert "featurestore_view_freshness_seconds{" not in scrape(server)  # nothing materialized
    end = datetime.now(UTC) - timedelta(hours=1)
    data_store.materialize(datetime(2025, 12, 1, tzinfo=UTC), end)
    found = re.search(
        r'featurestore_view_freshness_seconds\{view="driver_stats"\} (\S+)', scrape(server)
    )
    assert found is not None
    assert 3600 <= float(found.group(1)) < 3600 + 300  # an hour old, give or take the test
    text = scrape(server)
    assert "featurestore_online_store_up 1.0" in text
    assert "featurestore_registry_version_info{version=" in text
