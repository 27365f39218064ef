"""A real repo and registry served with online values read from a dict.

Only the online store is replaced here (by ``DictOnlineStore``, whose values go through the
real codec and reader): these tests pin the server's own behaviour (codec, errors, auth,
health, reload) over real gRPC. Redis and SQLite are covered in tests/integration/serving.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from featurestore import Entity, FeatureService, FeatureView, Field, ParquetSource, PushSource
from featurestore.definitions.collection import Definitions
from featurestore.errors import OnlineStoreUnavailableError
from featurestore.online._pack import codec_for
from featurestore.online.base import OnlineStore, ReadRequest, WriteBatch
from featurestore.serving.server import FeatureServer, ServeOptions
from featurestore.store import FeatureStore
from featurestore.types import Float64, Int64, String

STORED_AT_US = np.array([time.time_ns() // 1000])  # event time of every stored row


def build_definitions(project: str, extra_feature: bool = False) -> Definitions:
    driver = Entity(name="driver", join_keys=["driver_id"])
    source = ParquetSource(path="data/driver.parquet", timestamp_field="event_timestamp")
    schema = [Field("conv_rate", Float64), Field("trips", Int64), Field("city", String)]
    if extra_feature:
        schema.append(Field("rating", Float64))
    stats = FeatureView(
        name="driver_stats",
        entities=[driver],
        schema=schema,
        source=source,
        ttl=timedelta(days=1),
    )
    pushed = FeatureView(
        name="driver_live",
        entities=[driver],
        schema=[Field("speed", Float64)],
        source=PushSource(name="driver_push", batch_source=source),
    )
    service = FeatureService(name="ranker", features=[stats[["conv_rate", "trips"]]])
    return Definitions.build(project, [driver, stats, pushed, service])


class DictStore(FeatureStore):
    """A FeatureStore whose online store holds ``self.rows`` (driver_id → feature values,
    stored when the tests started) and is unreachable while ``self.down``; pushes are
    recorded in ``self.pushed``."""

    rows: dict[int, dict[str, Any]]
    down: bool = False
    pushed: list[tuple[str, pa.Table, str]]

    @cached_property
    def online_store(self) -> OnlineStore:
        return DictOnlineStore(self)

    def push(self, push_source: str, df: Any, to: str = "online") -> int:
        self.definitions().views_of_push_source(push_source)
        self.pushed.append((push_source, df, to))
        return int(df.num_rows)


class DictOnlineStore:
    """Reads of a ``DictStore``'s rows, packed by the real codec (as a store holds them)."""

    def __init__(self, store: DictStore) -> None:
        self.store = store

    def read(self, requests: Sequence[ReadRequest]) -> list[list[bytes | None]]:
        if self.store.down:
            raise OnlineStoreUnavailableError("redis at 127.0.0.1:1 refused the connection")
        out = []
        for request in requests:
            keys = request.keys if isinstance(request.keys, list) else request.keys.to_pylist()
            values: list[bytes | None] = []
            for key in keys:
                row = self.store.rows.get(int(key))
                if row is None:
                    values.append(None)
                    continue
                columns = {
                    f.name: pa.array([row.get(f.name)], f.dtype.to_arrow())
                    for f in request.view.schema
                }
                packed = codec_for(request.view).encode(columns, STORED_AT_US, STORED_AT_US)
                values.append(packed[0].as_py())
            out.append(values)
        return out

    def write(self, batch: WriteBatch) -> int:
        raise NotImplementedError("DictStore.push records pushes instead")

    def delete_view(self, view: str) -> int:
        return 0

    def teardown(self) -> None:
        pass

    def close(self) -> None:
        pass


@pytest.fixture
def store(make_repo: Callable[..., Path]) -> DictStore:
    repo = make_repo(config="project: serving_test\nregistry: data/registry\n")
    s = DictStore(repo)
    s.rows = {
        1: {"conv_rate": 0.5, "trips": 10, "city": "Oslo"},
        2: {"conv_rate": None, "trips": 3, "city": "Rome"},
    }
    s.pushed = []
    s.registry.commit(build_definitions(s.project), parent=None, author="test")
    return s


@pytest.fixture
def serve(store: DictStore) -> Iterator[Callable[..., FeatureServer]]:
    """Start servers on free loopback ports; all are stopped at the end of the test."""
    started: list[FeatureServer] = []

    def start(**options: Any) -> FeatureServer:
        options.setdefault("port", 0)
        server = FeatureServer(options.pop("store", store), ServeOptions(**options))
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop(grace=0)


@pytest.fixture
def definitions() -> Callable[..., Definitions]:
    """``definitions(project, extra_feature=False)``: the served definitions, optionally
    with one more feature (a new registry version)."""
    return build_definitions
