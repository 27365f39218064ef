"""featurestore.yaml: defaults, ${ENV_VAR} expansion, and a clear error per broken config."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from featurestore.errors import ConfigError
from featurestore.repo.config import RedisOnlineConfig, load_config, parse_config


def test_defaults_are_embedded_stores() -> None:
    config = parse_config({"project": "p"})
    assert config.registry == "data/registry"
    assert config.online_store.type == "sqlite"
    assert config.offline_store.type == "duckdb"


def test_env_vars_expand_anywhere_in_a_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_PASSWORD", "s3cret")
    monkeypatch.setenv("BUCKET", "features")
    config = parse_config(
        {
            "project": "p",
            "registry": "s3://${BUCKET}/registry",
            "online_store": {"type": "redis", "url": "redis://:${REDIS_PASSWORD}@host:6379/0"},
        }
    )
    assert config.registry == "s3://features/registry"
    assert isinstance(config.online_store, RedisOnlineConfig)
    assert config.online_store.url == "redis://:s3cret@host:6379/0"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"project": "p", "registy": "x"},
         "unknown key 'registy'; allowed here: project, registry, online_store, offline_store"),
        ({"project": "p", "online_store": {"type": "redis", "host": "h"}},
         "unknown key 'online_store.host'; allowed here: type, url, cluster, key_prefix, "
         "connect_timeout, timeout"),
        ({"project": "p", "online_store": {"path": "x", "url": "y"}},
         "unknown key 'online_store.url'; allowed here: type, path"),  # sqlite by default
        ({"project": "p", "offline_store": {"threds": 2}},
         "unknown key 'offline_store.threds'; allowed here: type, memory_limit, threads"),
        ({"project": "p", "online_store": {"type": "dynamo"}},
         "online_store.type must be 'sqlite' or 'redis'"),  # unknown store type
        ({"registry": "x"}, "'project' is required"),  # no project
        ({"project": "my-project"}, "project: String should match pattern"),  # bad name
        ({"project": "p", "offline_store": {"threads": "many"}},
         "offline_store.threads: Input should be a valid integer"),  # bad type
        ({"project": "p", "offline_store": {"threads": 0}},
         "offline_store.threads: Input should be greater than or equal to 1"),  # bad value
        ({"project": "p", "registry": {"path": "x"}},
         "'registry' is a path or fsspec URL string"),  # old-style nested registry
        ({"project": "p", "registry": "s3://${NOT_SET_ANYWHERE_42}/r"},
         "environment variable ${NOT_SET_ANYWHERE_42} is not set"),  # missing secret
        (["project", "p"], "expected a mapping with at least 'project', got list"),
    ],
)  # fmt: skip
def test_broken_config_names_the_key_and_what_is_allowed(raw: object, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(raw, source="repo/featurestore.yaml")
    assert str(info.value).startswith("repo/featurestore.yaml: ")
    assert message in str(info.value)


def test_missing_file_points_at_init(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"featurestore.yaml: not found.*featurestore init"):
        load_config(tmp_path)


def test_invalid_yaml_names_the_file(make_repo: Callable[..., Path]) -> None:
    repo = make_repo(config="project: [unclosed\n")
    with pytest.raises(ConfigError, match=r"featurestore.yaml: not valid YAML"):
        load_config(repo)
