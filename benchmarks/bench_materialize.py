"""Materialize into Redis, beside raw redis-py writes of the same packed bytes.

Generates ROWS feature rows over ENTITIES members x 10 features (Parquet, in a child
process), then runs, interleaved, for each round:

* featurestore ``materialize`` into an empty keyspace (new keys: MSETNX), then again over
  the values it wrote (every key exists: the Lua never-older script);
* DuckDB alone: draining ``latest_batches`` (no packing, no Redis);
* ``store.write`` alone on the same pre-packed batches, into an empty keyspace and over
  existing values, at each ``--chunk-sizes`` (keys per command);
* raw pipelined ``SET`` and raw ``MSET`` of the same keys and packed values (``MSET`` as
  ``pipe.mset(dict)``, the reference of the goal, and through ``execute_command`` with a
  flat argument list, redis-py's cheapest path).

Reports entities/s for each (best and median of the rounds), the ratio to raw MSET, CPU
per entity (this process plus redis-server, from INFO), peak RSS growth while
materializing (sampled from /proc) and Redis memory per entity. The view
has no ttl, so the raw writes (which set no expiry) do the same work.

    .venv/bin/python benchmarks/bench_materialize.py --rows 10000000 --entities 1000000
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import redis

import featurestore.online._redis_write as redis_write
from featurestore import FeatureStore
from featurestore.materialize.latest import latest_batches
from featurestore.online._keys import with_prefix
from featurestore.online._pack import codec_for, pack_batch

DEFS = """
from featurestore import Entity, FeatureView, Field, ParquetSource
from featurestore.types import Float32, Float64, Int64
member = Entity(name="member", join_keys=["member_id"])
stats = FeatureView(
    name="stats", entities=[member],
    schema=[Field(f"f{i}", Float64) for i in range(5)] + [Field(f"i{i}", Int64) for i in range(3)]
           + [Field(f"s{i}", Float32) for i in range(2)],
    source=ParquetSource(path="data/stats", created_timestamp_column="created"),
)
"""
START = datetime(2026, 1, 1, tzinfo=UTC)
CHUNK = 1000  # keys per raw command / per pipeline step, as in the store


def generate(folder: Path, rows: int, entities: int, files: int = 10) -> None:
    """Random feature rows in ``files`` Parquet files (run in a child process)."""
    rng = np.random.default_rng(42)
    folder.mkdir(parents=True, exist_ok=True)
    per = rows // files
    span_us = int(timedelta(days=30).total_seconds() * 1e6)
    for f in range(files):
        event = START.timestamp() * 1e6 + rng.integers(0, span_us, per)
        cols: dict[str, pa.Array] = {
            "member_id": pa.array(rng.integers(0, entities, per)),
            "event_timestamp": pa.array(event.astype("int64")).cast(pa.timestamp("us", "UTC")),
            "created": pa.array((event + rng.integers(0, 10**9, per)).astype("int64")).cast(
                pa.timestamp("us", "UTC")
            ),
        }
        cols.update({f"f{i}": pa.array(rng.random(per)) for i in range(5)})
        cols.update({f"i{i}": pa.array(rng.integers(0, 10**6, per)) for i in range(3)})
        cols.update({f"s{i}": pa.array(rng.random(per, dtype=np.float32)) for i in range(2)})
        pq.write_table(pa.table(cols), folder / f"part-{f:03d}.parquet")


class PeakRss:
    """Samples this process's resident memory every 20 ms."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def now() -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.now())
            time.sleep(0.02)

    def __enter__(self) -> PeakRss:
        self.peak = self.now()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.now())


def unlink_prefix(client: redis.Redis, prefix: str) -> None:
    batch: list[bytes] = []
    for key in client.scan_iter(match=prefix + "*", count=10_000):
        batch.append(key)
        if len(batch) >= 10_000:
            client.unlink(*batch)
            batch = []
    if batch:
        client.unlink(*batch)


def raw_set(client: redis.Redis, keys: list[bytes], values: list[bytes]) -> None:
    for i in range(0, len(keys), 10 * CHUNK):
        pipe = client.pipeline(transaction=False)
        for k, v in zip(keys[i : i + 10 * CHUNK], values[i : i + 10 * CHUNK], strict=True):
            pipe.set(k, v)
        pipe.execute()


def raw_mset(client: redis.Redis, keys: list[bytes], values: list[bytes]) -> None:
    for i in range(0, len(keys), 10 * CHUNK):
        pipe = client.pipeline(transaction=False)
        for j in range(i, min(i + 10 * CHUNK, len(keys)), CHUNK):
            pipe.mset(dict(zip(keys[j : j + CHUNK], values[j : j + CHUNK], strict=True)))
        pipe.execute()


def raw_mset_flat(client: redis.Redis, keys: list[bytes], values: list[bytes]) -> None:
    flat = [x for pair in zip(keys, values, strict=True) for x in pair]
    for i in range(0, len(keys), 10 * CHUNK):
        pipe = client.pipeline(transaction=False)
        for j in range(i, min(i + 10 * CHUNK, len(keys)), CHUNK):
            pipe.execute_command("MSET", *flat[2 * j : 2 * (j + CHUNK)])
        pipe.execute()


def redis_cpu(client: redis.Redis) -> float:
    info = client.info("cpu")
    return float(info["used_cpu_user"] + info["used_cpu_sys"])


