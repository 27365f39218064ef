"""Online stores: Redis and the embedded SQLite default, behind ``OnlineStore``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from featurestore.repo.config import RedisOnlineConfig

if TYPE_CHECKING:
    from featurestore.online.base import OnlineStore
    from featurestore.store import FeatureStore


def open_online_store(store: FeatureStore) -> OnlineStore:
    """The online store configured in ``featurestore.yaml`` (SQLite paths are under the repo)."""
    config = store.config.online_store
    if isinstance(config, RedisOnlineConfig):
        from featurestore.online.redis import RedisOnlineStore

        return RedisOnlineStore(config, store.project)
    from pathlib import Path

    from featurestore.online.sqlite import SqliteOnlineStore

    return SqliteOnlineStore(Path(store.resolve_path(config.path)), store.project)
