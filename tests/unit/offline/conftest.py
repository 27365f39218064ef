"""Fixtures for training-frame tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from offline_support import Offline


@pytest.fixture
def offline(tmp_path: Path) -> Offline:
    """A feature repo in a temp dir; definitions are passed directly (no registry)."""
    return Offline(tmp_path)
