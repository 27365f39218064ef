"""Load a feature repo: import every ``.py`` file and collect the definitions in it."""

from __future__ import annotations

import fnmatch
import importlib
import sys
import traceback
from pathlib import Path

from featurestore.definitions.collection import KINDS, Definition, Definitions
from featurestore.errors import DefinitionError, RepoError
from featurestore.repo.config import RepoConfig

IGNORE_FILE = ".featurestoreignore"
ALWAYS_IGNORED = ("data/*", ".*", "*/.*", "__pycache__/*", "*/__pycache__/*", "venv/*", ".venv/*")


def repo_python_files(repo: Path) -> list[Path]:
    """Every ``.py`` file under ``repo`` not matched by ``.featurestoreignore`` patterns."""
    patterns = list(ALWAYS_IGNORED)
    ignore = repo / IGNORE_FILE
    if ignore.is_file():
        for line in ignore.read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                patterns.append(line.rstrip("/") + ("/*" if line.endswith("/") else ""))
    files = []
    for path in sorted(repo.rglob("*.py")):
        rel = path.relative_to(repo).as_posix()
        if not any(fnmatch.fnmatch(rel, p) or fnmatch.fnmatch(rel, p + "/*") for p in patterns):
            files.append(path)
    return files


def module_name(repo: Path, path: Path) -> str:
    rel = path.relative_to(repo).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def load_definitions(repo_path: str | Path, config: RepoConfig) -> Definitions:
    """Import the repo's modules and build its ``Definitions``.

    The repo root goes on ``sys.path`` so on-demand transformations can be imported later by
    their ``module:function`` path.
    """
    repo = Path(repo_path).resolve()
    root = str(repo)
    if root in sys.path:  # first, so this repo's modules win over another repo's namesakes
        sys.path.remove(root)
    sys.path.insert(0, root)
    files = repo_python_files(repo)
    for path in files:  # forget an earlier load: each file runs once per load
        sys.modules.pop(module_name(repo, path), None)
    found: dict[str, tuple[Definition, str]] = {}
    for path in files:
        name = module_name(repo, path)
        if not name:
            continue
        module = _import(name, path, repo)
        for obj in vars(module).values():
            if type(obj) not in KINDS:
                continue
            where = obj.location or path.relative_to(repo).as_posix()
            if obj.name in found and found[obj.name][0] is not obj:
                first_obj, first_where = found[obj.name]
                msg = (
                    f"two objects are named {obj.name!r}: a {KINDS[type(first_obj)]} at "
                    f"{first_where} and a {KINDS[type(obj)]} at {where}; rename one of them"
                )
                raise DefinitionError(msg)
            found[obj.name] = (obj, where)
    return Definitions.build(config.project, [obj for obj, _ in found.values()])


def _import(name: str, path: Path, repo: Path) -> object:
    if name in sys.modules:
        existing = getattr(sys.modules[name], "__file__", None)
        if existing and Path(existing).resolve() == path.resolve():
            return sys.modules[name]  # already imported by another repo file in this load
        del sys.modules[name]
    try:
        return importlib.import_module(name)
    except (DefinitionError, RepoError):
        raise
    except Exception as exc:
        rel = path.relative_to(repo).as_posix()
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(path)]
        line = f":{frames[-1].lineno}" if frames else ""
        if isinstance(exc, SyntaxError) and exc.lineno:
            line = f":{exc.lineno}"
        msg = f"{rel}{line}: importing the repo file failed: {type(exc).__name__}: {exc}"
        raise RepoError(msg) from exc
