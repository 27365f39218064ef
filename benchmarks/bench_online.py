"""In-process online lookups against Redis, beside raw redis-py on the same keys.

Two cases: 1 entity x 10 features (one view), and 100 entities x 10 features from 3 views.
Each iteration times ours and the raw reference (GET / one MGET of the same keys) on the
same random entities, interleaved A B B A (the order alternates), and reports p50/p99 of
each and their ratio, and the median CPU time of a call (this thread's, so waiting for
Redis is not counted; less sensitive to how busy the machine is than wall time).

    .venv/bin/python benchmarks/bench_online.py --entities 100000 --iterations 2000
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import textwrap
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import redis

from featurestore import FeatureStore

sys.path.insert(0, str(Path(__file__).parent))
from _common import percentile

from featurestore.online._keys import entity_keys, with_prefix
from featurestore.online._pack import codec_for

VIEWS = {"v_a": 10, "v_b": 3, "v_c": 3}  # features per view; v_a alone is the 1-entity case
DEFS = """
from datetime import timedelta
from featurestore import Entity, FeatureView, Field, ParquetSource
from featurestore.types import Float64
member = Entity(name="member", join_keys=["member_id"])
{views}
"""
VIEW = """
{name} = FeatureView(name="{name}", entities=[member], ttl=timedelta(days=30),
    schema=[Field(f"{name}_{{i}}", Float64) for i in range({n})],
    source=ParquetSource(path="data/{name}.parquet"))
"""


def build(root: Path, url: str, entities: int) -> FeatureStore:
    project = f"bench_{uuid.uuid4().hex[:8]}"
    (root / "featurestore.yaml").write_text(
        f"project: {project}\nonline_store:\n  type: redis\n  url: {url}\n"
    )
    views = "".join(VIEW.format(name=n, n=k) for n, k in VIEWS.items())
    (root / "defs.py").write_text(textwrap.dedent(DEFS.format(views=views)))
    now = datetime.now(UTC)
    rng = np.random.default_rng(0)
    for name, n in VIEWS.items():
        cols = {"member_id": np.arange(entities, dtype=np.int64)}
        cols.update({f"{name}_{i}": rng.random(entities) for i in range(n)})
        table = pa.table(cols).append_column(
            "event_timestamp", pa.array([now - timedelta(hours=1)] * entities)
        )
        (root / "data").mkdir(exist_ok=True)
        pq.write_table(table, root / f"data/{name}.parquet")
    store = FeatureStore(root)
    store.apply("bench")
    store.materialize(now - timedelta(days=2), now)
    return store


def raw_keys(store: FeatureStore, view_name: str, ids: list[int]) -> list[bytes]:
    view = store.definitions().feature_view(view_name)
    prefix = store.online_store.key_prefix(view.name, codec_for(view).schema_version)  # type: ignore[attr-defined]
    keys = entity_keys({"member_id": pa.array(ids, pa.int64())}, view.key_schema, len(ids))
    return with_prefix(prefix, keys)


def bench_case(store, client, refs, views, size, iterations, entities) -> dict[str, list[float]]:
    """Per iteration both targets on the same entities; which goes first alternates, so
    neither always runs right after the untimed key building or on the other's warm caches."""
    times: dict[str, list[float]] = {"ours": [], "raw": [], "ours cpu": [], "raw cpu": []}
    for i in range(iterations + 50):
        ids = random.sample(range(entities), size)
        keys = [k for v in views for k in raw_keys(store, v, ids)]

        def ours(ids=ids):
            resp = store.get_online_features(refs, {"member_id": ids})
            assert len(resp.features) == len(refs)

        def raw(keys=keys):
            values = [client.get(keys[0])] if size == 1 else client.mget(keys)
            assert all(v is not None for v in values)

        order = [("ours", ours), ("raw", raw)]
        for name, fn in order if i % 2 else order[::-1]:
            c0, t0 = time.thread_time(), time.perf_counter()
            fn()
            elapsed, cpu = time.perf_counter() - t0, time.thread_time() - c0
            if i >= 50:  # warm-up
                times[name].append(elapsed * 1e3)
                times[f"{name} cpu"].append(cpu * 1e3)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--iterations", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = build(Path(tmp), args.redis_url, args.entities)
        client = redis.Redis.from_url(args.redis_url)
        try:
            cases = [
                (
                    "1 entity x 10 features (1 view)",
                    [f"v_a:v_a_{i}" for i in range(10)],
                    ["v_a"],
                    1,
                ),
                (
                    "100 entities x 10 features (3 views)",
                    [f"v_a:v_a_{i}" for i in range(4)]
                    + [f"v_b:v_b_{i}" for i in range(3)]
                    + [f"v_c:v_c_{i}" for i in range(3)],
                    ["v_a", "v_b", "v_c"],
                    100,
                ),
            ]
            print(f"{args.entities:,} entities materialized; {args.iterations} iterations/case")
            print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
            print(f"{'case':40} {'':12} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms':>8}")
            for title, refs, views, size in cases:
                res = bench_case(store, client, refs, views, size, args.iterations, args.entities)
                raw_name = "GET" if size == 1 else "MGET"
                for label, name in (("featurestore", "ours"), (f"raw {raw_name}", "raw")):
                    s = res[name]
                    p50, p99 = percentile(s, 0.5), percentile(s, 0.99)
                    cpu = percentile(res[f"{name} cpu"], 0.5)
                    print(f"{title:40} {label:12} {p50:8.3f} {p99:8.3f} {cpu:8.3f}")
                ratios = [
                    percentile(res[a], q) / percentile(res[b], q)
                    for a, b, q in (
                        ("ours", "raw", 0.5),
                        ("ours", "raw", 0.99),
                        ("ours cpu", "raw cpu", 0.5),
                    )
                ]
                print(f"{title:40} {'ratio':12} " + " ".join(f"{r:7.2f}x" for r in ratios))
            print("load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
        finally:
            store.teardown()
            client.close()


if __name__ == "__main__":
    main()
