"""Lifecycle records kept with the registry: immutable objects plus small named pointers.

Layout under ``registry.state_url(kind)`` (``kind`` is ``datasets``, ``models`` or
``deployments``)::

    objects/<sha256>.pb   a serialized record, written once under the hash of its bytes
    refs/<name>           the id of the current record for a name (replaced atomically)

Pointer updates that must not lose a concurrent write go through ``swap`` (a compare-and-swap
under the registry's lock).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

import fsspec
from fsspec.implementations.local import LocalFileSystem
from google.protobuf.message import DecodeError, Message

from featurestore._atomic import write_atomic
from featurestore.errors import NotFoundError, RegistryConflictError, RegistryError
from featurestore.registry._lock import registry_lock

if TYPE_CHECKING:
    from featurestore.store import FeatureStore

M = TypeVar("M", bound=Message)
NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}$")
NAME_RULE = "letters, digits, '_', '.' or '-' (not starting with '.' or '-'), at most 128"


def check_name(kind: str, name: str) -> str:
    """``name`` if it may name a record (it becomes part of a path), else a ``ValueError``."""
    if not isinstance(name, str) or not NAME.match(name) or ".." in name:
        from featurestore.errors import RequestError

        msg = f"{kind} name {name!r} is not allowed; use {NAME_RULE} characters"
        raise RequestError(msg)
    return name


class RecordStore:
    """Records of one kind, next to the registry of ``store``."""

    def __init__(self, store: FeatureStore, kind: str) -> None:
        self.kind = kind
        self.url = store.registry.state_url(kind)
        try:
            self._fs, root = fsspec.core.url_to_fs(self.url)
        except (ImportError, ValueError) as exc:
            msg = f"{self.url}: cannot open this URL ({exc})"
            raise RegistryError(msg) from exc
        self._root = root.rstrip("/")
        self._local = isinstance(self._fs, LocalFileSystem)

    # --- objects --------------------------------------------------------------------------

    def put(self, record: Message) -> str:
        """Store ``record`` once; its id is the SHA-256 of its deterministic bytes."""
        data = record.SerializeToString(deterministic=True)
        record_id = hashlib.sha256(data).hexdigest()
        path = self._object_path(record_id)
        try:
            if not self._fs.exists(path):
                self._write(path, data)
        except OSError as exc:
            raise RegistryError(f"{self.url}: cannot write {path} ({exc})") from exc
        return record_id

    def get(self, record_id: str, message_type: type[M]) -> M:
        """The record with this id, checked against its hash."""
        path = self._object_path(record_id)
        try:
            data = self._fs.cat_file(path)
        except FileNotFoundError:
            msg = f"{self.kind} record {record_id[:12]} not found at {path}"
            raise NotFoundError(msg) from None
        if hashlib.sha256(data).hexdigest() != record_id:
            raise RegistryError(f"{path} is corrupt (its content hash does not match)")
        try:
            return message_type.FromString(data)
        except DecodeError as exc:
            raise RegistryError(f"{path} is not a {message_type.__name__}: {exc}") from exc

    # --- pointers -------------------------------------------------------------------------

    def ref(self, name: str) -> str | None:
        """The record id a pointer names, or None when there is no such pointer."""
        try:
            text = self._fs.cat_file(self._ref_path(name)).decode().strip()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise RegistryError(f"{self.url}: cannot read ref {name!r} ({exc})") from exc
        return text or None

    def refs(self, prefix: str = "") -> dict[str, str]:
        """Every pointer under ``refs/<prefix>`` (recursively): name to record id."""
        base = f"{self._root}/refs"
        try:
            paths = self._fs.find(f"{base}/{prefix}".rstrip("/"))
        except FileNotFoundError:
            return {}
        out: dict[str, str] = {}
        for path in sorted(str(p) for p in paths):
            if path.endswith(".tmp") or path.endswith(".lock"):
                continue
            name = path[len(base) + 1 :]
            record_id = self.ref(name)
            if record_id:
                out[name] = record_id
        return out

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold this kind's write lock (between threads, processes and machines)."""
        with registry_lock(self._fs, f"{self._root}/LOCK", self._local, self.url):
            yield

    def swap(self, name: str, record_id: str, *, expected: str | None) -> None:
        """Point ``name`` at ``record_id`` if it still points at ``expected``."""
        with self.locked():
            current = self.ref(name)
            if current != expected:
                msg = (
                    f"{self.kind} {name!r} changed while we worked (now {short(current)}, "
                    f"expected {short(expected)}); run the command again"
                )
                raise RegistryConflictError(msg)
            self.set_ref(name, record_id)

    def set_ref(self, name: str, record_id: str) -> None:
        try:
            self._write(self._ref_path(name), (record_id + "\n").encode())
        except OSError as exc:
            raise RegistryError(f"{self.url}: cannot write ref {name!r} ({exc})") from exc

    # --- files ----------------------------------------------------------------------------

    def _object_path(self, record_id: str) -> str:
        return f"{self._root}/objects/{record_id}.pb"

    def _ref_path(self, name: str) -> str:
        return f"{self._root}/refs/{name}"

    def _write(self, path: str, data: bytes) -> None:
        write_atomic(self._fs, path, data)


_STORES: dict[str, RecordStore] = {}


def record_store(store: FeatureStore, kind: str) -> RecordStore:
    """The ``RecordStore`` of ``kind`` next to ``store``'s registry (one per location)."""
    url = store.registry.state_url(kind)
    found = _STORES.get(url)
    if found is None:
        found = _STORES[url] = RecordStore(store, kind)
    return found


def short(record_id: str | None) -> str:
    return record_id[:12] if record_id else "-"
