"""Feature server over loopback, beside the floor measured in the same run.

    .venv/bin/python benchmarks/bench_serving.py            # full run (a few minutes)
    .venv/bin/python benchmarks/bench_serving.py --quick    # smoke run

Ours: ``featurestore serve`` (a real subprocess) on a Redis online store, called through
``FeatureClient`` (request encoding and response decoding included) and with the raw request
bytes (what the floor gets): 10 features from 3 views for 1 and for 100 entities. The floor:
a bare grpcio server (sync, and grpc.aio with async Redis) that answers a call of the same
request bytes with one Redis MGET of the same keys our store reads and the same response
bytes, called with raw bytes. Latency runs are interleaved in blocks (ours, floor, ours, ...)
so both see the same machine load. Throughput: 8 Python client processes for a fixed time per
target, and (when ``h2load`` is installed: Debian package nghttp2-client) 8 connections of the
C load generator h2load, in interleaved rounds, with the server processes' CPU per request
and, per round, how many of the connections the kernel gave each of the 2 --reuse-port
processes (an uneven split, e.g. 6+2, leaves one process short of work).
Flight: a 1M-row training frame over Arrow Flight beside the same retrieval in-process, when
the offline retrieval exists.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import pyarrow as pa
import redis

from featurestore._proto import serving_pb2 as pb
from featurestore.serving import codec
from featurestore.serving.client import FeatureClient
from featurestore.store import FeatureStore

REDIS_URL = os.environ.get("FEATURESTORE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
FEATURESTORE = str(Path(sys.executable).parent / "featurestore")

REPO = """
from datetime import timedelta

from featurestore import Entity, FeatureView, Field, ParquetSource, PushSource
from featurestore.types import Float32, Float64, Int64, String

