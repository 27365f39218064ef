"""Fixtures for lifecycle unit tests (helpers live in ``lifecycle_support``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from lifecycle_support import Repo, write_activity


@pytest.fixture
def repo(make_repo: Callable[..., Path]) -> Repo:
    path = make_repo(config="project: lifecycle\n")
    write_activity(path)
    r = Repo(path)
    r.define()
    return r
