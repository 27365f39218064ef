"""The README demo (``scripts/demo.sh``) runs end to end as a user would, and reruns."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run_demo(repo: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DEMO_REPO": str(repo),
        "DEMO_ROWS": "2000",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    return subprocess.run(
        ["bash", str(ROOT / "scripts" / "demo.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.mark.slow
def test_demo_runs_and_reruns(tmp_path: Path) -> None:
    repo = tmp_path / "feature_repo"
    shutil.copytree(
        ROOT / "feature_repo", repo, ignore=shutil.ignore_patterns("data", "__pycache__")
    )

    first = _run_demo(repo)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Applied version" in first.stdout
    for view in ("member_viewing_activity", "title_popularity", "member_title_engagement"):
        assert view in first.stdout
    assert "demo: streaming features" in first.stdout  # the history shows the apply message
    assert (repo / "data" / "registry").exists()

    again = _run_demo(repo)  # rerunnable: nothing changed, so no new version
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Applied version" not in again.stdout
    assert "No changes" in again.stdout
    # issue 7: a model trained, registered, deployed and served on each run
    assert "Deployed model churn version 1" in first.stdout
    assert "churn probability" in first.stdout
    assert "Deployed model churn version 2" in again.stdout


@pytest.mark.slow
def test_demo_fails_loudly(tmp_path: Path) -> None:
    repo = tmp_path / "feature_repo"
    shutil.copytree(
        ROOT / "feature_repo", repo, ignore=shutil.ignore_patterns("data", "__pycache__")
    )
    views = repo / "views.py"
    views.write_text(views.read_text().replace('"plays_7d", Int64', '"plays_7d", String', 1))

    result = _run_demo(repo)  # plan finds String declared where the data has int64
    assert result.returncode != 0
    assert "plays_7d" in result.stderr
    assert "Apply the definitions" not in result.stdout  # stopped at the failing step