driver = Entity(name="driver", join_keys=["driver_id"])
push = PushSource(
    name="driver_push",
    batch_source=ParquetSource(path="data/drivers.parquet", timestamp_field="event_timestamp"),
)
profile = FeatureView(
    name="driver_profile", entities=[driver], ttl=timedelta(days=3650), source=push,
    schema=[Field("rating", Float64), Field("city", String), Field("tenure_days", Int64),
            Field("vehicle", String)],
)
activity = FeatureView(
    name="driver_activity", entities=[driver], ttl=timedelta(days=3650), source=push,
    schema=[Field("trips_7d", Int64), Field("hours_7d", Float32), Field("cancel_rate", Float64)],
)
quality = FeatureView(
    name="driver_quality", entities=[driver], ttl=timedelta(days=3650), source=push,
    schema=[Field("conv_rate", Float64), Field("acc_rate", Float64), Field("complaints", Int64)],
)
"""
FEATURES = [
    "driver_profile:rating",
    "driver_profile:city",
    "driver_profile:tenure_days",
    "driver_profile:vehicle",
    "driver_activity:trips_7d",
    "driver_activity:hours_7d",
    "driver_activity:cancel_rate",
    "driver_quality:conv_rate",
    "driver_quality:acc_rate",
    "driver_quality:complaints",
]
VIEWS = ("driver_profile", "driver_activity", "driver_quality")


def feature_rows(ids: np.ndarray, when: datetime) -> pa.Table:
    rng = np.random.default_rng(7)
    n = len(ids)
    return pa.table(
        {
            "driver_id": pa.array(ids, pa.int64()),
            "event_timestamp": pa.array([when] * n, pa.timestamp("us", tz="UTC")),
            "rating": rng.uniform(1, 5, n),
            "city": pa.array([f"city_{i % 50}" for i in ids]),
            "tenure_days": rng.integers(0, 4000, n),
            "vehicle": pa.array([f"model_{i % 20}" for i in ids]),
            "trips_7d": rng.integers(0, 300, n),
            "hours_7d": pa.array(rng.uniform(0, 60, n), pa.float32()),
            "cancel_rate": rng.uniform(0, 0.2, n),
            "conv_rate": rng.uniform(0, 1, n),
            "acc_rate": rng.uniform(0, 1, n),
            "complaints": rng.integers(0, 5, n),
        }
    )


# --- floor servers ----------------------------------------------------------------------


def run_floor_sync(config_path: str, port_file: str) -> None:
    from concurrent import futures

    cases = _load_cases(config_path)
    client = redis.Redis.from_url(REDIS_URL)

    def make(keys: list[bytes], response: bytes) -> Any:
        def handle(request: bytes, context: Any) -> bytes:
            client.mget(keys)
            return response

        return grpc.unary_unary_rpc_method_handler(handle)

    server = grpc.server(futures.ThreadPoolExecutor(8))
    handlers = {n: make(k, r) for n, (k, r) in cases.items()}
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("Echo", handlers),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    Path(port_file).write_text(str(port))
    server.wait_for_termination()


def run_floor_aio(config_path: str, port_file: str) -> None:
    import redis.asyncio as aioredis

    cases = _load_cases(config_path)

    async def main() -> None:
        client = aioredis.Redis.from_url(REDIS_URL)

        def make(keys: list[bytes], response: bytes) -> Any:
            async def handle(request: bytes, context: Any) -> bytes:
                await client.mget(keys)
                return response

            return grpc.unary_unary_rpc_method_handler(handle)

        server = grpc.aio.server()
        handlers = {n: make(k, r) for n, (k, r) in cases.items()}
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("Echo", handlers),))
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        Path(port_file).write_text(str(port))
        await server.wait_for_termination()

    asyncio.run(main())


def _load_cases(path: str) -> dict[str, tuple[list[bytes], bytes]]:
    raw = json.loads(Path(path).read_text())
    return {
        name: ([bytes.fromhex(k) for k in case["keys"]], bytes.fromhex(case["response"]))
        for name, case in raw.items()
    }


# --- callers ----------------------------------------------------------------------------


class Ours:
    def __init__(self, address: str, rows: dict[str, dict[str, list[int]]]) -> None:
        self.client = FeatureClient(address, timeout=10)
        self.rows = rows

    def call(self, case: str) -> None:
        self.client.get_online_features(FEATURES, self.rows[case])


class OursRaw:
    """Our server called like the floor: request bytes in, response bytes out."""

    def __init__(self, address: str, requests: dict[str, bytes]) -> None:
        channel = grpc.insecure_channel(address)
        self.call_ = channel.unary_unary("/featurestore.v1.FeatureServing/GetOnlineFeatures")
        self.requests = requests

    def call(self, case: str) -> None:
        self.call_(self.requests[case], timeout=10)


class InProcess:
    """The same lookup in-process (no gRPC): what the server itself has to do."""

    def __init__(self, store: FeatureStore, rows: dict[str, dict[str, list[int]]]) -> None:
        self.store = store
        self.rows = {case: pa.table(r) for case, r in rows.items()}

    def call(self, case: str) -> None:
        self.store.get_online_features(FEATURES, self.rows[case])


class Floor:
    def __init__(self, address: str, requests: dict[str, bytes]) -> None:
        channel = grpc.insecure_channel(address)
        self.calls = {c: channel.unary_unary(f"/Echo/{c}") for c in requests}
        self.requests = requests

    def call(self, case: str) -> None:
        self.calls[case](self.requests[case], timeout=10)


def make_caller(spec: dict[str, Any]) -> Any:
    if spec["kind"] == "ours":
        return Ours(spec["address"], spec["rows"])
    return Floor(spec["address"], {k: bytes.fromhex(v) for k, v in spec["requests"].items()})


def _throughput_worker(spec: dict[str, Any], case: str, seconds: float, out: Any) -> None:
    caller = make_caller(spec)
    for _ in range(20):
        caller.call(case)
    count, end = 0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        caller.call(case)
        count += 1
    out.put(count)


def throughput(spec: dict[str, Any], case: str, clients: int, seconds: float) -> float:
    """Requests/s of ``clients`` processes; with several ``addresses`` they take turns."""
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    addresses = spec.get("addresses", [spec["address"]])
    procs = [
        ctx.Process(
            target=_throughput_worker,
            args=({**spec, "address": addresses[i % len(addresses)]}, case, seconds, out),
        )
        for i in range(clients)
    ]
    for p in procs:
        p.start()
    total = sum(out.get(timeout=seconds + 120) for _ in procs)
    for p in procs:
        p.join()
    return total / seconds


def percentiles(samples: list[float]) -> tuple[float, float]:
    arr = np.array(samples) * 1000
    return float(np.percentile(arr, 50)), float(np.percentile(arr, 99))


# --- setup ------------------------------------------------------------------------------


def start_server(repo: Path, *extra: str) -> tuple[subprocess.Popen[str], str, str]:
    args = ["--port", "0", "--flight-port", "0", "--metrics-port", "-1", *extra]
    proc = subprocess.Popen(
        [FEATURESTORE, "-C", str(repo), "serve", *args], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "gRPC on" not in line:
        proc.kill()
        raise SystemExit(f"featurestore serve did not start: {line!r}")
    address = line.split("gRPC on ", 1)[1].split(",")[0].strip()
    flight = line.split("Flight on ", 1)[1].split(",")[0].strip() if "Flight on" in line else ""
    return proc, address, flight


def start_floor(target: Any, config: Path, tmp: Path) -> tuple[Any, str]:
    port_file = tmp / f"port-{uuid.uuid4().hex}"
    proc = mp.get_context("spawn").Process(target=target, args=(str(config), str(port_file)))
    proc.start()
    deadline = time.monotonic() + 60
    while not port_file.exists() or not port_file.read_text():
        if time.monotonic() > deadline:
            raise SystemExit("floor server did not start")
        time.sleep(0.05)
    return proc, f"127.0.0.1:{port_file.read_text()}"


def floor_cases(
    store: FeatureStore, project: str, rows: dict[str, dict[str, list[int]]], address: str
) -> tuple[dict[str, Any], dict[str, str]]:
    """The keys our store reads and our response bytes, per case; and our request bytes."""
    client = redis.Redis.from_url(REDIS_URL)
    by_view: dict[str, dict[bytes, bytes]] = {v: {} for v in VIEWS}
    for key in client.scan_iter(match=f"fs:{project}:*", count=1000):
        _, _, view, _, entity = key.split(b":", 4)
        by_view[view.decode()][entity] = key
    cases: dict[str, Any] = {}
    requests: dict[str, str] = {}
    stub_client = FeatureClient(address)
    for case, entity_rows in rows.items():
        ids = [str(i).encode() for i in entity_rows["driver_id"]]
        keys = [by_view[v][i] for v in VIEWS for i in ids]
        request = pb.GetOnlineFeaturesRequest(features=pb.FeatureRefs(refs=FEATURES))
        table = pa.table({"driver_id": pa.array(entity_rows["driver_id"], pa.int64())})
        codec.encode_table(zip(table.column_names, table.columns, strict=True), request.entities)
        response = stub_client._stub.GetOnlineFeatures(request, timeout=10)
        cases[case] = {
            "keys": [k.hex() for k in keys],
            "response": response.SerializeToString().hex(),
        }
        requests[case] = request.SerializeToString().hex()
    return cases, requests


# --- h2load -----------------------------------------------------------------------------


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the processes (all their threads) have used so far."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def connections(pids: list[int], port: int) -> list[int]:
    """Established TCP connections on local ``port`` that each process holds (from /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "01" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{fields[9]}]")
    counts = []
    for pid in pids:
        fds = Path(f"/proc/{pid}/fd").iterdir()
        counts.append(sum(1 for fd in fds if _readlink(fd) in inodes))
    return counts


