"""From an Arrow batch of latest rows to packed values and keys for a store."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pyarrow as pa

from featurestore.definitions import FeatureView
from featurestore.online._codec import NO_CREATED, TS_TYPE, ViewCodec
from featurestore.online._keys import entity_keys
from featurestore.online.base import WriteBatch

EVENT_TS = "__event_ts"  # column names of the batches materialization and push hand over
CREATED_TS = "__created_ts"


_CODECS: dict[int, tuple[FeatureView, ViewCodec]] = {}


def codec_for(view: FeatureView) -> ViewCodec:
    """The codec of a view, cached by identity (registry versions hand out the same view
    objects), then by value."""
    hit = _CODECS.get(id(view))
    if hit is not None and hit[0] is view:
        return hit[1]
    codec = _codec_by_value(view)
    if len(_CODECS) > 1024:
        _CODECS.clear()
    _CODECS[id(view)] = (view, codec)
    return codec


@lru_cache(maxsize=256)
def _codec_by_value(view: FeatureView) -> ViewCodec:
    return ViewCodec(view)


def timestamps_us(arr: pa.Array | pa.ChunkedArray, null_value: int | None = None) -> np.ndarray:
    """int64 microseconds since the epoch (UTC) of a timestamp column."""
    ints = arr.cast(TS_TYPE).cast(pa.int64())
    if null_value is not None:
        ints = ints.fill_null(null_value)
    return ints.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)


def pack_batch(view: FeatureView, batch: pa.RecordBatch | pa.Table) -> WriteBatch:
    """Pack ``batch`` (join keys, every feature, ``__event_ts`` and ``__created_ts``)."""
    cols = {name: _array(batch, name) for name in batch.schema.names}
    event = timestamps_us(cols[EVENT_TS])
    if CREATED_TS in cols:
        created = timestamps_us(cols[CREATED_TS], null_value=NO_CREATED)
    else:
        created = np.full(len(event), NO_CREATED, dtype=np.int64)
    keys = entity_keys({k: cols[k] for k in view.join_keys}, view.key_schema, len(event))
    values = codec_for(view).encode(cols, event, created)
    return WriteBatch(view=view, keys=keys, values=values, event_us=event)


def _array(batch: pa.RecordBatch | pa.Table, name: str) -> pa.Array:
    col = batch.column(name)
    return col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
