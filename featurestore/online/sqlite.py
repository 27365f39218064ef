"""The embedded online store: one SQLite file (WAL) under the repo.

One row per (project, view, schema version, entity key) holding the packed record of
``_codec`` and its timestamps; an upsert keeps the stored row when it is newer. Expired
values stay until overwritten or removed (reads report them EXPIRED). Each thread gets its
own connection, so gRPC serving threads can read concurrently.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np

from featurestore.errors import OnlineStoreError, OnlineStoreUnavailableError
from featurestore.online._codec import HEADER_BYTES
from featurestore.online._pack import codec_for
from featurestore.online.base import ReadRequest, WriteBatch

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feature_values (
    project TEXT NOT NULL,
    view TEXT NOT NULL,
    version TEXT NOT NULL,
    entity BLOB NOT NULL,
    event_us INTEGER NOT NULL,
    created_us INTEGER NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (project, view, version, entity)
) WITHOUT ROWID
"""
_UPSERT = """
INSERT INTO feature_values (project, view, version, entity, event_us, created_us, value)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (project, view, version, entity) DO UPDATE SET
    event_us = excluded.event_us, created_us = excluded.created_us, value = excluded.value
WHERE excluded.event_us > feature_values.event_us
   OR (excluded.event_us = feature_values.event_us
       AND excluded.created_us >= feature_values.created_us)
"""
_MAX_PARAMS = 900  # below SQLite's default limit of host parameters per statement

T = TypeVar("T")


class SqliteOnlineStore:
    """Online values of one project in a SQLite file."""

    def __init__(self, path: Path, project: str) -> None:
        self.path = path
        self.project = project
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._guard(lambda: self._conn())  # create the file and table now: fail early

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(_SCHEMA)
            conn.commit()
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def write(self, batch: WriteBatch) -> int:
        view = batch.view
        version = codec_for(view).schema_version
        values = batch.values.to_pylist()
        header = np.frombuffer(b"".join(v[:HEADER_BYTES] for v in values), dtype="<i8")
        event, created = header[0::2].tolist(), header[1::2].tolist()
        rows = [
            (self.project, view.name, version, k, e, c, v)
            for k, e, c, v in zip(batch.keys.to_pylist(), event, created, values, strict=True)
        ]

        def run() -> int:
            conn = self._conn()
            with conn:
                before = conn.total_changes
                conn.executemany(_UPSERT, rows)
                return conn.total_changes - before

        return self._guard(run)

    def read(self, requests: Sequence[ReadRequest]) -> list[list[bytes | None]]:
        def run() -> list[list[bytes | None]]:
            conn = self._conn()
            out = []
            for req in requests:
                version = codec_for(req.view).schema_version
                keys = req.keys if isinstance(req.keys, list) else req.keys.to_pylist()
                found: dict[bytes, bytes] = {}
                for i in range(0, len(keys), _MAX_PARAMS):
                    chunk = list(dict.fromkeys(keys[i : i + _MAX_PARAMS]))
                    marks = ",".join("?" * len(chunk))
                    sql = (
                        "SELECT entity, value FROM feature_values WHERE project = ? "
                        f"AND view = ? AND version = ? AND entity IN ({marks})"
                    )
                    params = (self.project, req.view.name, version, *chunk)
                    found.update(conn.execute(sql, params).fetchall())
                out.append([found.get(k) for k in keys])
            return out

        return self._guard(run)

    def delete_view(self, view: str) -> int:
        def run() -> int:
            conn = self._conn()
            with conn:
                sql = "DELETE FROM feature_values WHERE project = ? AND view = ?"
                return conn.execute(sql, (self.project, view)).rowcount

        return self._guard(run)

    def teardown(self) -> None:
        def run() -> None:
            conn = self._conn()
            with conn:
                conn.execute("DELETE FROM feature_values WHERE project = ?", (self.project,))

        self._guard(run)

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()

    def _guard(self, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except sqlite3.OperationalError as exc:
            msg = f"the SQLite online store at {self.path} is unavailable: {exc}"
            raise OnlineStoreUnavailableError(msg) from None
        except sqlite3.Error as exc:
            msg = f"the SQLite online store at {self.path} failed: {exc}"
            raise OnlineStoreError(msg) from None
