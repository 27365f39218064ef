"""Two real processes applying to one registry at once: exactly one wins per parent, the
other gets the conflict error, and no successful apply is ever lost."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from featurestore.definitions.collection import Definitions
from featurestore.registry.store import RegistryStore

# A worker: wait for the start file, then apply `rounds` times, re-planning on conflict.
WORKER = textwrap.dedent(
    """
    import json, os, sys, time
    from featurestore import Entity
    from featurestore.definitions.collection import Definitions
    from featurestore.errors import RegistryConflictError
    from featurestore.registry.store import RegistryStore

    url, name, parent, rounds, go, lock_file = sys.argv[1:7]
    registry = RegistryStore(url)
    if lock_file == "1":
        registry._local = False  # take the object-store path: exclusive-create LOCK file
    while not os.path.exists(go):
        time.sleep(0.005)
    won, conflicts = [], 0
    for i in range(int(rounds)):
        while True:
            defs = Definitions.build("p", [Entity(name=f"{name}_{i}", join_keys=["k"])])
            try:
                won.append(registry.commit(defs, parent=parent, author=name))
                parent = won[-1]
                break
            except RegistryConflictError as exc:
                assert "registry changed since your plan" in str(exc)
                conflicts += 1
                if rounds == "1":
                    break
                parent = registry.head()  # plan again
    print(json.dumps({"won": won, "conflicts": conflicts}))
    """
)


def run_workers(url: str, parent: str, rounds: int, tmp: Path, lock_file: bool) -> list[dict]:
    go = tmp / f"go-{time.monotonic_ns()}"
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                WORKER,
                url,
                name,
                parent,
                str(rounds),
                str(go),
                "1" if lock_file else "0",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("alice", "bob")
    ]
    time.sleep(0.5)  # let both import; correctness does not depend on this
    go.touch()
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        results.append(json.loads(out))
    return results


@pytest.mark.slow
@pytest.mark.parametrize(
    "lock_file",
    [
        False,  # local disk: OS file lock + rename
        True,  # the object-store protocol: exclusive-create lock file, across processes
    ],
)
def test_two_processes_on_one_parent_exactly_one_wins(tmp_path: Path, lock_file: bool) -> None:
    registry = RegistryStore(str(tmp_path / "registry"))
    base = registry.commit(Definitions.build("p", []), parent=None, author="setup")
    results = run_workers(registry.url, base, 1, tmp_path, lock_file)
    winners = [v for r in results for v in r["won"]]
    assert len(winners) == 1
    assert sum(r["conflicts"] for r in results) == 1  # the loser was told
    assert registry.head() == winners[0]
    assert registry.read(winners[0]).parent == base


@pytest.mark.slow
def test_two_processes_replanning_never_lose_an_update(tmp_path: Path) -> None:
    registry = RegistryStore(str(tmp_path / "registry"))
    base = registry.commit(Definitions.build("p", []), parent=None, author="setup")
    results = run_workers(registry.url, base, 5, tmp_path, lock_file=False)
    applied = {v for r in results for v in r["won"]}
    assert len(applied) == 10
    chain = [s.version for s in registry.history()]
    assert set(chain) == applied | {base}  # every successful apply is on the one chain
    assert len(chain) == 11
    names = {e for s in registry.history() for e in s.definitions.entities}
    assert names == {f"{w}_{i}" for w in ("alice", "bob") for i in range(5)}
