"""The result of an online lookup: columns of values, a status and an event time per value."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, NamedTuple

import polars as pl
import pyarrow as pa


class FeatureStatus(enum.IntEnum):
    """Why a value is what it is. The numbers are part of the gRPC contract."""

    PRESENT = 0  # a value was found and is fresh
    NULL = 1  # a row was found and is fresh, but this feature is null in it
    NOT_FOUND = 2  # no row for this entity
    EXPIRED = 3  # a row was found but is older than the view's ttl; the value is null


class FeatureColumn(NamedTuple):
    """One requested feature for every entity row, in request order (a named tuple: a
    request makes one per feature, and a tuple is the cheapest immutable record)."""

    name: str  # output name: "feature" or "view__feature"
    values: pa.Array  # typed; null where status is not PRESENT
    statuses: pa.Array  # uint8 FeatureStatus codes
    event_timestamps: pa.Array  # timestamp[us, UTC]; null when NOT_FOUND


@dataclass(frozen=True)
class OnlineResponse:
    """Columnar online features for a list of entity rows."""

    entities: pa.Table  # the entity key columns as requested
    features: tuple[FeatureColumn, ...]

    def to_arrow(self, *, with_status: bool = False) -> pa.Table:
        """Entity keys then one column per feature (plus ``<name>__status`` and
        ``<name>__event_timestamp`` columns with ``with_status=True``)."""
        table = self.entities
        for col in self.features:
            table = table.append_column(col.name, col.values)
            if with_status:
                statuses = pa.array(
                    [FeatureStatus(s).name for s in col.statuses.to_pylist()], pa.string()
                )
                table = table.append_column(f"{col.name}__status", statuses)
                table = table.append_column(f"{col.name}__event_timestamp", col.event_timestamps)
        return table

    def to_polars(self, *, with_status: bool = False) -> pl.DataFrame:
        frame = pl.from_arrow(self.to_arrow(with_status=with_status))
        assert isinstance(frame, pl.DataFrame)
        return frame

    def to_dict(self, *, with_status: bool = False) -> dict[str, list[Any]]:
        """Column name to list of Python values."""
        return self.to_arrow(with_status=with_status).to_pydict()

    def statuses(self) -> dict[str, list[FeatureStatus]]:
        """Feature name to the status of each entity row's value."""
        return {c.name: [FeatureStatus(s) for s in c.statuses.to_pylist()] for c in self.features}
