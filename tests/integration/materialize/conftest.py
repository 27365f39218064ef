"""Materialize tests share the online tests' repo fixtures (``tests/integration/online``)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "online"))

from online_support import backend, repo_factory  # noqa: F401
