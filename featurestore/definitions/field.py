"""A named, typed column of a feature view or request source."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from featurestore._frozen import FrozenDict
from featurestore.definitions._base import (
    caller_location,
    check_name,
    check_text,
    definition_error,
    freeze_tags,
)
from featurestore.types import ValueType


@dataclass(frozen=True, init=False)
class Field:
    """A feature (or request field): its name, value type, description and tags.

    >>> from featurestore.types import Float32
    >>> Field("conv_rate", Float32) == Field(name="conv_rate", dtype=Float32)
    True
    """

    name: str
    dtype: ValueType
    description: str = ""
    tags: FrozenDict = field(default_factory=FrozenDict)
    location: str = field(default="", compare=False, repr=False)

    def __init__(
        self,
        name: str,
        dtype: ValueType,
        description: str = "",
        tags: Mapping[str, str] | None = None,
        *,
        location: str | None = None,
    ) -> None:
        loc = caller_location() if location is None else location
        check_name("Field", name, loc)
        if not isinstance(dtype, ValueType):
            problem = (
                f"got {dtype!r}; expected a type from featurestore.types "
                "(Bool, Int32, Int64, Float32, Float64, String, Bytes, UnixTimestamp, Array(...))"
            )
            raise definition_error("Field", name, "dtype", problem, loc)
        check_text("Field", name, "description", description, loc)
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "dtype", dtype)
        object.__setattr__(self, "description", description)
        object.__setattr__(self, "tags", freeze_tags("Field", name, tags, loc))
        object.__setattr__(self, "location", loc)
