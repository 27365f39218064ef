"""What every command shares: the repo it runs in, console output, failing cleanly."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

from rich.console import Console
from rich.markup import escape

from featurestore.store import FeatureStore

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``error: message`` to stderr and exit with ``code``."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    sys.exit(code)


@dataclass
class CliContext:
    repo: str
    debug: bool
    _store: FeatureStore | None = field(default=None, repr=False)

    @property
    def repo_path(self) -> Path:
        return Path(self.repo)

    @property
    def store(self) -> FeatureStore:
        if self._store is None:
            self._store = FeatureStore(self.repo_path)
        return self._store
