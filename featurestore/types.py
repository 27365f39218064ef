"""Value types of features and join keys, and their Arrow mapping.

>>> from featurestore.types import Array, Int64, from_arrow, parse
>>> Int64.to_arrow()
DataType(int64)
>>> str(Array(Int64))
'Array(Int64)'
>>> parse("Array(Float32)") == Array(from_arrow(Float32.to_arrow()))
True
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from featurestore.errors import DefinitionError


@dataclass(frozen=True)
class ValueType:
    """A scalar value type: ``Bool``, ``Int32``, ``Int64``, ``Float32``, ``Float64``, ..."""

    name: str

    def to_arrow(self) -> pa.DataType:
        """The Arrow type values of this type are stored as."""
        return _SCALAR_TO_ARROW[self.name]

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return self.name


@dataclass(frozen=True)
class ArrayType(ValueType):
    """A list of scalar values, written ``Array(Int64)``."""

    element: ValueType = None  # type: ignore[assignment]

    def to_arrow(self) -> pa.DataType:
        return pa.list_(self.element.to_arrow())

    def __str__(self) -> str:
        return f"Array({self.element})"

    __repr__ = __str__


Bool = ValueType("Bool")
Int32 = ValueType("Int32")
Int64 = ValueType("Int64")
Float32 = ValueType("Float32")
Float64 = ValueType("Float64")
String = ValueType("String")
Bytes = ValueType("Bytes")
UnixTimestamp = ValueType("UnixTimestamp")

_SCALAR_TO_ARROW: dict[str, pa.DataType] = {
    "Bool": pa.bool_(),
    "Int32": pa.int32(),
    "Int64": pa.int64(),
    "Float32": pa.float32(),
    "Float64": pa.float64(),
    "String": pa.string(),
    "Bytes": pa.binary(),
    "UnixTimestamp": pa.timestamp("us", tz="UTC"),
}
SCALARS: dict[str, ValueType] = {
    t.name: t for t in (Bool, Int32, Int64, Float32, Float64, String, Bytes, UnixTimestamp)
}


def Array(element: ValueType) -> ArrayType:
    """A list type of ``element``, which must be a scalar type."""
    if not isinstance(element, ValueType) or isinstance(element, ArrayType):
        msg = f"Array() takes a scalar type such as Int64, got {element!r}"
        raise DefinitionError(msg)
    return ArrayType(name="Array", element=element)


def parse(text: str) -> ValueType:
    """The type named by ``text`` (``"Int64"``, ``"Array(String)"``), as stored in the registry."""
    text = text.strip()
    if text in SCALARS:
        return SCALARS[text]
    if text.startswith("Array(") and text.endswith(")"):
        return Array(parse(text[len("Array(") : -1]))
    allowed = ", ".join([*SCALARS, "Array(<scalar>)"])
    msg = f"unknown value type {text!r}; allowed: {allowed}"
    raise DefinitionError(msg)


def from_arrow(arrow_type: pa.DataType) -> ValueType:
    """The value type that holds ``arrow_type`` without loss (large/string views map too)."""
    t = arrow_type
    if pa.types.is_boolean(t):
        return Bool
    if pa.types.is_integer(t):
        return Int64 if t.bit_width > 32 or t == pa.uint32() else Int32
    if pa.types.is_floating(t):
        return Float64 if t.bit_width > 32 else Float32
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return String
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_binary_view(t):
        return Bytes
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        return UnixTimestamp
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_list_view(t):
        return Array(from_arrow(t.value_type))
    msg = f"Arrow type {t} has no featurestore value type"
    raise DefinitionError(msg)


def is_compatible(declared: ValueType, actual: ValueType) -> bool:
    """Whether data of type ``actual`` can be read as ``declared`` without loss.

    Narrower integers and floats widen (Int32 data for an Int64 field), nothing narrows.
    """
    if declared == actual:
        return True
    if isinstance(declared, ArrayType) and isinstance(actual, ArrayType):
        return is_compatible(declared.element, actual.element)
    widening = {("Int64", "Int32"), ("Float64", "Float32")}
    return (declared.name, actual.name) in widening