def _sample_connections(out: list[list[int]], pids: list[int], port: int) -> None:
    out.append(connections(pids, port))


def _readlink(path: Path) -> str:
    try:
        return os.readlink(path)
    except OSError:  # closed since listed
        return ""


def h2load_run(url: str, body: Path, frame: int, clients: int, seconds: float) -> tuple[float, int]:
    """Requests/s of h2load's unary gRPC calls and how many were done; every call must have
    got a whole response message (an error is a trailers-only reply without one)."""
    command = ["h2load", "-D", f"{seconds:g}", "-c", str(clients), "-m", "1", "-t", "1"]
    command += ["-d", str(body), "-H", "content-type: application/grpc", "-H", "te: trailers"]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    done = int(_field(r"(\d+) succeeded", out))
    data = int(_field(r"\((\d+)\) data", out))
    if done == 0 or data != done * frame:
        raise SystemExit(f"h2load to {url}: {done} calls but {data} bytes of replies:\n{out}")
    return float(_field(r"finished in [^,]+, ([\d.]+) req/s", out)), done


def _field(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    if match is None:
        raise SystemExit(f"h2load output without {pattern!r}:\n{text}")
    return match.group(1)


def bench_h2load(
    targets: dict[str, tuple[str, list[int]]],
    body: Path,
    frame: int,
    clients: int,
    seconds: float,
    rounds: int,
) -> None:
    """Interleaved rounds (every target once per round) of h2load against each target's
    URL, with the CPU its server processes used per call."""
    rps: dict[str, list[float]] = {name: [] for name in targets}
    cpu: dict[str, list[float]] = {name: [] for name in targets}
    # how the kernel spread h2load's connections over --reuse-port processes, per round
    splits: dict[str, list[list[int]]] = {n: [] for n, (_, p) in targets.items() if len(p) > 1}
    loads = [os.getloadavg()[0]]
    for _ in range(rounds):
        for name, (url, pids) in targets.items():
            before = cpu_seconds(pids)
            port = int(url.split("/")[2].rsplit(":", 1)[1])
            idle = connections(pids, port)
            mid: list[list[int]] = []
            sample = threading.Timer(seconds / 2, _sample_connections, (mid, pids, port))
            sample.start()
            rate, done = h2load_run(url, body, frame, clients, seconds)
            sample.join()
            if name in splits:
                splits[name].append([a - b for a, b in zip(mid[0], idle, strict=True)])
            rps[name].append(rate)
            cpu[name].append((cpu_seconds(pids) - before) / done * 1000)
        loads.append(os.getloadavg()[0])
    print(
        f"\nThroughput, 1x10, h2load (C load generator, {clients} connections, one call at a "
        f"time each), {rounds} interleaved rounds of {seconds:.0f} s; load average "
        f"{min(loads):.1f}-{max(loads):.1f}:"
    )
    print("| target | requests/s, median (min-max) | server CPU ms per call, median |")
    print("|---|---|---|")
    for name in targets:
        r = sorted(rps[name])
        print(
            f"| {name} | {np.median(r):.0f} ({r[0]:.0f}-{r[-1]:.0f}) | {np.median(cpu[name]):.3f} |"
        )
    for name, split in splits.items():
        rounds_text = ", ".join(
            f"{'+'.join(map(str, counts))}: {rate:.0f}/s"
            for counts, rate in zip(split, rps[name], strict=True)
        )
        print(f"\n{name}, h2load's connections per process by round: {rounds_text}")


# --- flight -----------------------------------------------------------------------------


def bench_flight(store: FeatureStore, repo: Path, flight: str, address: str, rows: int) -> None:
    try:
        import featurestore.offline.retrieval  # noqa: F401
    except ImportError:
        print("\nFlight: skipped (featurestore.offline.retrieval is not available yet)")
        return
    import pyarrow.parquet as pq

    n_drivers = 100_000
    data = repo / "data"
    data.mkdir(exist_ok=True)
    rng = np.random.default_rng(3)
    days = 30
    ids = np.tile(np.arange(n_drivers), days)
    stamps = np.repeat(
        np.datetime64("2026-01-01T00:00:00", "us") + np.arange(days) * np.timedelta64(1, "D"),
        n_drivers,
    )
    table = feature_rows(ids, datetime(2026, 1, 1, tzinfo=UTC)).set_column(
        1, "event_timestamp", pa.array(stamps).cast(pa.timestamp("us", tz="UTC"))
    )
    pq.write_table(table, data / "drivers.parquet")
    entity = pa.table(
        {
            "driver_id": pa.array(rng.integers(0, n_drivers, rows), pa.int64()),
            "event_timestamp": pa.array(
                np.datetime64("2026-01-05", "us")
                + rng.integers(0, 20 * 86_400_000_000, rows).astype("timedelta64[us]")
            ).cast(pa.timestamp("us", tz="UTC")),
            "label": rng.integers(0, 2, rows),
        }
    )
    client = FeatureClient(address, flight=flight, timeout=600)
    results: dict[str, list[float]] = {"in-process": [], "Flight": []}
    size = 0
    for _ in range(2):
        start = time.perf_counter()
        local = store.get_historical_features(entity, FEATURES).to_arrow()
        results["in-process"].append(time.perf_counter() - start)
        start = time.perf_counter()
        remote = client.get_historical_features(entity, FEATURES).to_arrow()
        results["Flight"].append(time.perf_counter() - start)
        assert remote.num_rows == local.num_rows == rows
        size = remote.nbytes
    print(f"\nFlight: {rows:,}-row frame, {size / 1e6:.0f} MB (best of 2)")
    print("| path | seconds | MB/s |")
    print("|---|---|---|")
    for name, times in results.items():
        best = min(times)
        print(f"| {name} | {best:.2f} | {size / 1e6 / best:.1f} |")


# --- main -------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small counts, for a smoke run")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--no-flight", action="store_true")
    args = parser.parse_args()
    iters = 100 if args.quick else 2000  # a p99 of 600 calls is their 6th worst: too few
    blocks = 2 if args.quick else 10
    seconds = 1.0 if args.quick else 4.0
    rounds = 1 if args.quick else 3
    flight_rows = 10_000 if args.quick else 1_000_000

    project = f"bench_{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        repo = tmp / "repo"
        repo.mkdir()
        (repo / "featurestore.yaml").write_text(
            f"project: {project}\nonline_store:\n  type: redis\n  url: {REDIS_URL}\n"
        )
        (repo / "drivers.py").write_text(textwrap.dedent(REPO))
        store = FeatureStore(repo)
        store.apply(plan=store.plan(check_data=False))
        pool = np.arange(1000)
        store.push("driver_push", feature_rows(pool, datetime(2026, 1, 1, tzinfo=UTC)))
        rng = np.random.default_rng(11)
        rows = {
            "1x10": {"driver_id": [int(rng.integers(0, 1000))]},
            "100x10": {"driver_id": [int(i) for i in rng.choice(pool, 100, replace=False)]},
        }
        server, address, flight = start_server(repo)
        # two more processes sharing one port, for the throughput with 2 server processes
        shared, shared_address, _ = start_server(repo, "--reuse-port", "--flight-port", "-1")
        port = shared_address.rsplit(":", 1)[1]
        servers = [server, shared]
        floors: list[Any] = []
        try:
            shared2 = start_server(repo, "--reuse-port", "--flight-port", "-1", "--port", port)
            servers.append(shared2[0])
            cases, requests = floor_cases(store, project, rows, address)
            config = tmp / "floor.json"
            config.write_text(json.dumps(cases))
            sync_proc, sync_addr = start_floor(run_floor_sync, config, tmp)
            aio_proc, aio_addr = start_floor(run_floor_aio, config, tmp)
            floors = [sync_proc, aio_proc]
            raw = {k: bytes.fromhex(v) for k, v in requests.items()}
            specs = {
                "featurestore serve (FeatureClient)": {
                    "kind": "ours",
                    "address": address,
                    "rows": rows,
                },
                "floor: grpcio sync + 1 Redis MGET": {
                    "kind": "floor",
                    "address": sync_addr,
                    "requests": requests,
                },
                "floor: grpc.aio + 1 async Redis MGET": {
                    "kind": "floor",
                    "address": aio_addr,
                    "requests": requests,
                },
            }
            callers = {name: make_caller(spec) for name, spec in specs.items()}
            callers["featurestore serve (raw bytes, as the floor)"] = OursRaw(address, raw)
            store.pinned_version = store.registry.head()  # as the server does
            callers["(in-process store.get_online_features, no gRPC)"] = InProcess(store, rows)
            mode = "quick" if args.quick else "full"
            when = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
            print(f"# bench_serving ({mode}), {when}, {os.cpu_count()} CPUs (shared)")
            for case in rows:
                samples: dict[str, list[float]] = {name: [] for name in callers}
                for caller in callers.values():
                    for _ in range(50):
                        caller.call(case)
                loads = [os.getloadavg()[0]]
                for _ in range(blocks):
                    for name, caller in callers.items():
                        for _ in range(iters // blocks):
                            start = time.perf_counter()
                            caller.call(case)
                            samples[name].append(time.perf_counter() - start)
                    loads.append(os.getloadavg()[0])
                print(
                    f"\nLatency, {case} (entities x features), {iters} calls each, 1 client; "
                    f"load average {min(loads):.1f}-{max(loads):.1f}:"
                )
                print("| target | p50 ms | p99 ms |")
                print("|---|---|---|")
                for name, s in samples.items():
                    p50, p99 = percentiles(s)
                    print(f"| {name} | {p50:.3f} | {p99:.3f} |")
            load = os.getloadavg()[0]
            print(
                f"\nThroughput, 1x10, {args.clients} Python client processes, {seconds:.0f} s "
                f"each; load average {load:.1f} at the start:"
            )
            print("| target | requests/s |")
            print("|---|---|")
            two = {**specs["featurestore serve (FeatureClient)"], "address": shared_address}
            python_targets = [
                *specs.items(),
                ("featurestore serve, 2 processes (--reuse-port)", two),
            ]
            for name, spec in python_targets:
                print(f"| {name} | {throughput(spec, '1x10', args.clients, seconds):.0f} |")
            if shutil.which("h2load") is None:
                print("\nh2load: skipped (not installed; Debian package nghttp2-client)")
            else:
                body = tmp / "request.bin"
                body.write_bytes(b"\0" + len(raw["1x10"]).to_bytes(4, "big") + raw["1x10"])
                frame = 5 + len(bytes.fromhex(cases["1x10"]["response"]))
                method = "featurestore.v1.FeatureServing/GetOnlineFeatures"
                targets = {
                    "featurestore serve, 1 process": (
                        f"http://{address}/{method}",
                        [server.pid],
                    ),
                    "featurestore serve, 2 processes (--reuse-port)": (
                        f"http://{shared_address}/{method}",
                        [shared.pid, shared2[0].pid],
                    ),
                    "floor: grpcio sync + 1 Redis MGET": (
                        f"http://{sync_addr}/Echo/1x10",
                        [sync_proc.pid],
                    ),
                    "floor: grpc.aio + 1 async Redis MGET": (
                        f"http://{aio_addr}/Echo/1x10",
                        [aio_proc.pid],
                    ),
                }
                bench_h2load(targets, body, frame, args.clients, seconds, rounds)
            if not args.no_flight:
                bench_flight(store, repo, flight, address, flight_rows)
        finally:
            for proc in servers:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=60)
            for proc in floors:
                proc.terminate()
                proc.join()
            store.teardown()


if __name__ == "__main__":
    main()
