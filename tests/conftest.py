"""Fixtures shared by every test: throwaway feature repos and a real Redis."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REDIS_URL = os.environ.get("FEATURESTORE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture
def make_repo(tmp_path: Path) -> Callable[..., Path]:
    """Write a feature repo: ``featurestore.yaml`` plus ``{filename: python source}``."""

    def make(
        files: dict[str, str] | None = None,
        config: str = "project: test_project\n",
        name: str = "repo",
    ) -> Path:
        repo = tmp_path / name
        repo.mkdir(parents=True, exist_ok=True)
        (repo / "featurestore.yaml").write_text(textwrap.dedent(config))
        for filename, source in (files or {}).items():
            path = repo / filename
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(source))
        return repo

    return make


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A real Redis. Outside CI a missing server skips the test; in CI it fails it."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        if IN_CI:
            pytest.fail(f"CI=true but Redis at {REDIS_URL} is unreachable: {exc}")
        pytest.skip(f"no Redis at {REDIS_URL}")
    finally:
        client.close()
    yield REDIS_URL


@pytest.fixture
def unique_project() -> str:
    """A project name no other test (or earlier run) uses, so Redis keys never collide."""
    return f"t_{uuid.uuid4().hex[:12]}"


class RedisServer:
    """A throwaway redis-server on a free loopback port, without persistence, that a test
    may stop, kill, pause (``proc.send_signal``) and start again on the same port."""

    def __init__(self, workdir: Path) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, *extra: str) -> None:
        import redis

        self.proc = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", *extra),
            ],
            cwd=self.workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        try:
            while True:
                try:
                    client.ping()
                    return
                except redis.AuthenticationError:
                    return  # up, and asking for a password
                except redis.ConnectionError:
                    assert time.monotonic() < deadline, "redis-server did not start"
                    time.sleep(0.02)
        finally:
            client.close()

    def stop(self) -> None:
        """SIGTERM, and wait for the process to exit."""
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None

    def kill(self) -> None:
        """SIGKILL, as a crash."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of the test's own (started); outside CI a missing binary skips."""
    if shutil.which("redis-server") is None:
        if IN_CI:
            pytest.fail("CI=true but redis-server is not on PATH")
        pytest.skip("redis-server is not on PATH")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.kill()
