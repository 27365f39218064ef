"""The never-older write to Redis: MSETNX for chunks of new keys, else a Lua script per
chunk of keys, fed packed arguments.

A chunk none of whose keys exists yet (a first materialization, new entities) is written
with one MSETNX: all or nothing, atomically, and with no stored value there is nothing to
compare, so Redis does about MSET's work. The command is sliced out of one Arrow array of
RESP-encoded key-value pairs, so Python builds no object per key either.

Each call gets a chunk's keys and values as two blobs with their end offsets, not as one
argument per key: Python builds no object per key (the blobs are slices of the Arrow
buffers), and Redis parses five arguments instead of thousands. The script reads every
stored value of the chunk with one MGET, keeps the keys whose incoming (event, created)
header is not older, and writes them with one MSET — or, for a view with a ttl, one
``SET ... PXAT`` per key (MSET cannot set expiries). On a cluster, whose nodes refuse
multi-key commands across slots, it reads and writes one key per command.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Keys per script call. At most 3,000: the script unpacks 2 * CHUNK values at once, and
# Lua allows about 8,000.
CHUNK = 1000

# ARGV: keys blob, key ends, values blob, value ends (uint32 little-endian, one per key,
# exclusive, counted from the blob's start), the lifetime in ms ("" for no expiry; else the
# key expires at event ms + lifetime) and "1" for one key per command (a cluster node
# refuses a MGET or MSET whose keys lie in several slots), else "0". Keys travel in ARGV, flagged
# allow-cross-slot-keys, so on a cluster one call may cover every slot of a node.
# The first 16 bytes of a value are its (event_us, created_us): a pair smaller than the
# stored one is dropped, a tie is written (Lua compares them as doubles: exact to the
# microsecond up to the year 2255). Returns how many keys were written.
SCRIPT = """#!lua flags=allow-cross-slot-keys
local call, sunpack, sub = redis.call, struct.unpack, string.sub
local kb, vb, life, single = ARGV[1], ARGV[3], tonumber(ARGV[5]), ARGV[6] == '1'
local n = #ARGV[2] / 4
if n == 0 then return 0 end
local form = '<' .. string.rep('I4', n)
local kends, vends = {sunpack(form, ARGV[2])}, {sunpack(form, ARGV[4])}
local keys, at = {}, 1
for i = 1, n do
  keys[i] = sub(kb, at, kends[i])
  at = kends[i] + 1
end
local olds = {}
if single then
  for i = 1, n do olds[i] = call('GET', keys[i]) end
else
  olds = call('MGET', unpack(keys, 1, n))
end
-- out holds key, value pairs to write; a key met again in the chunk is compared with
-- the value already chosen for it, so the newer one wins whatever the order.
local out, w, slots, vs = {}, 0, {}, 1
for i = 1, n do
  local key, ve = keys[i], vends[i]
  local value = sub(vb, vs, ve)
  local slot = slots[key]
  local old = slot and out[slot + 1] or olds[i]
  local take = true
  if old and old ~= value then -- an equal value (a rerun) is a tie: no need to unpack
    local ne, nc = sunpack('<i8i8', value)
    local oe, oc = sunpack('<i8i8', old)
    take = ne > oe or (ne == oe and nc >= oc)
  end
  if take then
    if not slot then
      slot = w + 1
      slots[key] = slot
      out[slot] = key
      w = w + 2
    end
    out[slot + 1] = value
  end
  vs = ve + 1
end
if w == 0 then return 0 end
if life then
  for j = 1, w, 2 do
    local expire = math.floor(sunpack('<i8', out[j + 1]) / 1000) + life
    call('SET', out[j], out[j + 1], 'PXAT', string.format('%.0f', expire))
  end
elseif single then
  for j = 1, w, 2 do call('SET', out[j], out[j + 1]) end
else
  call('MSET', unpack(out, 1, w))
