"""Fixtures: the lifecycle repo on the embedded SQLite store and on a real Redis."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from lifecycle_flow import Flow, make_flow


@pytest.fixture
def flow(make_repo: Callable[..., Path]) -> Flow:
    """On the embedded defaults (SQLite)."""
    return make_flow(make_repo)


@pytest.fixture
def redis_flow(
    make_repo: Callable[..., Path], redis_url: str, unique_project: str
) -> Iterator[Flow]:
    """On a real Redis, under a project name no other test uses (removed afterwards)."""
    online = f"online_store:\n  type: redis\n  url: {redis_url}\n"
    f = make_flow(make_repo, online, project=unique_project)
    yield f
    f.store.teardown()
