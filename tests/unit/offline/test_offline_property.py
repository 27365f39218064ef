"""The training frame against a plain-Python reference of the point-in-time rule, on random
data with ties, nulls, duplicate entity rows, ttl boundaries, two key shapes and two files."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from offline_support import Offline, at

from featurestore.definitions import Entity

MINUTE = timedelta(minutes=1)
# few distinct times and keys, so ties and exact ttl boundaries are frequent
times = st.one_of(st.none(), st.integers(0, 8).map(lambda m: at(0) + m * 30 * MINUTE))
row_times = st.one_of(st.none(), st.integers(0, 3).map(lambda m: at(0) + m * 60 * MINUTE))
created_times = st.one_of(st.none(), st.integers(0, 2).map(lambda m: at(0) + m * 60 * MINUTE))
keys = st.one_of(st.none(), st.integers(0, 2))  # 2: a key without rows
row_keys = st.one_of(st.none(), st.integers(0, 1))
ttls = st.sampled_from([None, timedelta(0), 30 * MINUTE, 60 * MINUTE, 120 * MINUTE])


@st.composite
def feature_rows(draw: st.DrawFn, key_names: tuple[str, ...], created: bool) -> list[dict]:
    n = draw(st.integers(0, 12))
    rows = []
    for i in range(n):
        row: dict[str, Any] = {k: draw(row_keys) for k in key_names}
        row["event_timestamp"] = draw(row_times)
        if created:
            row["created"] = draw(created_times)
        if rows and draw(st.booleans()):  # a full tie with an earlier row
            tied = rows[draw(st.integers(0, len(rows) - 1))]
            row.update(
                {c: tied[c] for c in (*key_names, "event_timestamp", "created") if c in tied}
            )
        row["value"] = None if draw(st.integers(0, 4)) == 0 else i  # a NULL value still wins
        row["file"] = draw(st.integers(0, 1))
        rows.append(row)
    return rows


def reference(
    entity: dict,
    rows: list[dict],
    key_names: tuple[str, ...],
    ttl: timedelta | None,
    by_created: bool,
) -> Any:
    """The rule as written in DESIGN.md, one entity row at a time."""
    t = entity["event_timestamp"]
    if t is None or any(entity[k] is None for k in key_names):
        return None
    best, best_key = None, None
    for position, row in enumerate(rows):
        if any(row[k] != entity[k] for k in key_names) or row["event_timestamp"] is None:
            continue
        ts = row["event_timestamp"]
        if ts > t or (ttl and ts < t - ttl):
            continue
        created = row.get("created")
        if by_created and created is not None and created > t:
            continue
        order = (ts, created is not None, created or at(0), row["file"], position)
        if best_key is None or order > best_key:
            best, best_key = row, order
    return None if best is None else best["value"]


def write_files(root: Path, name: str, rows: list[dict], columns: list[str]) -> str:
    """Rows go to file 0 or 1 (``a.parquet``, ``b.parquet``), keeping their relative order."""
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    types = {
        "event_timestamp": pa.timestamp("us"),
        "created": pa.timestamp("us"),
        "value": pa.int64(),
    }
    for index, filename in enumerate(("a.parquet", "b.parquet")):
        part = [r for r in rows if r["file"] == index]
        table = pa.table(
            {c: pa.array([r[c] for r in part], types.get(c, pa.int64())) for c in columns}
        )
        pq.write_table(table, folder / filename)
    return str(folder)


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    member_rows=feature_rows(("member_id",), created=True),
    profile_rows=feature_rows(("account", "profile"), created=False),
    member_ttl=ttls,
    profile_ttl=ttls,
    by_created=st.booleans(),
    entities=st.lists(
        st.fixed_dictionaries(
            {"member_id": keys, "account": row_keys, "profile": row_keys, "event_timestamp": times}
        ),
        max_size=12,
    ),
    data=st.data(),
)
def test_matches_reference(
    tmp_path_factory: Any,
    member_rows: list[dict],
    profile_rows: list[dict],
    member_ttl: timedelta | None,
    profile_ttl: timedelta | None,
    by_created: bool,
    entities: list[dict],
    data: st.DataObject,
) -> None:
    # entity rows placed on the edges of existing rows: at them, at their ttl boundary, and
    # a microsecond either side (random times seldom land exactly there)
    anchors = [r for r in member_rows + profile_rows if r["event_timestamp"] is not None]
    for _ in range(data.draw(st.integers(0, 6)) if anchors else 0):
        row = data.draw(st.sampled_from(anchors))
        span = data.draw(st.sampled_from([member_ttl, profile_ttl])) or timedelta(0)
        nudge = data.draw(st.sampled_from([0, 1, -1])) * timedelta(microseconds=1)
        entities.append(
            {
                "member_id": row.get("member_id"),
                "account": row.get("account"),
                "profile": row.get("profile"),
                "event_timestamp": row["event_timestamp"] + span + nudge,
            }
        )
    offline = Offline(tmp_path_factory.mktemp("prop"))
    # reorder rows so that file 0 comes first: the reference's position is then global order
    member_rows = sorted(member_rows, key=lambda r: r["file"])
    profile_rows = sorted(profile_rows, key=lambda r: r["file"])
    member_path = write_files(
        offline.root, "member", member_rows, ["member_id", "event_timestamp", "created", "value"]
    )
    profile_path = write_files(
        offline.root, "profile", profile_rows, ["account", "profile", "event_timestamp", "value"]
    )
    profile = Entity(name="profile", join_keys=["account", "profile"])
    views = [
        offline.view("m", member_path, ["value"], ttl=member_ttl, created="created"),
        offline.view("p", profile_path, ["value"], entities=[profile], ttl=profile_ttl),
    ]
    entity_df = pl.DataFrame(
        entities,
        schema={
            "member_id": pl.Int64,
            "account": pl.Int64,
            "profile": pl.Int64,
            "event_timestamp": pl.Datetime("us"),
        },
    )
    frame = offline.frame(
        views,
        entity_df,
        ["m:value", "p:value"],
        full_feature_names=True,
        filter_by_created_timestamp=by_created,
    )
    assert frame.height == len(entities)
    assert frame.select(entity_df.columns).equals(entity_df)
    want_m = [reference(e, member_rows, ("member_id",), member_ttl, by_created) for e in entities]
    want_p = [
        reference(e, profile_rows, ("account", "profile"), profile_ttl, by_created)
        for e in entities
    ]
    assert frame["m__value"].to_list() == want_m
    assert frame["p__value"].to_list() == want_p
