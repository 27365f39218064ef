"""Redis Cluster: a real 3-node cluster started for the test (keys span hash slots)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from online_support import activity_row, make_store, ts

pytestmark = [pytest.mark.redis, pytest.mark.slow]


def _free_ports(n: int) -> list[int]:
    """Ports p whose cluster bus port p + 10000 is free too."""
    ports: list[int] = []
    while len(ports) < n:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port + 10000 > 65535 or port in ports:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        ports.append(port)
    return ports


@pytest.fixture
def cluster_url(tmp_path: Path) -> Iterator[str]:
    if shutil.which("redis-server") is None or shutil.which("redis-cli") is None:
        pytest.skip("redis-server and redis-cli are needed to start a cluster")
    ports = _free_ports(3)
    procs = []
    try:
        for port in ports:
            folder = tmp_path / f"node{port}"
            folder.mkdir()
            procs.append(
                subprocess.Popen(
                    [
                        "redis-server",
                        "--port",
                        str(port),
                        "--bind",
                        "127.0.0.1",
                        "--cluster-enabled",
                        "yes",
                        "--cluster-config-file",
                        "nodes.conf",
                        "--save",
                        "",
                        "--appendonly",
                        "no",
                        "--dir",
                        str(folder),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        for port in ports:
            client = redis.Redis(port=port)
            for _ in range(200):
                try:
                    client.ping()
                    break
                except redis.ConnectionError:
                    time.sleep(0.02)
            client.close()
        subprocess.run(
            [
                "redis-cli",
                "--cluster",
                "create",
                *[f"127.0.0.1:{p}" for p in ports],
                "--cluster-yes",
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        client = redis.Redis(port=ports[0])
        for _ in range(300):
            if client.cluster("info").get("cluster_state") == "ok":
                break
            time.sleep(0.05)
        client.close()
        yield f"redis://127.0.0.1:{ports[0]}/0"
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def test_cluster_materialize_read_push_teardown(cluster_url: str, tmp_path: Path) -> None:
    rows = [activity_row(m, 1, plays=m) for m in range(200)]
    store = make_store(tmp_path / "repo", "redis", cluster_url, "clustered", activity=rows)
    config = (tmp_path / "repo/featurestore.yaml").read_text()
    (tmp_path / "repo/featurestore.yaml").write_text(config + "  cluster: true\n")
    from featurestore import FeatureStore

    store = FeatureStore(tmp_path / "repo")
    [result] = store.materialize(ts(0), ts(2), views=["activity"])
    assert result.ok and result.rows_written == 200
    refs = ["activity:plays", "profile:country"]
    got = store.get_online_features(refs, {"member_id": list(range(205))}).to_dict()
    assert got["plays"] == [*range(200), None, None, None, None, None]
    older = activity_row(3, 0.5, plays=-1)  # never replaces the newer value
    newer = activity_row(4, 1.5, plays=-4)
    store.push("activity_push", [older, newer])
    got = store.get_online_features(["activity:plays"], {"member_id": [3, 4]}).to_dict()
    assert got["plays"] == [3, -4]
    nodes = redis.cluster.RedisCluster.from_url(cluster_url)
    assert len({nodes.keyslot(k) for k in nodes.scan_iter(match="fs:clustered:*")}) > 100
    store.teardown()
    assert not list(nodes.scan_iter(match="fs:clustered:*"))
    nodes.close()
