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

    def __init__(self, workdir: Path, tls: Path | None = None) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.listen = ["--port", str(self.port)]
        if tls is not None:  # TLS only, with ``certs``' files; clients need no certificate
            self.url = f"rediss://127.0.0.1:{self.port}/0?ssl_ca_certs={tls / 'ca.pem'}"
            self.listen = ["--port", "0", "--tls-port", str(self.port)]
            self.listen += ["--tls-cert-file", str(tls / "server.pem")]
            self.listen += ["--tls-key-file", str(tls / "server.key")]
            self.listen += ["--tls-ca-cert-file", str(tls / "ca.pem"), "--tls-auth-clients", "no"]
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, *extra: str) -> None:
        import redis

        self.proc = subprocess.Popen(
            [
                *("redis-server", *self.listen, "--bind", "127.0.0.1"),
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
def redis_servers(tmp_path: Path) -> Iterator[Callable[..., RedisServer]]:
    """``make(tls=None)``: a ``RedisServer`` of the test's own, not started yet, killed
    after the test. Outside CI a missing redis-server binary skips the test."""
    if shutil.which("redis-server") is None:
        if IN_CI:
            pytest.fail("CI=true but redis-server is not on PATH")
        pytest.skip("redis-server is not on PATH")
    made: list[RedisServer] = []

    def make(tls: Path | None = None) -> RedisServer:
        made.append(RedisServer(tmp_path, tls=tls))
        return made[-1]

    yield make
    for server in made:
        server.kill()


@pytest.fixture
def own_redis(redis_servers: Callable[..., RedisServer]) -> RedisServer:
    """A plain redis-server of the test's own, started."""
    server = redis_servers()
    server.start()
    return server


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _issue(name: str, cwd: Path, san: str) -> None:
    """``name.key`` and ``name.pem`` signed by ``ca`` in ``cwd``."""
    key = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    openssl(
        "req",
        *key,
        "-keyout",
        f"{name}.key",
        "-out",
        f"{name}.csr",
        "-subj",
        f"/CN={name}",
        cwd=cwd,
    )
    (cwd / f"{name}.ext").write_text(f"subjectAltName={san}\n")
    openssl(
        *("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key"),
        *("-CAcreateserial", "-out", f"{name}.pem", "-days", "1", "-extfile", f"{name}.ext"),
        cwd=cwd,
    )


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A test CA (``ca.pem``) and, signed by it, ``server.pem``/``.key`` for localhost and
    127.0.0.1 and ``client.pem``/``.key``: made by the openssl CLI."""
    if shutil.which("openssl") is None:
        if IN_CI:
            pytest.fail("CI=true but openssl is not on PATH")
        pytest.skip("openssl is not on PATH")
    d = tmp_path_factory.mktemp("certs")
    key = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    openssl(
        "req",
        "-x509",
        *key,
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "1",
        "-subj",
        "/CN=test-ca",
        cwd=d,
    )
    _issue("server", d, "DNS:localhost,IP:127.0.0.1")
    _issue("client", d, "DNS:client")
    return d
