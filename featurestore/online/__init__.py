"""Online stores: Redis and the embedded SQLite default, behind ``OnlineStore``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from featurestore.repo.config import RedisOnlineConfig

if TYPE_CHECKING:
    from featurestore.definitions import FeatureView
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


def layout_version(view: FeatureView) -> str:
    """A fingerprint of how the view's values are laid out online (keys, features, types).

    Values written under one layout are never read under another; when it changes, the
    view's online values are unreachable and must be materialized again.
    """
    from featurestore.online._pack import codec_for

    return codec_for(view).schema_version
