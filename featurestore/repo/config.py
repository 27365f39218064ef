"""``featurestore.yaml``: the project name and where the registry and stores live.

``${ENV_VAR}`` anywhere in a value is replaced by that variable, so secrets stay out of the
repo. Unknown keys are errors that name the key and the allowed ones.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from featurestore.errors import ConfigError

CONFIG_FILE = "featurestore.yaml"
_ENV_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SqliteOnlineConfig(_Strict):
    """The embedded online store: one SQLite file (WAL) under the repo."""

    type: Literal["sqlite"] = "sqlite"
    path: str = "data/online.db"


class RedisOnlineConfig(_Strict):
    """Redis or Redis Cluster; password and TLS may come from the URL (``rediss://``)."""

    type: Literal["redis"]
    url: str = "redis://127.0.0.1:6379/0"
    cluster: bool = False
    key_prefix: str = "fs"
    # Seconds to wait for a connection, and for any one reply: a hung server turns into
    # an OnlineStoreUnavailableError instead of holding the caller.
    connect_timeout: float = Field(default=5.0, gt=0)
    timeout: float = Field(default=30.0, gt=0)


OnlineConfig = Annotated[SqliteOnlineConfig | RedisOnlineConfig, Field(discriminator="type")]


class OfflineConfig(_Strict):
    """DuckDB settings for training frames and materialization."""

    type: Literal["duckdb"] = "duckdb"
    memory_limit: str | None = None
    threads: int | None = Field(default=None, ge=1)
    temp_directory: str | None = None


class RepoConfig(_Strict):
    """The whole of ``featurestore.yaml``."""

    project: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    registry: str = "data/registry"
    online_store: OnlineConfig = Field(default_factory=SqliteOnlineConfig)
    offline_store: OfflineConfig = Field(default_factory=OfflineConfig)


def load_config(repo_path: str | Path) -> RepoConfig:
    """Read and validate ``featurestore.yaml`` at the root of ``repo_path``."""
    path = Path(repo_path) / CONFIG_FILE
    if not path.is_file():
        msg = (
            f"{path}: not found; a feature repo has a {CONFIG_FILE} at its root "
            "(see `featurestore init`)"
        )
        raise ConfigError(msg)
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        msg = f"{path}: not valid YAML: {exc}"
        raise ConfigError(msg) from None
    return parse_config(raw, source=str(path))


def parse_config(raw: Any, source: str = CONFIG_FILE) -> RepoConfig:
    """Validate a parsed YAML document, expanding ``${ENV_VAR}`` in strings."""
    if not isinstance(raw, dict):
        msg = f"{source}: expected a mapping with at least 'project', got {type(raw).__name__}"
        raise ConfigError(msg)
    expanded = _expand(raw, source)
    if isinstance(expanded.get("registry"), dict):
        msg = f"{source}: 'registry' is a path or fsspec URL string, e.g. 'data/registry'"
        raise ConfigError(msg)
    online = expanded.get("online_store")
    if isinstance(online, dict) and "type" not in online:  # sqlite is the default type
        expanded["online_store"] = {"type": "sqlite", **online}
    try:
        return RepoConfig.model_validate(expanded)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source)) from None


def _expand(value: Any, source: str) -> Any:
    if isinstance(value, str):

        def sub(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in os.environ:
                msg = f"{source}: environment variable ${{{name}}} is not set"
                raise ConfigError(msg)
            return os.environ[name]

        return _ENV_VAR.sub(sub, value)
    if isinstance(value, dict):
        return {k: _expand(v, source) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, source) for v in value]
    return value


def _describe(exc: ValidationError, source: str) -> str:
    """One line per problem, naming the key and what is allowed."""
    lines = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"] if not str(p).startswith(("sqlite", "redis"))]
        key = ".".join(loc) or "(top level)"
        if err["type"] == "extra_forbidden":
            parent = _model_at(loc[:-1], err["loc"])
            allowed = ", ".join(parent.model_fields) if parent else "?"
            lines.append(f"{source}: unknown key {key!r}; allowed here: {allowed}")
        elif err["type"] == "union_tag_invalid":
            lines.append(f"{source}: {key}.type must be 'sqlite' or 'redis'")
        elif err["type"] == "missing":
            lines.append(f"{source}: {key!r} is required")
        else:
            lines.append(f"{source}: {key}: {err['msg']} (got {err.get('input')!r})")
    return "\n".join(lines)


def _model_at(path: list[str], full_loc: tuple[Any, ...]) -> type[BaseModel] | None:
    if not path:
        return RepoConfig
    if path[0] == "offline_store":
        return OfflineConfig
    if path[0] == "online_store":
        return RedisOnlineConfig if "redis" in full_loc else SqliteOnlineConfig
    return None
