"""The never-older write to Redis: a Lua script per chunk of keys, fed packed arguments.

Each call gets a chunk's keys and values as two blobs with their end offsets, not as one
argument per key: Python builds no object per key (the blobs are slices of the Arrow
buffers), and Redis parses five arguments instead of thousands. The script reads every
stored value of the chunk with one MGET, keeps the keys whose incoming (event, created)
header is not older, and writes them with one MSET — or, for a view with a ttl, one
``SET ... PXAT`` per key (MSET cannot set expiries). On a cluster, whose nodes refuse
multi-key commands across slots, it reads and writes one key per command.
"""

from __future__ import annotations

from collections.abc import Iterator

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
  local slot = slots[key]
  local old = slot and out[slot + 1] or olds[i]
  local take = true
  if old then
    local ne, nc = sunpack('<i8i8', vb, vs)
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
    out[slot + 1] = sub(vb, vs, ve)
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


def chunk_args(
    keys: pa.Array,
    values: pa.Array,
    lifetime_ms: int | None,
    *,
    single: bool = False,
    chunk: int | None = None,
) -> Iterator[list[bytes]]:
    """The script's arguments for each run of ``chunk`` rows of ``keys`` (full Redis keys)
    and ``values``; ``single`` for a cluster node (one key per command)."""
    life = b"" if lifetime_ms is None else str(int(lifetime_ms)).encode()
    mode = b"1" if single else b"0"
    chunk = chunk or CHUNK
    key_data, key_offsets = _buffers(keys)
    value_data, value_offsets = _buffers(values)
    for lo in range(0, len(keys), chunk):
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
