"""The ``OnlineStore`` protocol: what materialization, push and reads need from a store.

A store keeps one packed value (see ``_codec``) per (project, view, entity key). Writes
never replace a value with an older one: the stored (event time, created time) wins over an
incoming pair that is smaller; on a full tie the incoming value wins (it came later).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pyarrow as pa

from featurestore.definitions import FeatureView


@dataclass(frozen=True)
class WriteBatch:
    """Packed values of one view, one row per entity, ready for a store."""

    view: FeatureView
    keys: pa.Array  # binary entity keys (``_keys.entity_keys``)
    values: pa.Array  # binary packed values (``_codec.ViewCodec.encode``)
    event_us: np.ndarray  # int64 event time per row, for expiry


@dataclass(frozen=True)
class ReadRequest:
    """Entity keys to look up in one view."""

    view: FeatureView
    keys: pa.Array | list[bytes]  # binary entity keys, one per requested entity row


class OnlineStore(Protocol):
    """Redis (``online.redis``) or SQLite (``online.sqlite``)."""

    def write(self, batch: WriteBatch) -> int:
        """Store the batch's values unless an equal-or-newer one is stored; returns how many
        were written. Raises ``OnlineStoreUnavailableError`` if the store cannot be reached."""
        ...

    def read(self, requests: Sequence[ReadRequest]) -> list[list[bytes | None]]:
        """The stored packed value (None if absent) for every key of every request, in
        one round trip."""
        ...

    def delete_view(self, view: str) -> int:
        """Remove every value of ``view`` (all schema versions); returns how many."""
        ...

    def teardown(self) -> None:
        """Remove every value of the project."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
