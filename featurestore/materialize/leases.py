"""One runner per view at a time, across processes and machines: expiring leases.

A lease is a key with a random token and a time to live. Whoever set the token holds it,
renews it while working, and releases it only if the token is still theirs. A runner that
crashes stops renewing, so its lease expires by itself and another runner takes over.

* ``RedisLeases`` (online store is Redis): ``SET key token NX PX ttl``; renew and release
  are compare-and-set Lua scripts, so they never touch someone else's lease.
* ``FileLeases`` (embedded setup): a small JSON file per view holding the token and its
  expiry, read and replaced under an OS file lock (``filelock``) that is held only for
  that instant and released by the OS if the process dies.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import fsspec
from filelock import FileLock
from fsspec.implementations.local import LocalFileSystem

from featurestore.errors import OnlineStoreUnavailableError

if TYPE_CHECKING:
    from featurestore.store import FeatureStore

log = logging.getLogger(__name__)

DEFAULT_TTL = 60.0

_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


class Leases(Protocol):
    """Named, expiring, token-guarded locks."""

    def acquire(self, name: str, ttl: float) -> str | None:
        """A fresh token if ``name`` was free (or expired), else None."""

    def renew(self, name: str, token: str, ttl: float) -> bool:
        """Extend the lease to ``ttl`` from now; False if it is no longer ours."""

    def release(self, name: str, token: str) -> None:
        """Free the lease if it is still ours."""


class RedisLeases:
    """Leases as Redis keys ``<prefix><name>``."""

    def __init__(self, client: Any, prefix: str) -> None:
        self._client = client
        self._prefix = prefix
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)

    def acquire(self, name: str, ttl: float) -> str | None:
        token = uuid.uuid4().hex
        ok = self._call(lambda: self._client.set(self._key(name), token, nx=True, px=_ms(ttl)))
        return token if ok else None

    def renew(self, name: str, token: str, ttl: float) -> bool:
        return bool(self._call(lambda: self._renew(keys=[self._key(name)], args=[token, _ms(ttl)])))

    def release(self, name: str, token: str) -> None:
        self._call(lambda: self._release(keys=[self._key(name)], args=[token]))

    def _key(self, name: str) -> str:
        return f"{self._prefix}{name}"

    def _call(self, fn: Callable[[], Any]) -> Any:
        import redis

        try:
            return fn()
        except redis.RedisError as exc:
            msg = f"job leases: Redis is unavailable ({exc}); no view can be materialized now"
            raise OnlineStoreUnavailableError(msg) from exc


class FileLeases:
    """Leases as files ``<directory>/<name>.lease``; ``clock`` is wall-clock seconds."""

    def __init__(self, directory: str | Path, clock: Callable[[], float] = time.time) -> None:
        self.directory = Path(directory)
        self._clock = clock

    def acquire(self, name: str, ttl: float) -> str | None:
        with self._guard(name):
            current = self._read(name)
            if current is not None and current["expires"] > self._clock():
                return None
            token = uuid.uuid4().hex
            self._write(name, token, ttl)
            return token

    def renew(self, name: str, token: str, ttl: float) -> bool:
        with self._guard(name):
            current = self._read(name)
            if current is None or current["token"] != token:
                return False
            self._write(name, token, ttl)
            return True

    def release(self, name: str, token: str) -> None:
        with self._guard(name):
            current = self._read(name)
            if current is not None and current["token"] == token:
                self._path(name).unlink(missing_ok=True)

    @contextmanager
    def _guard(self, name: str) -> Iterator[None]:
        self.directory.mkdir(parents=True, exist_ok=True)
        with FileLock(str(self._path(name)) + ".lock", timeout=30):
            yield

    def _read(self, name: str) -> dict[str, Any] | None:
        try:
            data: dict[str, Any] = json.loads(self._path(name).read_text())
            float(data["expires"])
            str(data["token"])
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError):
            return None  # a torn or foreign file: treat the lease as free
        return data

    def _write(self, name: str, token: str, ttl: float) -> None:
        path = self._path(name)
        tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps({"token": token, "expires": self._clock() + ttl}))
        os.replace(tmp, path)

    def _path(self, name: str) -> Path:
        return self.directory / f"{name}.lease"


def open_leases(store: FeatureStore) -> Leases:
    """Redis leases when the online store is Redis, else file leases kept with the registry
    (or under ``<repo>/.featurestore/leases`` when the registry is not on a local disk)."""
    online = store.config.online_store
    if online.type == "redis":
        import redis

        client: Any
        if online.cluster:
            client = redis.RedisCluster.from_url(online.url)
        else:
            client = redis.Redis.from_url(online.url)
        return RedisLeases(client, f"{online.key_prefix}:{store.project}:lease:")
    fs, path = fsspec.core.url_to_fs(store.registry.state_url("leases"))
    if isinstance(fs, LocalFileSystem):
        return FileLeases(path)
    return FileLeases(store.repo_path / ".featurestore" / "leases")


@dataclass
class HeldLease:
    """A lease being renewed in the background; ``lost`` turns True if renewal failed."""

    name: str
    token: str
    lost: threading.Event = field(default_factory=threading.Event)


@contextmanager
def hold(leases: Leases, name: str, ttl: float = DEFAULT_TTL) -> Iterator[HeldLease | None]:
    """Hold lease ``name`` for the block, renewing it every ``ttl / 3`` seconds; yields
    None (and runs nothing) when someone else holds it."""
    token = leases.acquire(name, ttl)
    if token is None:
        yield None
        return
    held = HeldLease(name, token)
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(ttl / 3):
            try:
                ok = leases.renew(name, token, ttl)
            except Exception as exc:  # keep renewing through a blip; report it
                log.warning("renewing lease %s failed: %s", name, exc)
                continue
            if not ok:
                log.warning("lease %s was lost (it expired and another runner took it)", name)
                held.lost.set()
                return

    thread = threading.Thread(target=renew, name=f"lease-{name}", daemon=True)
    thread.start()
    try:
        yield held
    finally:
        stop.set()
        thread.join()
        try:
            leases.release(name, token)
        except OnlineStoreUnavailableError as exc:
            log.warning("releasing lease %s failed (it will expire): %s", name, exc)


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))
