"""A small scheduled feature repo on disk (SQLite or a real Redis) for the scheduler tests,
and the expected online values computed the plain way."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from featurestore import FeatureStore

DEFINITIONS = """
from featurestore import Entity, FeatureView, Field, ParquetSource
from featurestore.types import Int64

member = Entity(name="member", join_keys=["member_id"])

activity = FeatureView(
    name="activity", entities=[member], schema=[Field("plays", Int64)],
    source=ParquetSource(path="data/activity"), schedule="@hourly",
)
ratings = FeatureView(
    name="ratings", entities=[member], schema=[Field("stars", Int64)],
    source=ParquetSource(path="data/ratings"), schedule="@every 30m",
)
"""

NOW = datetime(2026, 1, 2, 10, 40, tzinfo=UTC)  # the latest @hourly tick is 10:00
SCHEMAS = {
    "activity": pa.schema(
        [
            ("member_id", pa.int64()),
            ("plays", pa.int64()),
            ("event_timestamp", pa.timestamp("us", "UTC")),
        ]
    ),
    "ratings": pa.schema(
        [
            ("member_id", pa.int64()),
            ("stars", pa.int64()),
            ("event_timestamp", pa.timestamp("us", "UTC")),
        ]
    ),
}
FEATURE = {"activity": "plays", "ratings": "stars"}


def rows(view: str, spec: list[tuple[int, int, datetime]]) -> list[dict[str, Any]]:
    """``(member, value, event time)`` triples as source rows of ``view``."""
    return [{"member_id": m, FEATURE[view]: v, "event_timestamp": t} for m, v, t in spec]


def write_rows(repo: Path, view: str, part: str, data: list[dict[str, Any]]) -> None:
    path = repo / "data" / view / f"{part}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(data, schema=SCHEMAS[view]), path)


def make_repo(
    repo: Path, project: str, redis_url: str | None = None, members: int = 8
) -> FeatureStore:
    """Write, fill and apply the repo. Each member has rows an hour apart up to 10:15; the
    10:15 rows are after the latest tick, so a run at NOW must not write them."""
    repo.mkdir(parents=True, exist_ok=True)
    online = (
        f"online_store:\n  type: redis\n  url: {redis_url}\n"
        if redis_url
        else "online_store:\n  type: sqlite\n  path: data/online.db\n"
    )
    (repo / "featurestore.yaml").write_text(f"project: {project}\n{online}")
    (repo / "definitions.py").write_text(textwrap.dedent(DEFINITIONS))
    times = [NOW.replace(hour=h, minute=0) for h in (7, 8, 9)] + [NOW.replace(minute=15)]
    for view in ("activity", "ratings"):
        spec = [(m, 100 * m + i, t) for m in range(members) for i, t in enumerate(times)]
        write_rows(repo, view, "part-0", rows(view, spec))
    store = FeatureStore(repo)
    store.apply("scheduler test")
    return store


def expected(store: FeatureStore, view: str, end: datetime) -> dict[int, int]:
    """The latest value per member with event time <= end, read straight from the files."""
    import pyarrow.dataset as ds

    table = ds.dataset(str(store.repo_path / "data" / view), format="parquet").to_table()
    best: dict[int, tuple[datetime, int]] = {}
    for row in table.to_pylist():
        t = row["event_timestamp"]
        if t <= end and (row["member_id"] not in best or t >= best[row["member_id"]][0]):
            best[row["member_id"]] = (t, row[FEATURE[view]])
    return {m: v for m, (_, v) in best.items()}


def online(store: FeatureStore, view: str, members: int = 8) -> dict[int, int]:
    """What the online store holds for ``view``, per member (members without a value left out)."""
    response = store.get_online_features(
        [f"{view}:{FEATURE[view]}"], {"member_id": list(range(members))}
    )
    values = response.to_dict()
    return {
        m: v
        for m, v in zip(values["member_id"], values[FEATURE[view]], strict=True)
        if v is not None
    }


def hour(at: datetime, hours: float) -> datetime:
    return at + timedelta(hours=hours)
