"""Fixtures shared by every test: throwaway feature repos and a real Redis."""

from __future__ import annotations

import os
import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REDIS_URL = os.environ.get("FEATURESTORE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture
def make_repo(tmp_path: Path) -> Callable[..., Path]:
    """Write a feature repo: ``featurestore.yaml`` plus ``{filename: python source}``."""

    def make(
        files: dict[str, str] | None = None,
        config: str = "project: test_project\n",
        name: str = "repo",
    ) -> Path:
        repo = tmp_path / name
        repo.mkdir(parents=True, exist_ok=True)
        (repo / "featurestore.yaml").write_text(textwrap.dedent(config))
        for filename, source in (files or {}).items():
            path = repo / filename
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(source))
        return repo

    return make


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A real Redis. Outside CI a missing server skips the test; in CI it fails it."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        if IN_CI:
            pytest.fail(f"CI=true but Redis at {REDIS_URL} is unreachable: {exc}")
        pytest.skip(f"no Redis at {REDIS_URL}")
    finally:
        client.close()
    yield REDIS_URL


@pytest.fixture
def unique_project() -> str:
    """A project name no other test (or earlier run) uses, so Redis keys never collide."""
    return f"t_{uuid.uuid4().hex[:12]}"
