"""Check each feature view's source against its data, before a plan is applied.

For every view: the Parquet data exists; every feature, join key, the timestamp field and
the created column exist (features and join keys after ``field_mapping``); features and
join keys have types the schema accepts (``featurestore.types.is_compatible``); timestamp
columns are timestamps or dates. Only the Parquet schema is read, never the rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyarrow as pa

from featurestore.definitions import FeatureView, ParquetSource, PushSource
from featurestore.definitions.collection import Definitions
from featurestore.errors import FeatureStoreError, SourceDataError
from featurestore.types import ValueType, from_arrow, is_compatible

if TYPE_CHECKING:
    from featurestore.store import FeatureStore


@dataclass(frozen=True)
class DataCheck:
    """Problems found: ``errors`` block an apply, ``warnings`` do not."""

    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


def check_data(store: FeatureStore, definitions: Definitions) -> DataCheck:
    """Check every feature view of ``definitions`` against its source data."""
    errors: list[str] = []
    warnings: list[str] = []
    schemas: dict[ParquetSource, pa.Schema | str] = {}
    for view in definitions.feature_views.values():
        batch = view.batch_source
        if isinstance(view.source, PushSource) and not _has_data(store, batch):
            warnings.append(
                f"feature view {view.name!r}: push source {view.source.name!r} has no data at "
                f"{batch.path!r} yet; it is checked once rows are pushed"
            )
            continue
        if batch not in schemas:
            schemas[batch] = _read_schema(store, batch)
        schema = schemas[batch]
        if isinstance(schema, str):
            errors.append(f"feature view {view.name!r}: {schema}")
            continue
        errors.extend(check_view(view, schema))
    return DataCheck(tuple(errors), tuple(warnings))


def check_view(view: FeatureView, schema: pa.Schema) -> list[str]:
    """Problems of ``view`` against the Arrow ``schema`` of its source data."""
    batch = view.batch_source
    source_column = {feature: column for column, feature in batch.field_mapping.items()}
    problems: list[str] = []
    expected: list[tuple[str, str, ValueType]] = [
        *((f"join key {k!r}", k, t) for k, t in view.key_schema.items()),
        *((f"feature {f.name!r}", f.name, f.dtype) for f in view.schema),
    ]
    for what, name, declared in expected:
        column = source_column.get(name, name)
        problem = _check_column(schema, column, declared)
        if problem:
            label = what if column == name else f"{what} (source column {column!r})"
            problems.append(_message(view, label, batch.path, problem))
    timestamps = [("timestamp_field", batch.timestamp_field)]
    if batch.created_timestamp_column:
        timestamps.append(("created_timestamp_column", batch.created_timestamp_column))
    for what, column in timestamps:
        problem = _check_timestamp(schema, column)
        if problem:
            problems.append(_message(view, f"{what} {column!r}", batch.path, problem))
    return problems


def _read_schema(store: FeatureStore, source: ParquetSource) -> pa.Schema | str:
    """The source's Arrow schema, or a sentence saying why it cannot be read."""
    from featurestore.offline.source import open_dataset

    try:
        return open_dataset(store, source).schema
    except FeatureStoreError as exc:
        return str(exc)
    except (OSError, pa.ArrowException) as exc:
        return f"cannot read Parquet at {source.path!r}: {exc}"


def _has_data(store: FeatureStore, source: ParquetSource) -> bool:
    """Whether ``source`` holds any Parquet file yet."""
    from featurestore.offline.source import list_files, source_url

    try:
        list_files(source_url(store, source))
    except SourceDataError:
        return False
    return True


def _check_column(schema: pa.Schema, column: str, declared: ValueType) -> str:
    if column not in schema.names:
        return f"not in the data; columns are {schema.names}"
    arrow_type = schema.field(column).type
    if pa.types.is_dictionary(arrow_type):  # e.g. a hive partition column
        arrow_type = arrow_type.value_type
    try:
        actual = from_arrow(arrow_type)
    except FeatureStoreError:
        return f"has Arrow type {arrow_type}, which no featurestore type holds"
    if not is_compatible(declared, actual):
        return f"has type {actual} (Arrow {arrow_type}); the definition expects {declared}"
    return ""


def _check_timestamp(schema: pa.Schema, column: str) -> str:
    if column not in schema.names:
        return f"not in the data; columns are {schema.names}"
    arrow_type = schema.field(column).type
    if not (pa.types.is_timestamp(arrow_type) or pa.types.is_date(arrow_type)):
        return f"has Arrow type {arrow_type}; expected a timestamp or date column"
    return ""


def _message(view: FeatureView, label: str, path: str, problem: str) -> str:
    return f"feature view {view.name!r}, {label}, in {path}: {problem}"