def process_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--entities", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument(
        "--chunk-sizes", default="1000", help="keys per script call, e.g. 500,1000,2000"
    )
    parser.add_argument("--generate", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        generate(Path(args.generate), args.rows, args.entities)
        return

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        project = f"bench_{uuid.uuid4().hex[:8]}"
        (root / "featurestore.yaml").write_text(
            f"project: {project}\nonline_store:\n  type: redis\n  url: {args.redis_url}\n"
        )
        (root / "defs.py").write_text(textwrap.dedent(DEFS))
        t0 = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--generate",
                str(root / "data/stats"),
                "--rows",
                str(args.rows),
                "--entities",
                str(args.entities),
            ],
            check=True,
        )
        print(f"generated {args.rows:,} rows in {time.perf_counter() - t0:.1f} s")
        store = FeatureStore(root)
        store.apply("bench", plan=store.plan(check_data=False))
        view = store.definitions().feature_view("stats")
        client = redis.Redis.from_url(args.redis_url)
        online = store.online_store
        prefix = online.key_prefix(view.name, codec_for(view).schema_version)  # type: ignore[attr-defined]
        raw_prefix = f"rawbench:{project}:"
        end = START + timedelta(days=31)

        # The same packed bytes for the raw references and the write-only run.
        packed = [pack_batch(view, b) for b in latest_batches(store, view, START, end)]
        entities = sum(len(p.keys) for p in packed)
        values = [v for p in packed for v in p.values.to_pylist()]
        raw_keys = [raw_prefix.encode() + k for p in packed for k in with_prefix(b"", p.keys)]
        print(f"{entities:,} entities; packed value {len(values[0])} bytes")

        results: dict[str, list[float]] = {}
        cpu: dict[str, list[float]] = {}
        redis_us: dict[str, list[float]] = {}
        rss: list[int] = []
        memory_per_entity = 0.0

        def measure(name: str, fn: Callable[[], object], clear: str | None) -> None:
            r0, c0, t0 = redis_cpu(client), process_cpu(), time.perf_counter()
            fn()
            results.setdefault(name, []).append(time.perf_counter() - t0)
            server = redis_cpu(client) - r0
            cpu.setdefault(name, []).append(process_cpu() - c0 + server)
            redis_us.setdefault(name, []).append(server)
            if clear:
                unlink_prefix(client, clear)

        def materialize() -> None:
            store.materialize(START, end)

        chunk_sizes = [int(c) for c in args.chunk_sizes.split(",")]
        for _ in range(args.rounds):
            before = client.info("memory")["used_memory"]
            with PeakRss() as peak:
                base = PeakRss.now()
                measure("featurestore materialize (new keys)", materialize, None)
            rss.append(peak.peak - base)
            memory_per_entity = (client.info("memory")["used_memory"] - before) / entities
            measure(
                "materialize again (every key exists)",
                materialize,
                prefix.decode(),
            )
            measure(
                "DuckDB latest rows only",
                lambda: sum(b.num_rows for b in latest_batches(store, view, START, end)),
                None,
            )
            for size in chunk_sizes:
                redis_write.CHUNK = size
                measure(
                    f"store.write only, {size} keys/command",
                    lambda: [online.write(p) for p in packed],
                    None,
                )
                measure(
                    f"store.write again, {size} (keys exist)",
                    lambda: [online.write(p) for p in packed],
                    prefix.decode(),
                )
            redis_write.CHUNK = 1000
            measure("raw pipelined SET", lambda: raw_set(client, raw_keys, values), raw_prefix)
            measure("raw MSET", lambda: raw_mset(client, raw_keys, values), raw_prefix)
            measure(
                "raw MSET (execute_command)",
                lambda: raw_mset_flat(client, raw_keys, values),
                raw_prefix,
            )

        best = {name: entities / min(times) for name, times in results.items()}
        median = {name: entities / float(np.median(times)) for name, times in results.items()}
        header = (
            f"{'':38} {'best/s':>10} {'vs MSET':>8} {'median/s':>10} {'vs MSET':>8}"
            f" {'CPU us':>7} {'Redis us':>9}"
        )
        print(f"\n{header}   ({args.rounds} rounds; CPU: ours + Redis, median per entity)")
        for name in results:
            cpu_us = 1e6 * float(np.median(cpu[name])) / entities
            server_us = 1e6 * float(np.median(redis_us[name])) / entities
            print(
                f"{name:38} {best[name]:10,.0f} {best[name] / best['raw MSET']:7.2f}x"
                f" {median[name]:10,.0f} {median[name] / median['raw MSET']:7.2f}x"
                f" {cpu_us:7.2f} {server_us:9.2f}"
            )
        for name in ["featurestore materialize (new keys)", "materialize again (every key exists)"]:
            paired = [m / t for m, t in zip(results["raw MSET"], results[name], strict=True)]
            print(f"{name} / raw MSET, round by round: {', '.join(f'{r:.2f}' for r in paired)}")
        print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(f"\npeak RSS growth while materializing: {max(rss) / 2**20:,.0f} MiB")
        print(f"Redis memory per entity: {memory_per_entity:,.0f} bytes")
        store.teardown()
        client.close()


if __name__ == "__main__":
    main()
