"""The versioned registry: content-addressed versions, the HEAD pointer, cache, history,
prefixes, rollback, and the compare-and-swap that makes concurrent applies safe."""

from __future__ import annotations

import hashlib
import subprocess
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path

import fsspec
import pytest

from featurestore import Entity
from featurestore.definitions.collection import Definitions
from featurestore.errors import NotFoundError, RegistryConflictError, RegistryError
from featurestore.registry import _lock
from featurestore.registry.store import RegistryStore, default_author, short


def defs(*entity_names: str, project: str = "p") -> Definitions:
    return Definitions.build(project, [Entity(name=n, join_keys=[f"{n}_id"]) for n in entity_names])


@pytest.fixture(params=["local", "memory"])
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> RegistryStore:
    if request.param == "local":
        return RegistryStore(str(tmp_path / "registry"))
    return RegistryStore(f"memory://reg-{uuid.uuid4().hex}")


def test_empty_registry_has_no_head_and_no_history(registry: RegistryStore) -> None:
    assert registry.head() is None
    assert registry.history() == []
    assert registry.versions() == []
    with pytest.raises(NotFoundError, match="is empty; run `featurestore apply` first"):
        registry.read("HEAD")


def test_commit_writes_a_content_addressed_version_and_moves_head(
    registry: RegistryStore,
) -> None:
    v1 = registry.commit(defs("member"), parent=None, author="ana@x", message="first")
    fs, root = fsspec.core.url_to_fs(registry.url)
    data = fs.cat_file(f"{root}/versions/{v1}.pb")
    assert hashlib.sha256(data).hexdigest() == v1
    assert fs.cat_file(f"{root}/HEAD").decode().strip() == v1
    assert registry.head() == v1
    snap = registry.read(v1)
    assert snap.version == v1 and snap.parent is None
    assert snap.author == "ana@x" and snap.message == "first"
    assert snap.rolled_back_from is None
    assert snap.created_at.tzinfo is not None
    assert abs((datetime.now(UTC) - snap.created_at).total_seconds()) < 600
    assert snap.definitions == defs("member")


def test_versions_are_never_rewritten(registry: RegistryStore) -> None:
    v1 = registry.commit(defs("member"), parent=None, author="a")
    fs, root = fsspec.core.url_to_fs(registry.url)
    before = fs.cat_file(f"{root}/versions/{v1}.pb")
    v2 = registry.commit(defs("member", "title"), parent=v1, author="a")
    assert v2 != v1
    assert fs.cat_file(f"{root}/versions/{v1}.pb") == before
    assert registry.read(v2).parent == v1
    assert sorted(registry.versions()) == sorted([v1, v2])


def test_history_is_newest_first_following_parents(registry: RegistryStore) -> None:
    v1 = registry.commit(defs("a"), parent=None, author="x", message="one")
    v2 = registry.commit(defs("a", "b"), parent=v1, author="x", message="two")
    v3 = registry.commit(defs("b"), parent=v2, author="x", message="three")
    assert [s.version for s in registry.history()] == [v3, v2, v1]
    assert [s.message for s in registry.history(limit=2)] == ["three", "two"]


def test_stale_parent_is_a_conflict_and_changes_nothing(registry: RegistryStore) -> None:
    v1 = registry.commit(defs("a"), parent=None, author="x")
    v2 = registry.commit(defs("a", "b"), parent=v1, author="x")
    with pytest.raises(RegistryConflictError) as info:
        registry.commit(defs("c"), parent=v1, author="y")
    assert str(info.value) == (
        f"registry changed since your plan (now at {short(v2)}, plan was made at "
        f"{short(v1)}); run plan again"
    )
    assert registry.head() == v2
    # a first apply racing another first apply: parent None but HEAD exists
    with pytest.raises(RegistryConflictError, match="plan was made at -"):
        registry.commit(defs("c"), parent=None, author="y")


def test_read_is_cached_because_versions_are_immutable(tmp_path: Path) -> None:
    registry = RegistryStore(str(tmp_path / "reg"))
    v1 = registry.commit(defs("a"), parent=None, author="x")
    first = registry.read(v1)
    (tmp_path / "reg" / "versions" / f"{v1}.pb").unlink()
    assert registry.read(v1) is first  # served from the cache, file not read again
    with pytest.raises(NotFoundError, match=f"version {short(v1)} not found"):
        RegistryStore(str(tmp_path / "reg")).read(v1)


def test_head_sees_another_writer_by_reading_the_pointer(registry: RegistryStore) -> None:
    other = RegistryStore(registry.url)
    v1 = registry.commit(defs("a"), parent=None, author="x")
    assert other.head() == v1
    v2 = other.commit(defs("b"), parent=v1, author="y")
    assert registry.head() == v2
    assert registry.read(registry.head() or "").definitions == defs("b")


def test_corrupt_version_file_is_detected(tmp_path: Path) -> None:
    registry = RegistryStore(str(tmp_path / "reg"))
    v1 = registry.commit(defs("a"), parent=None, author="x")
    (tmp_path / "reg" / "versions" / f"{v1}.pb").write_bytes(b"garbage")
    with pytest.raises(RegistryError, match="is corrupt"):
        RegistryStore(str(tmp_path / "reg")).read(v1)