end
return w / 2
"""


def prefixed(prefix: bytes, keys: pa.Array) -> pa.Array:
    """``prefix + key`` for every key, as one binary array."""
    return pc.binary_join_element_wise(pa.scalar(prefix, pa.binary()), keys, b"")


def set_new(client: Any, keys: pa.Array, values: pa.Array) -> tuple[int, list[int]]:
    """MSETNX ``keys`` (full Redis keys) and ``values`` on a single node, one command per
    chunk: returns how many keys were written and the starts of the chunks that were not
    (some key exists), for the script. The first chunk goes alone: when one of its keys
    exists (a rerun, an incremental window), the others go straight to the script; a
    batch of one chunk (a push) goes there at once, in one round trip where a probe
    finding its keys would take two. A repeated key leaves its chunks to the script too:
    within one MSETNX the last value of a key would win, newer or not."""
    starts = list(range(0, len(keys), CHUNK))
    if len(starts) == 1 or not _distinct(keys.slice(0, CHUNK)):
        return 0, starts
    if round_trip(client, lambda _: _msetnx(keys, values, [0])) != [1]:
        return 0, starts
    rest = starts[1:]
    if not _distinct(keys.slice(CHUNK)):
        return CHUNK, rest
    replies = round_trip(client, lambda _: _msetnx(keys, values, rest), len(rest))
    left = [lo for lo, done in zip(rest, replies, strict=True) if done != 1]
    return len(keys) - sum(min(CHUNK, len(keys) - lo) for lo in left), left


def _distinct(keys: pa.Array) -> bool:
    return len(pc.unique(keys)) == len(keys)


def _msetnx(keys: pa.Array, values: pa.Array, starts: list[int]) -> list[Any]:
    """The encoded MSETNX commands, in pieces, of the consecutive chunks at ``starts``:
    slices of one Arrow array of RESP-encoded key-value pairs (no Python object per key)."""
    first, stop = starts[0], min(starts[-1] + CHUNK, len(keys))
    pairs = _resp_pairs(keys.slice(first, stop - first), values.slice(first, stop - first))
    data, offsets = _buffers(pairs)
    body = memoryview(data) if data is not None else memoryview(b"")
    parts: list[Any] = []
    for lo in starts:
        hi = min(lo + CHUNK, stop)
        parts.append(b"*%d\r\n$6\r\nMSETNX\r\n" % (2 * (hi - lo) + 1))
        parts.append(body[int(offsets[lo - first]) : int(offsets[hi - first])])
    return parts


def round_trip(client: Any, encode: Callable[[Any], Any], replies: int = 1) -> list[Any]:
    """Send what ``encode(connection)`` returns (encoded commands, whole or in pieces) on
    one connection of a single-node client's pool and read ``replies`` replies. This skips
    the client's per-call path (retry wrapper, observability hooks), which costs about as
    much CPU as a round trip; the pool still hands out a connection the server closed (a
    restart) as a fresh one. On any error the connection is dropped, so a reply left
    unread never reaches the next caller."""
    pool = client.connection_pool
    conn = pool.get_connection()
    try:
        conn.send_packed_command(encode(conn))
        return [conn.read_response() for _ in range(replies)]
    except BaseException:
        conn.disconnect()
        raise
    finally:
        pool.release(conn)


def _resp_pairs(keys: pa.Array, values: pa.Array) -> pa.Array:
    """Each row's key and value as RESP bulk strings, ready to follow an MSETNX header."""
    crlf = pa.scalar(b"\r\n", pa.binary())
    return pc.binary_join_element_wise(
        _bulk_head(keys), keys, crlf, _bulk_head(values), values, crlf, b""
    )


def _bulk_head(arr: pa.Array) -> pa.Array | pa.Scalar:
    """Each element's RESP bulk-string header: one scalar when all lengths are equal."""
    lengths = pc.binary_length(arr)
    bounds = pc.min_max(lengths)
    if bounds["min"] == bounds["max"]:
        return pa.scalar(b"$%d\r\n" % bounds["min"].as_py(), pa.binary())
    digits = lengths.cast(pa.string()).cast(pa.binary())
    dollar, crlf = pa.scalar(b"$", pa.binary()), pa.scalar(b"\r\n", pa.binary())
    return pc.binary_join_element_wise(dollar, digits, crlf, b"")


def chunk_args(
    keys: pa.Array,
    values: pa.Array,
    lifetime_ms: int | None,
    *,
    single: bool = False,
    chunk: int | None = None,
    starts: Sequence[int] | None = None,
) -> Iterator[list[bytes]]:
    """The script's arguments for each run of ``chunk`` rows of ``keys`` (full Redis keys)
    and ``values`` (only the runs beginning at ``starts``, if given); ``single`` for a
    cluster node (one key per command)."""
    life = b"" if lifetime_ms is None else str(int(lifetime_ms)).encode()
    mode = b"1" if single else b"0"
    chunk = chunk or CHUNK
    key_data, key_offsets = _buffers(keys)
    value_data, value_offsets = _buffers(values)
    for lo in range(0, len(keys), chunk) if starts is None else starts:
        hi = min(lo + chunk, len(keys))
        kb, ke = _slice(key_data, key_offsets, lo, hi)
        vb, ve = _slice(value_data, value_offsets, lo, hi)
        yield [kb, ke, vb, ve, life, mode]


def _buffers(arr: pa.Array) -> tuple[pa.Buffer | None, np.ndarray]:
    if arr.type != pa.binary():
        arr = arr.cast(pa.binary())
    offsets = np.frombuffer(
        arr.buffers()[1], dtype=np.int32, count=len(arr) + 1, offset=arr.offset * 4
    )
    return arr.buffers()[2], offsets


def _slice(data: pa.Buffer | None, offsets: np.ndarray, lo: int, hi: int) -> tuple[bytes, bytes]:
    start, stop = int(offsets[lo]), int(offsets[hi])
    blob = b"" if data is None else data[start:stop].to_pybytes()
    ends = (offsets[lo + 1 : hi + 1] - start).astype("<u4").tobytes()
    return blob, ends
