"""Where feature data comes from: Parquet files, pushes, and request-time data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from featurestore._frozen import FrozenDict
from featurestore.definitions._base import (
    caller_location,
    check_name,
    check_text,
    definition_error,
)
from featurestore.definitions.field import Field


@dataclass(frozen=True, init=False)
class ParquetSource:
    """Parquet data: a file, a directory, a glob or a hive-partitioned dataset.

    ``path`` is relative to the repo root or any fsspec URL (``s3://``, ``gs://``,
    ``memory://``). ``field_mapping`` renames source columns to feature names.

    >>> ParquetSource(path="data/member_activity.parquet").timestamp_field
    'event_timestamp'
    """

    path: str
    timestamp_field: str = "event_timestamp"
    created_timestamp_column: str = ""
    field_mapping: FrozenDict = field(default_factory=FrozenDict)
    location: str = field(default="", compare=False, repr=False)

    def __init__(
        self,
        path: str,
        timestamp_field: str = "event_timestamp",
        created_timestamp_column: str | None = None,
        field_mapping: Mapping[str, str] | None = None,
        *,
        location: str | None = None,
    ) -> None:
        loc = caller_location() if location is None else location
        if not isinstance(path, str) or not path.strip():
            problem = f"got {path!r}; expected a path relative to the repo or an fsspec URL"
            raise definition_error("ParquetSource", str(path), "path", problem, loc)
        check_name("ParquetSource", timestamp_field, loc, field="timestamp_field")
        created = created_timestamp_column or ""
        if created:
            check_name("ParquetSource", created, loc, field="created_timestamp_column")
        if created == timestamp_field:
            problem = "is the same column as timestamp_field; use a separate created column"
            raise definition_error("ParquetSource", path, "created_timestamp_column", problem, loc)
        mapping = dict(field_mapping or {})
        for src, dst in mapping.items():
            if not isinstance(src, str) or not isinstance(dst, str):
                problem = f"got {src!r}: {dst!r}; expected source column -> feature name strings"
                raise definition_error("ParquetSource", path, "field_mapping", problem, loc)
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "timestamp_field", timestamp_field)
        object.__setattr__(self, "created_timestamp_column", created)
        object.__setattr__(self, "field_mapping", FrozenDict(mapping))
        object.__setattr__(self, "location", loc)


@dataclass(frozen=True, init=False)
class PushSource:
    """Rows pushed by an application (``store.push``), backed by a Parquet batch source."""

    name: str
    batch_source: ParquetSource
    description: str = ""
    location: str = field(default="", compare=False, repr=False)

    def __init__(
        self,
        name: str,
        batch_source: ParquetSource,
        description: str = "",
        *,
        location: str | None = None,
    ) -> None:
        loc = caller_location() if location is None else location
        check_name("PushSource", name, loc)
        if not isinstance(batch_source, ParquetSource):
            problem = f"got {batch_source!r}; expected a ParquetSource for the pushed rows"
            raise definition_error("PushSource", name, "batch_source", problem, loc)
        check_text("PushSource", name, "description", description, loc)
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "batch_source", batch_source)
        object.__setattr__(self, "description", description)
        object.__setattr__(self, "location", loc)


@dataclass(frozen=True, init=False)
class RequestSource:
    """Data that arrives with each request (e.g. the device a member is watching on)."""

    name: str
    schema: tuple[Field, ...]
    description: str = ""
    location: str = field(default="", compare=False, repr=False)

    def __init__(
        self,
        name: str,
        schema: Sequence[Field],
        description: str = "",
        *,
        location: str | None = None,
    ) -> None:
        loc = caller_location() if location is None else location
        check_name("RequestSource", name, loc)
        fields = check_schema("RequestSource", name, schema, loc)
        check_text("RequestSource", name, "description", description, loc)
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "schema", fields)
        object.__setattr__(self, "description", description)
        object.__setattr__(self, "location", loc)


def check_schema(kind: str, name: str, schema: object, loc: str) -> tuple[Field, ...]:
    """A non-empty list of ``Field`` with distinct names, as a tuple."""
    if not isinstance(schema, Sequence) or isinstance(schema, str) or not schema:
        problem = f"got {schema!r}; expected a non-empty list of Field(name, dtype)"
        raise definition_error(kind, name, "schema", problem, loc)
    fields = tuple(schema)
    for f in fields:
        if not isinstance(f, Field):
            problem = f"has {f!r}; every entry must be a Field(name, dtype)"
            raise definition_error(kind, name, "schema", problem, loc)
    seen: set[str] = set()
    for f in fields:
        if f.name in seen:
            raise definition_error(kind, name, "schema", f"lists field {f.name!r} twice", loc)
        seen.add(f.name)
    return fields
