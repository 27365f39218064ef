"""A real repo and registry served with online reads answered from a dict.

The online store (H3) is replaced here only: these tests pin the server's own behaviour
(codec, errors, auth, health, reload) over real gRPC. The real store path is covered in
tests/integration/serving.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from featurestore import Entity, FeatureService, FeatureView, Field, ParquetSource, PushSource
from featurestore.definitions.collection import Definitions
from featurestore.errors import OnlineStoreUnavailableError, RequestError
from featurestore.online.response import FeatureColumn, FeatureStatus, OnlineResponse
from featurestore.serving.server import FeatureServer, ServeOptions
from featurestore.store import FeatureStore
from featurestore.types import Float64, Int64, String

NOW = datetime(2026, 1, 1, tzinfo=UTC)


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
    """A FeatureStore whose online values come from ``self.rows`` (driver_id → values)."""

    rows: dict[int, dict[str, Any]]
    down: bool = False
    pushed: list[tuple[str, pa.Table, str]]

    def get_online_features(
        self,
        features: Any,
        entity_rows: Sequence[Mapping[str, Any]] | Mapping[str, Sequence[Any]],
        *,
        full_feature_names: bool = False,
    ) -> OnlineResponse:
        selections = self.select(features)  # unknown refs raise like the real store
        if self.down:
            raise OnlineStoreUnavailableError("redis at 127.0.0.1:1 refused the connection")
        if isinstance(entity_rows, pa.Table):
            entity_rows = entity_rows.to_pydict()
        assert isinstance(entity_rows, Mapping)
        if "driver_id" not in entity_rows:
            raise RequestError(f"entity rows lack join key 'driver_id'; got {list(entity_rows)}")
        ids = list(entity_rows["driver_id"])
        columns = []
        for sel in selections:
            for name in sel.features:
                dtype = sel.view.field(name).dtype.to_arrow()
                found = [self.rows.get(i) for i in ids]
                values = [r.get(name) if r else None for r in found]
                statuses = [
                    FeatureStatus.NOT_FOUND
                    if r is None
                    else FeatureStatus.NULL
                    if r.get(name) is None
                    else FeatureStatus.PRESENT
                    for r in found
                ]
                stamps = [NOW if r else None for r in found]
                out = f"{sel.view.name}__{name}" if full_feature_names else name
                columns.append(
                    FeatureColumn(
                        out,
                        pa.array(values, dtype),
                        pa.array(statuses, pa.uint8()),
                        pa.array(stamps, pa.timestamp("us", tz="UTC")),
                    )
                )
        return OnlineResponse(pa.table(dict(entity_rows)), tuple(columns))

    def push(self, push_source: str, df: Any, to: str = "online") -> int:
        self.definitions().views_of_push_source(push_source)
        self.pushed.append((push_source, df, to))
        return int(df.num_rows)


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