def test_resolve_accepts_unique_prefixes_full_ids_and_head_relative(
    registry: RegistryStore,
) -> None:
    v1 = registry.commit(defs("a"), parent=None, author="x")
    v2 = registry.commit(defs("b"), parent=v1, author="x")
    assert registry.resolve(v1[:4]) == v1  # shortest accepted prefix
    assert registry.resolve(v1[:12].upper()) == v1  # ids are case-insensitive hex
    assert registry.resolve(v2) == v2
    assert registry.resolve("HEAD") == v2
    assert registry.resolve("head~1") == v1
    assert registry.read(v1[:8]).version == v1
    with pytest.raises(NotFoundError, match="has no such version"):
        registry.resolve("HEAD~2")  # past the first version


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("abc", "prefix of at least 4 hex"),  # too short to be unambiguous in practice
        ("zzzz1234", "is not a registry version"),  # not hex
        ("ffffffff", "no registry version starts with 'ffffffff'"),  # unknown
    ],
)
def test_resolve_rejects_bad_references(registry: RegistryStore, ref: str, message: str) -> None:
    registry.commit(defs("a"), parent=None, author="x")
    with pytest.raises(NotFoundError, match=message):
        registry.resolve(ref)


def test_ambiguous_prefix_names_the_candidates(tmp_path: Path) -> None:
    registry = RegistryStore(str(tmp_path / "reg"))
    registry.commit(defs("a"), parent=None, author="x")
    versions = tmp_path / "reg" / "versions"
    (versions / ("abcd1" + "0" * 59 + ".pb")).write_bytes(b"")
    (versions / ("abcd2" + "0" * 59 + ".pb")).write_bytes(b"")
    with pytest.raises(NotFoundError, match=r"'abcd' is ambiguous \(abcd10000000, abcd20000000\)"):
        registry.resolve("abcd")


def test_rollback_writes_a_new_version_with_the_old_content(registry: RegistryStore) -> None:
    v1 = registry.commit(defs("a"), parent=None, author="x", message="one")
    v2 = registry.commit(defs("a", "b"), parent=v1, author="x", message="two")
    v3 = registry.rollback(v1[:6], author="ops@x")
    snap = registry.read(v3)
    assert v3 not in {v1, v2}
    assert registry.head() == v3
    assert snap.parent == v2 and snap.rolled_back_from == v1
    assert snap.definitions == registry.read(v1).definitions
    assert snap.message == f"roll back to {short(v1)}" and snap.author == "ops@x"
    with pytest.raises(RegistryError, match="already has the content"):
        registry.rollback(v1, author="x")  # nothing to do: head already equals v1


def test_state_url_is_under_the_registry(registry: RegistryStore) -> None:
    assert registry.state_url("watermarks") == f"{registry.url}/state/watermarks"


def test_memory_registry_threads_race_on_one_parent_exactly_one_wins() -> None:
    registry = RegistryStore(f"memory://race-{uuid.uuid4().hex}")
    base = registry.commit(defs("base"), parent=None, author="x")
    results: list[str] = []
    start = threading.Barrier(6)

    def apply(i: int) -> None:
        start.wait()
        try:
            results.append(registry.commit(defs(f"e{i}"), parent=base, author=str(i)))
        except RegistryConflictError:
            results.append("conflict")

    threads = [threading.Thread(target=apply, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [r for r in results if r != "conflict"]
    assert len(winners) == 1 and results.count("conflict") == 5
    assert registry.head() == winners[0]
    assert registry.read(winners[0]).parent == base


def test_lock_file_on_object_stores_breaks_stale_locks_and_times_out_on_live_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    registry = RegistryStore(f"memory://lock-{uuid.uuid4().hex}")
    fs, root = fsspec.core.url_to_fs(registry.url)
    fs.pipe_file(f"{root}/LOCK", b"crashed-host:1:1000.0")  # written in 1970: stale
    v1 = registry.commit(defs("a"), parent=None, author="x")
    assert registry.head() == v1 and not fs.exists(f"{root}/LOCK")
    fs.pipe_file(f"{root}/LOCK", f"live-host:1:{datetime.now(UTC).timestamp()}".encode())
    monkeypatch.setattr(_lock, "TIMEOUT", 0.3)
    with pytest.raises(RegistryError, match="held the lock"):
        registry.commit(defs("b"), parent=v1, author="x")
    assert registry.head() == v1


def test_default_author_prefers_env_then_git_then_os_user(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain, repo = tmp_path / "plain", tmp_path / "repo"
    plain.mkdir()
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.gitconfig
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    monkeypatch.setenv("USER", "os-user")
    monkeypatch.setenv("LOGNAME", "os-user")
    monkeypatch.delenv("FEATURESTORE_AUTHOR", raising=False)
    assert default_author(plain) == "os-user"  # no git email: the OS user
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(["git", "-C", str(repo), "config", "user.email", "git@x"], check=True)
    assert default_author(repo) == "git@x"  # the repo's git email
    monkeypatch.setenv("FEATURESTORE_AUTHOR", "env@x")
    assert default_author(repo) == "env@x"  # the variable wins over git
