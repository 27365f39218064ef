"""What every definition shares: where it was written, validation helpers, tags."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from typing import Any

from featurestore._frozen import FrozenDict
from featurestore.errors import DefinitionError

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def caller_location() -> str:
    """``file:line`` of the user code that is constructing a definition, or ``""``."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = os.path.abspath(frame.f_code.co_filename)
        is_ours = filename.startswith(_PACKAGE_DIR + os.sep)
        is_dataclass_init = frame.f_code.co_filename.startswith("<")
        if not is_ours and not is_dataclass_init:
            return f"{_short_path(filename)}:{frame.f_lineno}"
        frame = frame.f_back  # type: ignore[assignment]
    return ""


def _short_path(path: str) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:  # a different drive on Windows
        return path
    return path if rel.startswith(".." + os.sep + "..") else rel


def definition_error(
    kind: str, name: str, field: str, problem: str, location: str = ""
) -> DefinitionError:
    """A ``DefinitionError`` reading ``file:line: Kind 'name', field 'f': problem``."""
    where = f"{location}: " if location else ""
    return DefinitionError(f"{where}{kind} {name!r}, field {field!r}: {problem}")


def check_name(kind: str, name: Any, location: str, field: str = "name") -> None:
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        problem = (
            f"got {name!r}; a name is a non-empty string of letters, digits and underscores "
            "that does not start with a digit"
        )
        raise definition_error(kind, str(name), field, problem, location)


def freeze_tags(kind: str, name: str, tags: Mapping[str, str] | None, location: str) -> FrozenDict:
    """Tags as an immutable mapping of strings to strings."""
    if tags is None:
        return FrozenDict()
    if not isinstance(tags, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in tags.items()
    ):
        problem = f"got {tags!r}; tags are a dict of strings to strings"
        raise definition_error(kind, name, "tags", problem, location)
    return FrozenDict(tags)


def check_text(kind: str, name: str, field: str, value: Any, location: str) -> None:
    if not isinstance(value, str):
        problem = f"got {value!r}; expected a string"
        raise definition_error(kind, name, field, problem, location)
