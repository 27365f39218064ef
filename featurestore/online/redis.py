"""The Redis online store (single node or Redis Cluster).

Key: ``<prefix>:<project>:<view>:<schema version>:<entity key>``; value: the packed record
of ``_codec``. A key expires ``EXPIRE_MARGIN`` after its value's ttl has passed (reads
report EXPIRED before that). Writes go through a Lua script per chunk of keys that keeps
the stored value when it is newer, so late or replayed rows never win. A read is one MGET
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

import numpy as np
import redis
import redis.cluster
from redis.crc import key_slot

from featurestore.errors import OnlineStoreError, OnlineStoreUnavailableError
from featurestore.online._keys import with_prefix
from featurestore.online._pack import codec_for
from featurestore.online.base import ReadRequest, WriteBatch
from featurestore.repo.config import RedisOnlineConfig

EXPIRE_MARGIN = timedelta(hours=1)
CHUNK = 1000  # keys per script call; a batch is one pipeline of chunks
SCAN_COUNT = 1000

# KEYS: the keys; ARGV: value, expire-at (ms since epoch, "0" for never) per key.
# The first 16 bytes of a value are its (event_us, created_us); a pair smaller than the
# stored one is dropped. Returns how many keys were written.
_WRITE_SCRIPT = """#!lua flags=allow-cross-slot-keys
local written = 0
for i = 1, #KEYS do
  local new = ARGV[2 * i - 1]
  local old = redis.call('GET', KEYS[i])
  local take = true
  if old then
    local oe, oc = struct.unpack('<i8i8', old)
    local ne, nc = struct.unpack('<i8i8', new)
    take = ne > oe or (ne == oe and nc >= oc)
  end
  if take then
    local at = ARGV[2 * i]
    if at == '0' then
      redis.call('SET', KEYS[i], new)
    else
      redis.call('SET', KEYS[i], new, 'PXAT', at)
    end
    written = written + 1
  end
end
return written
"""

T = TypeVar("T")


class RedisOnlineStore:
    """Online values of one project in Redis."""

    def __init__(self, config: RedisOnlineConfig, project: str) -> None:
        self.config = config
        self.project = project
        self._where = _redact(config.url)
        self._base = f"{config.key_prefix}:{project}:"
        kwargs: dict[str, Any] = {}
        if os.environ.get("REDIS_PASSWORD") and not urlsplit(config.url).password:
            kwargs["password"] = os.environ["REDIS_PASSWORD"]
        try:
            if config.cluster:
                self.client: Any = redis.cluster.RedisCluster.from_url(config.url, **kwargs)
            else:
                self.client = redis.Redis.from_url(config.url, **kwargs)
        except (redis.RedisError, ValueError) as exc:
            raise self._unavailable(exc) from None
        self._script = self.client.register_script(_WRITE_SCRIPT)

    def key_prefix(self, view_name: str, schema_version: str) -> bytes:
        return f"{self._base}{view_name}:{schema_version}:".encode()

    # --- writing --------------------------------------------------------------------------

    def write(self, batch: WriteBatch) -> int:
        view = batch.view
        keys = with_prefix(self.key_prefix(view.name, codec_for(view).schema_version), batch.keys)
        values = batch.values.to_pylist()
        expire = _expire_at_ms(batch.event_us, view.ttl)
        live = expire != -1
        if not live.all():  # already past ttl + margin: storing would only delete it again
            keys = [k for k, keep in zip(keys, live, strict=True) if keep]
            values = [v for v, keep in zip(values, live, strict=True) if keep]
            expire = expire[live]
        args = [x for pair in zip(values, expire.astype(str).tolist(), strict=True) for x in pair]
        if not keys:
            return 0
        return self._guard(lambda: self._run_script(keys, args))

    def _run_script(self, keys: list[bytes], args: list[Any]) -> int:
        if self.config.cluster:
            groups: dict[int, list[int]] = {}
            for i, key in enumerate(keys):
                groups.setdefault(key_slot(key), []).append(i)
            chunks = [
                ([keys[i] for i in idx], [a for i in idx for a in args[2 * i : 2 * i + 2]])
                for idx in groups.values()
            ]
        else:
            chunks = [
                (keys[i : i + CHUNK], args[2 * i : 2 * (i + CHUNK)])
                for i in range(0, len(keys), CHUNK)
            ]
        pipe = self.client.pipeline(transaction=False)
        for chunk_keys, chunk_args in chunks:
            self._script(keys=chunk_keys, args=chunk_args, client=pipe)
        return int(sum(pipe.execute()))

    # --- reading --------------------------------------------------------------------------

    def read(self, requests: Sequence[ReadRequest]) -> list[list[bytes | None]]:
        all_keys: list[bytes] = []
        bounds = []
        for req in requests:
            prefix = self.key_prefix(req.view.name, codec_for(req.view).schema_version)
            start = len(all_keys)
            all_keys += with_prefix(prefix, req.keys)
            bounds.append((start, len(all_keys)))
        if not all_keys:
            return [[] for _ in requests]
        if self.config.cluster:
            values = self._guard(lambda: self.client.mget_nonatomic(all_keys))
        else:
            values = self._guard(lambda: self.client.mget(all_keys))
        return [values[a:b] for a, b in bounds]

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
        self.client.close()

    # --- errors ---------------------------------------------------------------------------

    def _guard(self, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError) as exc:
            raise self._unavailable(exc) from None
        except redis.exceptions.RedisClusterException as exc:
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
