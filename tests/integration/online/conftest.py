"""Fixtures: a feature repo on each online store (SQLite, and a real Redis)."""

from online_support import backend, repo_factory  # noqa: F401
