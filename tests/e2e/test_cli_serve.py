"""``featurestore serve`` as an operator runs it: a real process, SIGTERM drains in-flight
calls before exiting; unsafe or inconsistent flags are refused before anything listens."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from click.testing import CliRunner

from featurestore.cli import main
from featurestore.errors import OnlineStoreUnavailableError
from featurestore.serving.client import FeatureClient

FEATURESTORE = str(Path(sys.executable).parent / "featurestore")

REPO = {
    "drivers.py": """
        import os
        import time
        from datetime import timedelta
        from pathlib import Path

        import polars as pl

        from featurestore import (
            Entity, FeatureView, Field, ParquetSource, PushSource, RequestSource,
            on_demand_feature_view,
        )
        from featurestore.types import Float64, Int64

        driver = Entity(name="driver", join_keys=["driver_id"])
        stats = FeatureView(
            name="driver_stats", entities=[driver], ttl=timedelta(days=3650),
            schema=[Field("trips", Int64)],
            source=PushSource(
                name="driver_push",
                batch_source=ParquetSource(path="data/d.parquet", timestamp_field="ts"),
            ),
        )
        pace = RequestSource(name="pace", schema=[Field("delay_s", Float64)])

        @on_demand_feature_view(sources=[stats, pace], schema=[Field("trips_x2", Int64)])
        def slow_double(df: pl.DataFrame) -> pl.DataFrame:
            delay = float(df["delay_s"].max() or 0)
            if delay:  # tell the test the call is in flight
                Path(os.environ["SERVE_TEST_MARK"]).touch()
            time.sleep(delay)
            return df.select((pl.col("trips") * 2).alias("trips_x2"))
    """
}


@pytest.fixture
def repo(make_repo: Callable[..., Path], unique_project: str) -> Path:
    path = make_repo(REPO, config=f"project: {unique_project}\n")
    result = CliRunner().invoke(main, ["-C", str(path), "apply", "--no-check-data"])
    assert result.exit_code == 0, result.output
    return path


@pytest.mark.grpc
@pytest.mark.slow
def test_sigterm_drains_in_flight_calls_then_exits(repo: Path, tmp_path: Path) -> None:
    mark = tmp_path / "in-flight"
    proc = subprocess.Popen(
        [
            FEATURESTORE,
            "-C",
            str(repo),
            "serve",
            "--port",
            "0",
            "--flight-port",
            "-1",
            "--metrics-port",
            "-1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "FEATURESTORE_TOKENS": "", "SERVE_TEST_MARK": str(mark)},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("featurestore serve: gRPC on 127.0.0.1:"), line
        address = line.split("gRPC on ", 1)[1].split(",")[0].strip()
        client = FeatureClient(address, retries=0, timeout=30)
        client.push(
            "driver_push",
            pa.table({"driver_id": [1], "ts": [datetime(2026, 1, 1, tzinfo=UTC)], "trips": [21]}),
        )
        result: dict[str, Any] = {}

        def slow_call() -> None:
            rows = {"driver_id": [1], "delay_s": [1.5]}
            try:
                result["value"] = client.get_online_features(["slow_double:trips_x2"], rows)
            except Exception as exc:  # reported by the assertion below
                result["error"] = exc

        caller = threading.Thread(target=slow_call)
        caller.start()
        deadline = time.monotonic() + 30
        while not mark.exists():  # wait until the call is sleeping inside the server
            assert time.monotonic() < deadline, "the slow call never reached the server"
            time.sleep(0.02)
        proc.send_signal(signal.SIGTERM)
        caller.join(timeout=30)
        assert "error" not in result, result.get("error")
        assert result["value"].to_dict()["trips_x2"] == [42]
        assert proc.wait(timeout=30) == 0
        out = proc.stdout.read()
        assert "featurestore serve: stopped" in out
        with pytest.raises(OnlineStoreUnavailableError):
            FeatureClient(address, retries=0, timeout=2).server_info()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--host", "0.0.0.0"], "refusing to serve on 0.0.0.0 without authentication"),
        (["--tls-cert", "c.pem"], "--tls-cert and --tls-key go together"),
        (["--tls-client-ca", "ca.pem"], "--tls-client-ca (mTLS) needs --tls-cert"),
    ],
)
def test_unsafe_or_inconsistent_flags_are_refused(
    repo: Path, args: list[str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FEATURESTORE_TOKENS", raising=False)
    result = CliRunner().invoke(main, ["-C", str(repo), "serve", "--port", "0", *args])
    assert result.exit_code == 1
    assert message in " ".join(result.output.split())


def test_token_file_errors_name_the_file(repo: Path, tmp_path: Path) -> None:
    bad = tmp_path / "tokens"
    bad.write_text(textwrap.dedent("admin:xyz\n"))
    result = CliRunner().invoke(
        main, ["-C", str(repo), "serve", "--port", "0", "--token-file", str(bad)]
    )
    assert result.exit_code == 1
    assert f"token file {bad} line 1" in " ".join(result.output.split())


@pytest.mark.parametrize(
    ("flags", "threads"),
    [([], 2), (["--reuse-port"], 3), (["--reuse-port", "--workers", "5"], 5)],
)
def test_worker_threads_default_to_the_measured_best(
    repo: Path, flags: list[str], threads: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """2 threads alone, 3 per process when processes share the port (benchmarks/README)."""
    seen: list[int] = []
    monkeypatch.setattr(
        "featurestore.serving.server.serve_forever",
        lambda server, on_started: seen.append(server.options.workers),
    )
    result = CliRunner().invoke(main, ["-C", str(repo), "serve", "--port", "0", *flags])
    assert result.exit_code == 0, result.output
    assert seen == [threads]
    refused = CliRunner().invoke(main, ["-C", str(repo), "serve", "--workers", "0"])
    assert refused.exit_code == 2
    assert "--workers" in refused.output
