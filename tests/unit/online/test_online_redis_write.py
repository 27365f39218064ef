"""The Redis write script's packed arguments: slices of the Arrow buffers."""

from __future__ import annotations

import pyarrow as pa

from featurestore.online._redis_write import chunk_args, prefixed


def test_chunk_args_slice_the_arrow_buffers() -> None:
    keys = prefixed(b"p:", pa.array([b"1", b"22", b"", b"4444"], pa.binary()).slice(1))
    values = pa.array([b"aa", b"b", b"cccc"], pa.binary())
    chunks = list(chunk_args(keys, values, None, chunk=2))
    assert chunks == [
        [
            b"p:22p:",
            b"\x04\x00\x00\x00\x06\x00\x00\x00",
            b"aab",
            b"\x02\x00\x00\x00\x03\x00\x00\x00",
            b"",
            b"0",
        ],
        [b"p:4444", b"\x06\x00\x00\x00", b"cccc", b"\x04\x00\x00\x00", b"", b"0"],
    ]
    [expiring] = list(chunk_args(keys[:1], values[:1], 90_000, single=True))
    assert expiring[4:] == [b"90000", b"1"]
