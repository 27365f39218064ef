"""The Redis online store (single node or Redis Cluster).

Key: ``<prefix>:<project>:<view>:<schema version>:<entity key>``; value: the packed record
of ``_codec``. A key expires ``EXPIRE_MARGIN`` after its value's ttl has passed (reads
report EXPIRED before that). Writes keep the stored value when it is newer, so late or
replayed rows never win: a chunk of keys none of which exists yet is one MSETNX, any other
goes through a Lua script that compares (``_redis_write``). A read is one MGET
(or, on a cluster, one pipelined round per node). Password and TLS come from the URL
(``rediss://user:pass@host``) or ``REDIS_PASSWORD``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import hiredis
import numpy as np
import pyarrow as pa
import redis
import redis.cluster
from redis.crc import key_slot

from featurestore.definitions import FeatureView
from featurestore.errors import OnlineStoreError, OnlineStoreUnavailableError
from featurestore.online._pack import codec_for
from featurestore.online._redis_write import SCRIPT, chunk_args, prefixed, set_new
from featurestore.online.base import ReadRequest, WriteBatch
from featurestore.repo.config import RedisOnlineConfig

EXPIRE_MARGIN = timedelta(hours=1)
SCAN_COUNT = 1000

T = TypeVar("T")
_UNAVAILABLE = (
    redis.ConnectionError,
    redis.TimeoutError,
    redis.BusyLoadingError,
    redis.exceptions.ClusterDownError,
    redis.exceptions.MasterDownError,
)


class RedisOnlineStore:
    """Online values of one project in Redis."""

    def __init__(self, config: RedisOnlineConfig, project: str) -> None:
        self.config = config
        self.project = project
        self._where = _redact(config.url)
        self._base = f"{config.key_prefix}:{project}:"
        kwargs: dict[str, Any] = {
            "socket_connect_timeout": config.connect_timeout,
            "socket_timeout": config.timeout,
        }
        if os.environ.get("REDIS_PASSWORD") and not urlsplit(config.url).password:
            kwargs["password"] = os.environ["REDIS_PASSWORD"]
        try:
            if config.cluster:
                self.client: Any = redis.cluster.RedisCluster.from_url(config.url, **kwargs)
            else:
                self.client = redis.Redis.from_url(config.url, **kwargs)
        except (redis.RedisError, ValueError) as exc:
            raise self._unavailable(exc) from None
        self._script = self.client.register_script(SCRIPT)
        self._reads = None if config.cluster else _ReadConnections(self.client.connection_pool)
        self._prefixes: dict[int, tuple[FeatureView, bytes]] = {}

    def key_prefix(self, view_name: str, schema_version: str) -> bytes:
        return f"{self._base}{view_name}:{schema_version}:".encode()

    # --- writing --------------------------------------------------------------------------

    def write(self, batch: WriteBatch) -> int:
        view = batch.view
        prefix = self.key_prefix(view.name, codec_for(view).schema_version)
        keys, values = prefixed(prefix, batch.keys), batch.values
        lifetime_ms = None
        if view.ttl is not None:
            lifetime_ms = int((view.ttl + EXPIRE_MARGIN).total_seconds() * 1000)
            live = _expire_at_ms(batch.event_us, view.ttl) != -1
            if not live.all():  # already past ttl + margin: storing would only delete it
                mask = pa.array(live)
                keys, values = keys.filter(mask), values.filter(mask)
        return self._guard(lambda: self._run_script(keys, values, lifetime_ms))

    def _run_script(self, keys: pa.Array, values: pa.Array, lifetime_ms: int | None) -> int:
        """Write chunks of ``keys`` with MSETNX where none exists yet (single node, no
        ttl), and the others with the script in one pipeline: one round trip, or one per
        node on a cluster."""
        if not len(keys):
            return 0
        if not self.config.cluster:
            written, starts = 0, None
            if lifetime_ms is None:  # MSETNX sets no expiry
                written, starts = set_new(self.client, keys, values)
            pipe = self.client.pipeline(transaction=False)
            for args in chunk_args(keys, values, lifetime_ms, starts=starts):
                self._script(args=args, client=pipe)
            return written + int(sum(pipe.execute()))
        # A cluster refuses scripts in its own pipelines: group keys by the node serving
        # their slot and pipeline to each node directly.
        by_node: dict[str, tuple[Any, list[int]]] = {}
        for i, key in enumerate(keys.to_pylist()):
            node = self.client.nodes_manager.get_node_from_slot(key_slot(key))
            by_node.setdefault(node.name, (node, []))[1].append(i)
        written = 0
        for node, idx in by_node.values():
            pipe = node.redis_connection.pipeline(transaction=False)
            take = pa.array(idx, pa.int64())
            for args in chunk_args(keys.take(take), values.take(take), lifetime_ms, single=True):
                self._script(args=args, client=pipe)
            written += int(sum(pipe.execute()))
        return written

    # --- reading --------------------------------------------------------------------------

    def read(self, requests: Sequence[ReadRequest]) -> list[list[bytes | None]]:
        all_keys: list[bytes] = []
        bounds = []
        for req in requests:
            prefix = self._read_prefix(req.view)
            start = len(all_keys)
            ids = req.keys if isinstance(req.keys, list) else req.keys.to_pylist()
            all_keys += [prefix + k for k in ids]
            bounds.append((start, len(all_keys)))
        if not all_keys:
            return [[] for _ in requests]
        reads = self._reads
        if reads is None:  # a cluster
            values = self._guard(lambda: self.client.mget_nonatomic(all_keys))
        elif len(all_keys) == 1:
            values = [self._guard(lambda: reads.command("GET", all_keys[0]))]
        else:
            values = self._guard(lambda: reads.command("MGET", *all_keys))
        if len(bounds) == 1:
            return [values]
        return [values[a:b] for a, b in bounds]

    def _read_prefix(self, view: FeatureView) -> bytes:
        """``key_prefix`` of a view, cached by identity (registry versions hand out the
        same view objects)."""
        hit = self._prefixes.get(id(view))
        if hit is not None and hit[0] is view:
            return hit[1]
        prefix = self.key_prefix(view.name, codec_for(view).schema_version)
        if len(self._prefixes) > 1024:
            self._prefixes.clear()
        self._prefixes[id(view)] = (view, prefix)
        return prefix

    # --- removing -------------------------------------------------------------------------

    def delete_view(self, view: str) -> int:
        return self._delete_matching(f"{_escape(self._base + view)}:*")

    def teardown(self) -> None:
        self._delete_matching(f"{_escape(self._base)}*")

    def _delete_matching(self, pattern: str) -> int:
        def run() -> int:
            deleted = 0
            for keys in _batched(self.client.scan_iter(match=pattern, count=SCAN_COUNT)):
                if self.config.cluster:
                    pipe = self.client.pipeline(transaction=False)
                    for key in keys:
                        pipe.unlink(key)
                    deleted += sum(pipe.execute())
                else:
                    deleted += self.client.unlink(*keys)
            return deleted

        return self._guard(run)

    def close(self) -> None:
        if self._reads is not None:
            self._reads.close()
        self.client.close()

    # --- errors ---------------------------------------------------------------------------

    def _guard(self, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except redis.AuthenticationError as exc:
            msg = (
                f"Redis at {self._where} refused our credentials ({exc}); put the password "
                "in the URL (redis://:PASSWORD@host) or in REDIS_PASSWORD"
            )
            raise OnlineStoreError(msg) from None
        except _UNAVAILABLE as exc:
            raise self._unavailable(exc) from None
        except redis.RedisError as exc:
            msg = f"Redis at {self._where} failed: {exc}"
            raise OnlineStoreError(msg) from None

    def _unavailable(self, exc: Exception) -> OnlineStoreUnavailableError:
        msg = f"cannot reach the Redis online store at {self._where}: {exc}"
        return OnlineStoreUnavailableError(msg)


def _expire_at_ms(event_us: np.ndarray, ttl: timedelta | None) -> np.ndarray:
    """PXAT per row: 0 for no ttl, -1 when the value is already past ttl + margin."""
    if ttl is None:
        return np.zeros(len(event_us), dtype=np.int64)
    lifetime_ms = int((ttl + EXPIRE_MARGIN).total_seconds() * 1000)
    at = event_us // 1000 + lifetime_ms
    at[at <= int(time.time() * 1000)] = -1
    return at


class _ReadConnections:
    """Connections of a single-node store for reads, taken and given back without the
    pool's per-call work (a poll for unread data and connection bookkeeping: ~7 us of a
    ~27 us GET). That poll is not needed: a connection that fails is closed before it
    comes back, so none holds an unread reply. A read that finds its idle connection
    closed by the server (a restart) runs once more on a new one; reads are idempotent."""

    def __init__(self, pool: redis.ConnectionPool) -> None:
        self._pool = pool
        self._idle: list[redis.Connection] = []  # list.pop and append are atomic
        self._pid = os.getpid()

    def command(self, *args: bytes | str) -> Any:
        """Send one command and return its reply."""
        if self._pid != os.getpid():  # forked: the parent's sockets are not ours
            self._idle, self._pid = [], os.getpid()
        try:
            conn = self._idle.pop()
        except IndexError:
            return self._run(self._new(), args)
        try:
            return self._run(conn, args)
        except redis.ConnectionError:
            return self._run(self._new(), args)

    def close(self) -> None:
        while self._idle:
            self._idle.pop().disconnect()

    def _new(self) -> redis.Connection:
        return self._pool.connection_class(**self._pool.connection_kwargs)

    def _run(self, conn: redis.Connection, args: tuple[bytes | str, ...]) -> Any:
        try:
            # hiredis packs directly: redis-py's packer first copies every argument
            packed = hiredis.pack_command(args)  # type: ignore[arg-type]  # (stub: a 1-tuple)
            conn.send_packed_command([packed])
            reply = conn.read_response()
        except BaseException:
            conn.disconnect()
            raise
        self._idle.append(conn)
        return reply


def _batched(keys: Iterator[bytes], size: int = SCAN_COUNT) -> Iterator[list[bytes]]:
    chunk: list[bytes] = []
    for key in keys:
        chunk.append(key)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _escape(text: str) -> str:
    """``text`` as a literal in a SCAN MATCH glob."""
    for ch in "\\*?[]":
        text = text.replace(ch, "\\" + ch)
    return text


def _redact(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))
