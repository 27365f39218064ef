"""The versioned registry: immutable, content-addressed versions and a small ``HEAD`` pointer.

Layout under the registry URL (any fsspec URL: a local path, ``memory://``, ``s3://``)::

    versions/<sha256>.pb   a serialized ``RegistryVersion``; written once, never changed
    HEAD                   the id of the current version, replaced atomically
    state/<name>           non-versioned state of other components (watermarks, job history)

A version's id is the SHA-256 of its bytes; users see 12-character prefixes and any unique
prefix is accepted. ``commit`` is a compare-and-swap on ``HEAD`` under a lock, so two
concurrent applies never lose an update: the second gets a ``RegistryConflictError``.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import re
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import fsspec
from fsspec.implementations.local import LocalFileSystem
from google.protobuf.message import DecodeError

from featurestore._atomic import write_atomic
from featurestore._proto import registry_pb2 as pb
from featurestore.definitions.collection import Definitions
from featurestore.errors import (
    FeatureStoreError,
    NotFoundError,
    RegistryConflictError,
    RegistryError,
)
from featurestore.registry._convert import registry_from_proto, registry_to_proto
from featurestore.registry._lock import registry_lock

SHORT = 12
_HEX = re.compile(r"^[0-9a-f]+$")
_RELATIVE = re.compile(r"^(?i:head)(?:~(\d+))?$")


def short(version: str | None) -> str:
    """The 12-character prefix users see for a version id ('-' for none)."""
    return version[:SHORT] if version else "-"


@dataclass(frozen=True)
class RegistrySnapshot:
    """One registry version: who made it, when, from which parent, and its definitions."""

    version: str
    parent: str | None
    created_at: datetime
    author: str
    message: str
    rolled_back_from: str | None
    definitions: Definitions


class RegistryStore:
    """A registry at an fsspec URL.

    >>> reg = RegistryStore("memory://doctest-registry")
    >>> reg.head() is None
    True
    """

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/") or url
        try:
            self._fs, self._root = fsspec.core.url_to_fs(self.url)
        except (ImportError, ValueError) as exc:
            msg = f"registry {url!r}: cannot open this URL ({exc})"
            raise RegistryError(msg) from exc
        self._root = self._root.rstrip("/")
        self._cache: dict[str, RegistrySnapshot] = {}
        self._local = isinstance(self._fs, LocalFileSystem)
        self.writes = 0  # HEAD moves made through this object (readers' cache key)

    # --- reading --------------------------------------------------------------------------

    def head(self) -> str | None:
        """The current version id, or None for an empty registry (reads the pointer only)."""
        try:
            text = self._fs.cat_file(self._path("HEAD")).decode().strip()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise RegistryError(f"registry {self.url}: cannot read HEAD ({exc})") from exc
        return text or None

    def read(self, version: str) -> RegistrySnapshot:
        """The version with this id (or unique prefix, or ``HEAD~N``); cached, as versions
        never change."""
        version_id = self.resolve(version)
        cached = self._cache.get(version_id)
        if cached is not None:
            return cached
        path = self._version_path(version_id)
        try:
            data = self._fs.cat_file(path)
        except FileNotFoundError:
            msg = f"registry {self.url}: version {short(version_id)} not found at {path}"
            raise NotFoundError(msg) from None
        if hashlib.sha256(data).hexdigest() != version_id:
            msg = f"registry {self.url}: {path} is corrupt (its content hash does not match)"
            raise RegistryError(msg)
        try:
            msg_pb = pb.RegistryVersion.FromString(data)
        except DecodeError as exc:
            raise RegistryError(f"registry {self.url}: {path} is not a version: {exc}") from exc
        info = msg_pb.info
        snapshot = RegistrySnapshot(
            version=version_id,
            parent=info.parent or None,
            created_at=info.created_at.ToDatetime(tzinfo=UTC),
            author=info.author,
            message=info.message,
            rolled_back_from=info.rolled_back_from or None,
            definitions=registry_from_proto(msg_pb.registry),
        )
        self._cache[version_id] = snapshot
        return snapshot

    def history(self, limit: int | None = None) -> list[RegistrySnapshot]:
        """Versions from the current one back to the first, newest first."""
        out: list[RegistrySnapshot] = []
        version = self.head()
        while version is not None and (limit is None or len(out) < limit):
            snap = self.read(version)
            out.append(snap)
            version = snap.parent
        return out

    def versions(self) -> list[str]:
        """Every stored version id (including ones no longer reachable from HEAD)."""
        try:
            names = self._fs.ls(self._path("versions"), detail=False)
        except FileNotFoundError:
            return []
        ids = [os.path.basename(str(n).rstrip("/")) for n in names]
        return sorted(i[: -len(".pb")] for i in ids if i.endswith(".pb"))

    def resolve(self, ref: str) -> str:
        """The full id for a unique prefix (at least 4 characters), a full id, ``HEAD`` or
        ``HEAD~N`` (N versions before the current one)."""
        ref = ref.strip()
        relative = _RELATIVE.match(ref)
        if relative:
            return self._walk_back(int(relative.group(1) or 0), ref)
        ref = ref.lower()
        if len(ref) == 64 and _HEX.match(ref):
            return ref
        if len(ref) < 4 or not _HEX.match(ref):
            msg = (
                f"{ref!r} is not a registry version; give an id or a prefix of at least 4 hex "
                "characters (see `featurestore registry history`), HEAD or HEAD~N"
            )
            raise NotFoundError(msg)
        matches = [v for v in self.versions() if v.startswith(ref)]
        if not matches:
            msg = f"no registry version starts with {ref!r} in {self.url}"
            raise NotFoundError(msg)
        if len(matches) > 1:
            shown = ", ".join(short(m) for m in matches[:5])
            msg = f"version prefix {ref!r} is ambiguous ({shown}); give more characters"
            raise NotFoundError(msg)
        return matches[0]

    def _walk_back(self, steps: int, ref: str) -> str:
        version = self.head()
        if version is None:
            msg = f"the registry at {self.url} is empty; run `featurestore apply` first"
            raise NotFoundError(msg)
        for _ in range(steps):
            if version is None:
                break
            version = self.read(version).parent
        if version is None:
            msg = f"{ref}: the registry at {self.url} has no such version"
            raise NotFoundError(msg)
        return version

    # --- writing --------------------------------------------------------------------------

    def commit(
        self,
        definitions: Definitions,
        *,
        parent: str | None,
        author: str,
        message: str = "",
        rolled_back_from: str | None = None,
    ) -> str:
        """Write ``definitions`` as a new version on top of ``parent`` and move HEAD to it.

        Raises ``RegistryConflictError`` if HEAD is no longer ``parent``.
        """
        info = pb.VersionInfo(
            parent=parent or "",
            author=author,
            message=message,
            rolled_back_from=rolled_back_from or "",
        )
        info.created_at.FromDatetime(datetime.now(UTC))
        msg_pb = pb.RegistryVersion(info=info, registry=registry_to_proto(definitions))
        data = msg_pb.SerializeToString(deterministic=True)
        version_id = hashlib.sha256(data).hexdigest()
        try:
            with registry_lock(self._fs, self._root, self._local, self.url):
                current = self.head()
                if current != parent:
                    msg = (
                        f"registry changed since your plan (now at {short(current)}, plan was "
                        f"made at {short(parent)}); run plan again"
                    )
                    raise RegistryConflictError(msg)
                self._write_once(self._version_path(version_id), data)
                write_atomic(self._fs, self._path("HEAD"), (version_id + "\n").encode())
                self.writes += 1
        except FeatureStoreError:
            raise
        except OSError as exc:
            raise RegistryError(f"registry {self.url}: cannot write ({exc})") from exc
        return version_id

    def rollback(self, version: str, *, author: str, message: str = "") -> str:
        """A new version with the content of ``version``, on top of the current one."""
        target = self.read(version)
        current = self.head()
        if current is not None and self.read(current).definitions == target.definitions:
            msg = (
                f"the current version {short(current)} already has the content of "
                f"{short(target.version)}; nothing to roll back"
            )
            raise RegistryError(msg)
        return self.commit(
            target.definitions,
            parent=current,
            author=author,
            message=message or f"roll back to {short(target.version)}",
            rolled_back_from=target.version,
        )

    def state_url(self, name: str) -> str:
        """Where a component keeps non-versioned state (watermarks, job history)."""
        return f"{self.url}/state/{name}"

    # --- files ----------------------------------------------------------------------------

    def _path(self, name: str) -> str:
        return f"{self._root}/{name}"

    def _version_path(self, version_id: str) -> str:
        return self._path(f"versions/{version_id}.pb")

    def _write_once(self, path: str, data: bytes) -> None:
        if self._fs.exists(path):
            return  # same id, same bytes: content addressing makes this a no-op
        write_atomic(self._fs, path, data)  # makes the versions/ directory if need be


def default_author(repo_path: str | Path | None = None) -> str:
    """``$FEATURESTORE_AUTHOR``, else the repo's ``git config user.email``, else the OS user."""
    env = os.environ.get("FEATURESTORE_AUTHOR", "").strip()
    if env:
        return env
    try:
        result = subprocess.run(
            ["git", "config", "user.email"],
            cwd=str(repo_path) if repo_path else None,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
        email = result.stdout.strip()
        if result.returncode == 0 and email:
            return email
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"
