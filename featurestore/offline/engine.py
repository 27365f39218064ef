"""DuckDB connections configured from ``offline_store`` in ``featurestore.yaml``."""

from __future__ import annotations

from pathlib import Path

import duckdb

from featurestore.repo.config import OfflineConfig


def connect(config: OfflineConfig, repo_path: Path) -> duckdb.DuckDBPyConnection:
    """A new in-memory DuckDB connection with the configured memory limit, threads and
    spill directory (relative paths are under the repo)."""
    conn = duckdb.connect(":memory:")
    if config.memory_limit:
        conn.execute(f"SET memory_limit = '{_quote(config.memory_limit)}'")
    if config.threads:
        conn.execute(f"SET threads = {int(config.threads)}")
    if config.temp_directory:
        temp = Path(config.temp_directory)
        temp = temp if temp.is_absolute() else repo_path / temp
        temp.mkdir(parents=True, exist_ok=True)
        conn.execute(f"SET temp_directory = '{_quote(str(temp))}'")
    conn.execute("SET TimeZone = 'UTC'")
    conn.execute("SET enable_progress_bar = false")  # callers report progress themselves
    return conn


def _quote(text: str) -> str:
    return text.replace("'", "''")
