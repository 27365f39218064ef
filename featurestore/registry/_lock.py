"""The lock around the registry's compare-and-swap of ``HEAD``.

Three layers, so the lock holds between threads, processes and machines:

* a ``threading.Lock`` per registry URL inside one process;
* on a local filesystem, an OS file lock (``filelock``), released by the OS if the
  process dies;
* on any other filesystem, a lock *file* created with exclusive-create (``xb``). Object
  stores that honour conditional writes (S3 ``If-None-Match``, GCS, ``memory://``) make this
  exclusive. A lock older than ``STALE_AFTER`` is taken to belong to a crashed writer and
  removed. Limits: on a store without conditional writes two writers can both believe they
  hold the lock; and breaking a stale lock is not atomic, so two writers finding the same
  stale lock at the same moment (only after a crash) may both proceed. Where that matters,
  keep the registry on a local or network filesystem, or apply from one place at a time.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from filelock import FileLock, Timeout

from featurestore.errors import RegistryError

TIMEOUT = 60.0
STALE_AFTER = 120.0
_POLL = 0.05
_THREAD_LOCKS: dict[str, threading.Lock] = {}
_GUARD = threading.Lock()


@contextmanager
def registry_lock(fs: Any, root: str, local: bool, url: str) -> Iterator[None]:
    """Hold the write lock of the registry at ``root`` for the duration of the block."""
    with _GUARD:
        thread_lock = _THREAD_LOCKS.setdefault(url, threading.Lock())
    if not thread_lock.acquire(timeout=TIMEOUT):
        raise _timeout(url)
    try:
        if local:
            os.makedirs(root, exist_ok=True)
            try:
                with FileLock(os.path.join(root, ".lock"), timeout=TIMEOUT):
                    yield
            except Timeout:
                raise _timeout(url) from None
        else:
            with _lock_file(fs, root, url):
                yield
    finally:
        thread_lock.release()


@contextmanager
def _lock_file(fs: Any, root: str, url: str) -> Iterator[None]:
    path = f"{root}/LOCK"
    token = f"{socket.gethostname()}:{os.getpid()}:{time.time()}".encode()
    deadline = time.monotonic() + TIMEOUT
    fs.makedirs(root, exist_ok=True)
    while True:
        try:
            with fs.open(path, "xb") as f:
                f.write(token)
            break
        except FileExistsError:
            _remove_if_stale(fs, path)
            if time.monotonic() > deadline:
                raise _timeout(url) from None
            time.sleep(_POLL)
    try:
        yield
    finally:
        try:
            if fs.cat_file(path) == token:
                fs.rm_file(path)
        except FileNotFoundError:
            pass


def _remove_if_stale(fs: Any, path: str) -> None:
    try:
        written = float(fs.cat_file(path).decode().rsplit(":", 1)[1])
    except (FileNotFoundError, ValueError, IndexError):
        return
    if time.time() - written > STALE_AFTER:
        with suppress(FileNotFoundError):
            fs.rm_file(path)


def _timeout(url: str) -> RegistryError:
    msg = (
        f"registry {url}: another apply has held the lock for over {TIMEOUT:.0f}s; "
        "try again, or remove the LOCK file if no apply is running"
    )
    return RegistryError(msg)
