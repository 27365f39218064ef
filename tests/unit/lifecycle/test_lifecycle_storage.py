"""Record storage next to the registry: content-addressed objects and named pointers."""

from __future__ import annotations

import pytest
from lifecycle_support import Repo

from featurestore._proto import lifecycle_pb2 as pb
from featurestore.errors import NotFoundError, RegistryConflictError, RegistryError, RequestError
from featurestore.lifecycle._storage import RecordStore, check_name


def test_put_is_content_addressed_and_idempotent(repo: Repo) -> None:
    records = RecordStore(repo.store, "models")
    a = records.put(pb.Model(name="churn", version="1"))
    again = records.put(pb.Model(name="churn", version="1"))
    other = records.put(pb.Model(name="churn", version="2"))
    assert a == again != other
    assert records.get(a, pb.Model).version == "1"
    assert (repo.path / "data" / "registry" / "state" / "models" / "objects" / f"{a}.pb").is_file()


def test_get_detects_a_corrupt_object(repo: Repo) -> None:
    records = RecordStore(repo.store, "models")
    record_id = records.put(pb.Model(name="churn", version="1"))
    path = repo.path / "data" / "registry" / "state" / "models" / "objects" / f"{record_id}.pb"
    path.write_bytes(pb.Model(name="churn", version="666").SerializeToString())
    with pytest.raises(RegistryError, match="corrupt"):
        records.get(record_id, pb.Model)


def test_missing_object_is_not_found(repo: Repo) -> None:
    with pytest.raises(NotFoundError, match="not found"):
        RecordStore(repo.store, "models").get("0" * 64, pb.Model)


def test_refs_are_listed_recursively_and_by_prefix(repo: Repo) -> None:
    records = RecordStore(repo.store, "models")
    assert records.refs() == {}
    records.set_ref("churn/1", "a" * 64)
    records.set_ref("churn/2", "b" * 64)
    records.set_ref("rank/1", "c" * 64)
    assert records.refs() == {"churn/1": "a" * 64, "churn/2": "b" * 64, "rank/1": "c" * 64}
    assert records.refs("churn/") == {"churn/1": "a" * 64, "churn/2": "b" * 64}
    assert records.ref("nope") is None


def test_swap_refuses_when_the_pointer_moved(repo: Repo) -> None:
    records = RecordStore(repo.store, "deployments")
    records.swap("churn", "a" * 64, expected=None)
    with pytest.raises(RegistryConflictError, match="changed while we worked"):
        records.swap("churn", "b" * 64, expected=None)
    records.swap("churn", "b" * 64, expected="a" * 64)
    assert records.ref("churn") == "b" * 64


@pytest.mark.parametrize(
    "name",
    [
        "",  # empty
        "../escape",  # path traversal
        "a/b",  # a slash would nest pointers
        ".hidden",  # leading dot
        "-flag",  # leading dash looks like an option
        "x" * 129,  # longer than 128
        "sp ace",  # whitespace
    ],
)
def test_bad_names_are_refused(name: str) -> None:
    with pytest.raises(RequestError, match="not allowed"):
        check_name("model", name)


@pytest.mark.parametrize(
    "name",
    [
        "churn",  # plain
        "1",  # a number as a version
        "v1.2-rc_3",  # dots, dashes and underscores inside
        "x" * 128,  # the longest allowed
    ],
)
def test_good_names_pass(name: str) -> None:
    assert check_name("model", name) == name


def test_racing_swaps_have_exactly_one_winner(repo: Repo) -> None:
    from concurrent.futures import ThreadPoolExecutor

    records = RecordStore(repo.store, "deployments")

    def attempt(i: int) -> bool:
        try:
            records.swap("churn", f"{i:064x}", expected=None)
        except RegistryConflictError:
            return False
        return True

    with ThreadPoolExecutor(max_workers=8) as pool:
        wins = list(pool.map(attempt, range(16)))
    assert sum(wins) == 1
    assert records.ref("churn") == f"{wins.index(True):064x}"
