"""Training frame benchmark: ``get_historical_features`` against a hand-written DuckDB
``ASOF LEFT JOIN`` doing the same work (same files, same settings), in the same run.

    .venv/bin/python benchmarks/bench_training_frame.py                 # 1M x 10M x 10 features
    .venv/bin/python benchmarks/bench_training_frame.py --entity-rows 10000000 \\
        --feature-rows 100000000 --memory-limit 4GB --sink parquet --repeats 1 --no-views

Data (cached under ``--data-dir``): entity rows (member_id, event_timestamp, label) and
feature rows (member_id, event_timestamp, created, f0..f9) over one year, in 8 Parquet files
by time. Each run is a fresh process; its peak RSS comes from ``os.wait4``. Variants run
interleaved (A B A B) so a busy machine hurts them alike. Also compared: three views over
three sources in one call against three single-view calls.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Runs, gib, interleave, summary

N_FEATURES = 10
N_FILES = 8
YEAR_US = 365 * 24 * 3600 * 1_000_000


def generate(data: Path, entity_rows: int, feature_rows: int) -> None:
    """Write the benchmark's Parquet files (once per size)."""
    import duckdb

    for name in ("features_a", "features_b", "features_c"):
        link = data / name
        if not link.exists():
            data.mkdir(parents=True, exist_ok=True)
            link.symlink_to("features", target_is_directory=True)
    if (data / "done").exists():
        return
    (data / "features").mkdir(parents=True, exist_ok=True)
    conn = duckdb.connect()
    keys = max(1, feature_rows // 10)
    feats = ", ".join(f"((hash(i + {j}) % 100000) / 100.0)::DOUBLE AS f{j}" for j in range(10))
    per_file = -(-feature_rows // N_FILES)
    offset = f"(i::HUGEINT * {YEAR_US} // {feature_rows})::BIGINT"  # rows in time order
    for n in range(N_FILES):
        lo, hi = n * per_file, min(feature_rows, (n + 1) * per_file)
        out = data / "features" / f"part-{n:02d}.parquet"
        conn.execute(
            f"""COPY (SELECT (hash(i) % {keys})::BIGINT AS member_id,
                TIMESTAMP '2024-01-01' + to_microseconds({offset}) AS event_timestamp,
                TIMESTAMP '2024-01-01' + to_microseconds({offset}
                    + (hash(i + 7) % 3600000000)::BIGINT) AS created,
                {feats}
              FROM range({lo}, {hi}) t(i)) TO '{out}' (FORMAT parquet)"""
        )
    conn.execute(
        f"""COPY (SELECT (hash(i * 3 + 1) % {keys})::BIGINT AS member_id,
            TIMESTAMP '2024-01-01' + to_microseconds((hash(i * 5 + 2) % {YEAR_US})::BIGINT)
                AS event_timestamp,
            (hash(i) % 2)::INTEGER AS label
          FROM range({entity_rows}) t(i)) TO '{data}/entities.parquet' (FORMAT parquet)"""
    )
    (data / "done").write_text("ok")


# --- children: one measurement each ----------------------------------------------------------


def _config(args: argparse.Namespace) -> Any:
    from featurestore.repo.config import OfflineConfig, RepoConfig

    offline = OfflineConfig(
        memory_limit=args.memory_limit or None,
        threads=args.threads or None,
        temp_directory=str(Path(args.data) / "duckdb_tmp"),
    )
    return RepoConfig(project="bench", offline_store=offline)


def child_ours(args: argparse.Namespace) -> dict:
    from featurestore.definitions import Entity, FeatureView, Field, ParquetSource
    from featurestore.definitions.collection import Definitions
    from featurestore.offline.retrieval import build_job
    from featurestore.store import FeatureStore
    from featurestore.types import Float64

    data = Path(args.data)
    member = Entity(name="member", join_keys=["member_id"])
    groups = {"stats": ("features", range(10))}
    if args.child in ("ours3", "single3"):
        # three sources (the same files under three names, so nothing is shared)
        groups = {
            "stats_a": ("features_a", range(0, 4)),
            "stats_b": ("features_b", range(4, 7)),
            "stats_c": ("features_c", range(7, 10)),
        }
    views = [
        FeatureView(
            name=name,
            entities=[member],
            schema=[Field(f"f{j}", Float64) for j in cols],
            source=ParquetSource(path=str(data / folder), created_timestamp_column="created"),
        )
        for name, (folder, cols) in groups.items()
    ]
    defs = Definitions.build("bench", [member, *views])
    store = FeatureStore(data, config=_config(args))
    refs = [f"{v.name}:{f}" for v in views for f in v.feature_names]
    calls = [[r for r in refs if r.startswith(v.name + ":")] for v in views]
    if args.child != "single3":
        calls = [refs]
    entities = str(data / "entities.parquet")
    start, cpu = time.perf_counter(), _cpu()
    rows = 0
    for call in calls:
        job = build_job(store, defs.select(call), entities)
        if args.sink == "parquet":
            rows = job.to_parquet(str(data / "out_ours.parquet"))
        else:
            rows = job.to_arrow().num_rows
    return {"seconds": time.perf_counter() - start, "cpu": _cpu() - cpu, "rows": rows}


def reference_sql(data: Path) -> str:
    feats = ", ".join(f"f.f{j}" for j in range(N_FEATURES))
    return f"""
        SELECT e.* EXCLUDE (file_row_number), {feats}
        FROM read_parquet('{data}/entities.parquet', file_row_number = true) e
        ASOF LEFT JOIN read_parquet('{data}/features/*.parquet') f
          ON e.member_id = f.member_id AND e.event_timestamp >= f.event_timestamp
        ORDER BY e.file_row_number"""


def child_ref(args: argparse.Namespace) -> dict:
    from featurestore.offline.engine import connect

    data = Path(args.data)
    config = _config(args)
    start, cpu = time.perf_counter(), _cpu()
    conn = connect(config.offline_store, data)
    sql = reference_sql(data)
    if args.sink == "parquet":
        conn.execute(f"COPY ({sql}) TO '{data}/out_ref.parquet' (FORMAT parquet)")
        rows = conn.sql(f"SELECT count(*) FROM '{data}/out_ref.parquet'").fetchall()[0][0]
    else:
        rows = conn.sql(sql).to_arrow_table().num_rows
    return {"seconds": time.perf_counter() - start, "cpu": _cpu() - cpu, "rows": rows}


def _cpu() -> float:
    """CPU seconds of this process, all threads (less disturbed by a busy machine)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --- parent -----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entity-rows", type=int, default=1_000_000)
    parser.add_argument("--feature-rows", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data-dir", default=str(Path(tempfile.gettempdir()) / "fs-bench"))
    parser.add_argument("--memory-limit", default="", help="DuckDB memory_limit, e.g. 4GB")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--sink", choices=["arrow", "parquet"], default="arrow")
    parser.add_argument("--no-views", action="store_true", help="skip the 3-view comparison")
    parser.add_argument("--views-only", action="store_true", help="only the 3-view comparison")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        runner = child_ref if args.child == "ref" else child_ours
        print(json.dumps(runner(args)))
        return

    data = Path(args.data_dir) / f"e{args.entity_rows}_f{args.feature_rows}"
    t0 = time.perf_counter()
    generate(data, args.entity_rows, args.feature_rows)
    print(f"data: {data} (ready in {time.perf_counter() - t0:.1f} s)", flush=True)
    common = [__file__, "--data", str(data), "--sink", args.sink, "--threads", str(args.threads)]
    if args.memory_limit:
        common += ["--memory-limit", args.memory_limit]
    variants = {"ours": [*common, "--child", "ours"], "reference": [*common, "--child", "ref"]}
    if args.views_only:
        variants = {}
    if not args.no_views:
        variants["3 views, 1 call"] = [*common, "--child", "ours3"]
        variants["3 calls, 1 view"] = [*common, "--child", "single3"]

    def show(name: str, result: dict, rss: int) -> None:
        print(
            f"  {name:16s} {result['seconds']:7.2f} s  cpu {result['cpu']:6.2f} s  {gib(rss)}"
            f"  rows={result['rows']}",
            flush=True,
        )

    runs = interleave(variants, args.repeats, on_run=show)
    print(
        f"\n{args.entity_rows:,} entity rows x {args.feature_rows:,} feature rows, sink={args.sink}"
    )
    print(f"{'variant':16s} {'median s':>9s} {'max s':>8s} {'median cpu s':>13s} {'peak RSS':>10s}")
    for name, r in runs.items():
        s = summary(r.seconds)
        cpu = _median(_cpus(r))
        print(
            f"{name:16s} {s['median']:9.2f} {s['p99']:8.2f} {cpu:13.2f} {gib(max(r.peak_rss)):>10s}"
        )
    if "ours" in runs:
        wall = _median(runs["ours"].seconds) / _median(runs["reference"].seconds)
        cpu = _median(_cpus(runs["ours"])) / _median(_cpus(runs["reference"]))
        print(f"ours / reference (medians): {wall:.2f}x wall, {cpu:.2f}x cpu")
    if not args.no_views:
        one, three = runs["3 views, 1 call"], runs["3 calls, 1 view"]
        wall = _median(one.seconds) / _median(three.seconds)
        cpu = _median(_cpus(one)) / _median(_cpus(three))
        print(f"3 views in 1 call / 3 single-view calls: {wall:.2f}x wall, {cpu:.2f}x cpu")


def _median(values: list[float]) -> float:
    return summary(values)["median"]


def _cpus(runs: Runs) -> list[float]:
    return [float(x["cpu"]) for x in runs.extra]


if __name__ == "__main__":
    main()
