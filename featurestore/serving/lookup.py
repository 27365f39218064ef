"""``GetOnlineFeatures`` answers, with the stored values written straight into the message.

A request for scalar features of feature views, for up to ``ROW_LIMIT`` rows (what a
service sends), is decoded row by row into Python lists (``ViewCodec.decode_lists``) that
go into the message as they are: no Arrow response in between, which for a few rows costs
more than the lookup. Other requests (on-demand or Array features, many rows) take the
in-process path, ``reader.respond`` then ``codec.response_to_proto``. Both give the same
message (tests/unit/serving/test_lookup.py).
"""

from __future__ import annotations

from typing import Any

from featurestore._proto import serving_pb2 as pb
from featurestore.online.reader import StoredRows, ViewRead, respond
from featurestore.online.response import FeatureStatus
from featurestore.serving import codec

ROW_LIMIT = 256  # beyond ~300 rows (10 features of 3 views) the numpy path is faster
_PRESENT, _NULL, _NOT_FOUND, _EXPIRED = (int(s) for s in FeatureStatus)


def to_proto(rows: StoredRows, registry_version: str) -> pb.GetOnlineFeaturesResponse:
    """The answer to a request whose stored values ``rows`` holds."""
    plan = rows.plan
    if not plan.scalar or not 0 < rows.num_rows <= ROW_LIMIT:
        return codec.response_to_proto(respond(rows), registry_version)
    msg = pb.GetOnlineFeaturesResponse(registry_version=registry_version)
    for name, column in rows.keys.items():  # the entity keys, as the general path gives them
        if isinstance(column, list):  # plain values of the key's type
            kind = codec.KIND_OF_TYPE[plan.key_schema[name].name]
            getattr(msg.entities.add(name=name).column, kind).values.extend(column)
        else:
            codec.encode_table([(name, column)], msg.entities)
    views = [
        _ViewAnswer(read, stored, rows.now_us)
        for read, stored in zip(plan.reads, rows.stored, strict=True)
    ]
    for i, feature, name in plan.outputs:
        view = views[i]
        out = msg.features.add()
        out.name = name
        kind = codec.KIND_OF_TYPE[view.types[feature].name]
        values = view.columns[feature]
        statuses = view.statuses
        if None in values:  # not found, expired or null: a placeholder and a null flag
            nulls = [v is None for v in values]
            out.values.nulls.extend(nulls)
            placeholder = codec.PLACEHOLDERS[kind]
            values = [placeholder if v is None else v for v in values]
            statuses = bytes(
                _NULL if null and s == _PRESENT else s
                for null, s in zip(nulls, statuses, strict=True)
            )
        field = getattr(out.values, kind)
        (field.micros if kind == "timestamp_values" else field.values).extend(values)
        out.statuses = statuses
        out.event_timestamps.CopyFrom(view.event_timestamps)
    return msg


class _ViewAnswer:
    """One view's decoded values, statuses (before nulls) and event times."""

    def __init__(self, read: ViewRead, stored: list[bytes | None], now_us: int) -> None:
        assert read.codec is not None
        oldest = None if read.ttl_us is None else now_us - read.ttl_us
        listed = read.codec.decode_lists(stored, read.wanted, oldest)
        self.types = read.codec.types
        self.columns: dict[str, list[Any]] = listed.columns
        found, fresh = listed.found, listed.fresh
        self.event_timestamps = pb.ValueColumn()
        self.event_timestamps.timestamp_values.micros.extend(listed.event_us)
        if all(found) and fresh is None:
            self.statuses = bytes(len(found))  # PRESENT is 0
            return
        if not all(found):
            self.event_timestamps.nulls.extend([not f for f in found])
        self.statuses = bytes(
            _NOT_FOUND if not f else _PRESENT if fresh is None or fresh[i] else _EXPIRED
            for i, f in enumerate(found)
        )
