"""An entity: the thing features describe, identified by one or more join keys."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from featurestore._frozen import FrozenDict
from featurestore.definitions._base import (
    caller_location,
    check_name,
    check_text,
    definition_error,
    freeze_tags,
)
from featurestore.types import Int64, ValueType


@dataclass(frozen=True, init=False)
class Entity:
    """An entity such as a member or a title.

    ``join_keys`` are the columns that identify it; ``value_type`` is their type (one type
    for all keys, or a dict per key; Int64 by default).

    >>> member = Entity(name="member", join_keys=["member_id"])
    >>> member.join_keys, member.key_types
    (('member_id',), (Int64,))
    """

    name: str
    join_keys: tuple[str, ...]
    key_types: tuple[ValueType, ...]
    description: str = ""
    tags: FrozenDict = field(default_factory=FrozenDict)
    owner: str = ""
    location: str = field(default="", compare=False, repr=False)

    def __init__(
        self,
        name: str,
        join_keys: Sequence[str] | str | None = None,
        value_type: ValueType | Mapping[str, ValueType] = Int64,
        description: str = "",
        tags: Mapping[str, str] | None = None,
        owner: str = "",
        *,
        location: str | None = None,
    ) -> None:
        loc = caller_location() if location is None else location
        check_name("Entity", name, loc)
        keys = _join_keys(name, join_keys, loc)
        types = _key_types(name, keys, value_type, loc)
        check_text("Entity", name, "description", description, loc)
        check_text("Entity", name, "owner", owner, loc)
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "join_keys", keys)
        object.__setattr__(self, "key_types", types)
        object.__setattr__(self, "description", description)
        object.__setattr__(self, "tags", freeze_tags("Entity", name, tags, loc))
        object.__setattr__(self, "owner", owner)
        object.__setattr__(self, "location", loc)

    @property
    def key_schema(self) -> dict[str, ValueType]:
        """Join key name to value type."""
        return dict(zip(self.join_keys, self.key_types, strict=True))


def _join_keys(name: str, join_keys: Sequence[str] | str | None, loc: str) -> tuple[str, ...]:
    if join_keys is None:
        problem = "is missing; give the key columns, e.g. join_keys=['member_id']"
        raise definition_error("Entity", name, "join_keys", problem, loc)
    keys = (join_keys,) if isinstance(join_keys, str) else tuple(join_keys)
    if not keys:
        problem = "is empty; an entity needs at least one join key"
        raise definition_error("Entity", name, "join_keys", problem, loc)
    for key in keys:
        check_name("Entity", key, loc, field="join_keys")
    if len(set(keys)) != len(keys):
        problem = f"lists a key twice: {list(keys)}"
        raise definition_error("Entity", name, "join_keys", problem, loc)
    return keys


def _key_types(
    name: str,
    keys: tuple[str, ...],
    value_type: ValueType | Mapping[str, ValueType],
    loc: str,
) -> tuple[ValueType, ...]:
    allowed = "Int32, Int64, String or Bytes"
    if isinstance(value_type, ValueType):
        per_key = dict.fromkeys(keys, value_type)
    elif isinstance(value_type, Mapping) and set(value_type) == set(keys):
        per_key = dict(value_type)
    else:
        problem = f"got {value_type!r}; give one type for all keys or a dict with each of {keys}"
        raise definition_error("Entity", name, "value_type", problem, loc)
    for key, vt in per_key.items():
        if not isinstance(vt, ValueType) or vt.name not in {"Int32", "Int64", "String", "Bytes"}:
            problem = f"key {key!r} has type {vt!r}; a join key is {allowed}"
            raise definition_error("Entity", name, "value_type", problem, loc)
    return tuple(per_key[k] for k in keys)
