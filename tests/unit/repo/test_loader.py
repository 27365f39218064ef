"""Loading a repo: every .py file except ignored ones; clear errors naming files and lines."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from featurestore import FeatureStore
from featurestore.errors import DefinitionError, RepoError

ENTITY = """
from featurestore import Entity
{name} = Entity(name="{name}", join_keys=["{name}_id"])
"""


def load(repo: Path) -> list[str]:
    return [d.name for d in FeatureStore(repo).load_repo().all()]


def test_every_python_file_is_loaded_including_subpackages(
    make_repo: Callable[..., Path],
) -> None:
    repo = make_repo(
        {
            "a.py": ENTITY.format(name="member"),
            "views/__init__.py": "",
            "views/b.py": ENTITY.format(name="title"),
        }
    )
    assert sorted(load(repo)) == ["member", "title"]


def test_ignore_file_patterns_and_data_dir_are_skipped(make_repo: Callable[..., Path]) -> None:
    repo = make_repo(
        {
            "a.py": ENTITY.format(name="member"),
            "scratch/b.py": "raise RuntimeError('must not be imported')",
            "notes_draft.py": "raise RuntimeError('must not be imported')",
            "data/gen.py": "raise RuntimeError('must not be imported')",
            ".featurestoreignore": "# comments are fine\nscratch/\n*_draft.py\n",
        }
    )
    assert load(repo) == ["member"]


def test_repo_files_may_import_each_other(make_repo: Callable[..., Path]) -> None:
    repo = make_repo(
        {
            "entities.py": ENTITY.format(name="member"),
            "views.py": """
                from datetime import timedelta
                from entities import member
                from featurestore import FeatureView, Field, ParquetSource
                from featurestore.types import Int64
                activity = FeatureView(name="activity", entities=[member],
                                       schema=[Field("plays", Int64)],
                                       source=ParquetSource(path="data/a.parquet"))
            """,
        }
    )
    assert sorted(load(repo)) == ["activity", "member"]


def test_two_objects_with_one_name_name_both_files(make_repo: Callable[..., Path]) -> None:
    repo = make_repo(
        {
            "a.py": ENTITY.format(name="member"),
            "b.py": "from featurestore import Entity\nm2 = Entity('member', join_keys=['x'])\n",
        }
    )
    with pytest.raises(DefinitionError) as info:
        load(repo)
    text = str(info.value)
    assert "two objects are named 'member'" in text
    assert "a.py:3" in text and "b.py:2" in text


@pytest.mark.parametrize(
    ("source", "where", "what"),
    [
        ("x = 1\ny = undefined_name\n", "broken.py:2", "NameError"),  # runtime error line
        ("def f(:\n", "broken.py:1", "SyntaxError"),  # syntax error line
        ("import no_such_module_xyz\n", "broken.py:1", "ModuleNotFoundError"),  # bad import
    ],
)
def test_import_error_names_file_and_line(
    make_repo: Callable[..., Path], source: str, where: str, what: str
) -> None:
    repo = make_repo({"broken.py": source})
    with pytest.raises(RepoError) as info:
        load(repo)
    assert str(info.value).startswith(f"{where}: importing the repo file failed: {what}")


def test_same_module_names_in_two_repos_load_their_own_files(
    make_repo: Callable[..., Path],
) -> None:
    one = make_repo({"features.py": ENTITY.format(name="member")}, name="one")
    two = make_repo({"features.py": ENTITY.format(name="title")}, name="two")
    assert load(one) == ["member"]
    assert load(two) == ["title"]
    assert load(one) == ["member"]  # not repo two's features.py, found earlier on sys.path
