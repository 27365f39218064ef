"""Writing a whole file so that readers see the old bytes or the new, never a mix."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import fsspec
from fsspec.implementations.local import LocalFileSystem


def write_atomic(fs: fsspec.AbstractFileSystem, path: str, data: bytes) -> None:
    """Write ``data`` at ``path`` on ``fs``: a synced temp file renamed into place on local
    disk; one PUT on object stores, which readers never see half-written."""
    if not isinstance(fs, LocalFileSystem):
        parent = path.rsplit("/", 1)[0] if "/" in path else ""
        if parent:
            fs.makedirs(parent, exist_ok=True)
        fs.pipe_file(path, data)
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
