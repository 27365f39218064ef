"""The repo and registry commands as a user runs them: init, plan, apply, list, describe,
registry history/show/diff/rollback, exit codes and one-line errors."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from featurestore.cli import main
from featurestore.errors import SourceDataError
from featurestore.registry.store import RegistryStore

ANSI = re.compile(r"\x1b\[")


def run(*args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == code, result.output + (result.stderr or "")
    return result


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FEATURESTORE_AUTHOR", "ana@example.com")
    path = tmp_path / "shop"
    run("init", str(path))
    return path


def versions(repo: Path) -> list[str]:
    return [s.version for s in RegistryStore(str(repo / "data" / "registry")).history()]


def test_init_makes_a_repo_that_plans_and_applies(repo: Path) -> None:
    assert (repo / "featurestore.yaml").read_text().startswith("# The feature repo's settings.")
    assert (repo / "data" / "customer_orders.parquet").is_file()
    plan = run("-C", str(repo), "plan", "--exit-code", code=2)
    assert "+ feature view customer_orders" in plan.output
    assert "Plan: 6 to add, 0 to change, 0 to remove (0 breaking)." in plan.output
    applied = run("-C", str(repo), "apply", "-m", "first features")
    assert re.search(r"Applied version [0-9a-f]{12} \(parent -\)", applied.output)
    assert len(versions(repo)) == 1
    assert "No changes" in run("-C", str(repo), "plan", "--exit-code").output
    again = run("-C", str(repo), "apply")
    assert "Nothing to apply; no new version written." in again.output
    assert len(versions(repo)) == 1


def test_init_refuses_an_existing_repo(repo: Path) -> None:
    result = run("init", str(repo), code=1)
    assert "featurestore.yaml already exists" in result.stderr


def test_init_never_overwrites_a_users_file(tmp_path: Path) -> None:
    (tmp_path / "features.py").write_text("# mine\n")
    result = run("init", str(tmp_path), code=1)
    assert "features.py already exists" in result.stderr and "never overwrites" in result.stderr
    assert (tmp_path / "features.py").read_text() == "# mine\n"
    assert not (tmp_path / "featurestore.yaml").exists()


def test_list_and_describe_show_the_applied_definitions(repo: Path) -> None:
    run("-C", str(repo), "apply")
    entities = run("-C", str(repo), "list", "entities").output
    assert "customer_id (Int64)" in entities and "product_id (Int64)" in entities
    views = run("-C", str(repo), "list", "feature-views").output
    assert "data/product_popularity.parquet" in views and "@hourly" in views
    odfvs = run("-C", str(repo), "list", "on-demand-feature-views").output
    assert "features:cart_vs_spend" in odfvs and "request:cart" in odfvs
    services = run("-C", str(repo), "list", "feature-services").output
    assert "product_popularity: rating" in services
    described = run("-C", str(repo), "describe", "customer_orders").output
    assert "feature view customer_orders" in described
    assert "7d" in described and "data fingerprint" in described
    missing = run("-C", str(repo), "describe", "nope", code=1)
    assert "no entity, view or service named 'nope'" in missing.stderr


def test_list_before_any_apply_says_what_to_do(repo: Path) -> None:
    result = run("-C", str(repo), "list", "entities", code=1)
    assert "run `featurestore apply`" in result.stderr


def test_a_change_is_planned_field_by_field_then_diffed_and_rolled_back(repo: Path) -> None:
    run("-C", str(repo), "apply", "-m", "first")
    features = repo / "features.py"
    features.write_text(
        features.read_text()
        .replace("ttl=timedelta(days=7)", "ttl=timedelta(days=14)")
        .replace('owner="growth-team"', 'owner="growth"')
    )
    plan = run("-C", str(repo), "plan", "--exit-code", code=2).output
    assert "~ feature view customer_orders  (breaking)" in plan
    assert "~ ttl: 7d -> 14d  (breaking)" in plan
    assert "~ owner: growth-team -> growth  (metadata)" in plan
    run("-C", str(repo), "apply", "-m", "longer ttl")
    first, second = versions(repo)[1], versions(repo)[0]

    history = run("-C", str(repo), "registry", "history").output
    assert f"{second[:12]} (HEAD)" in history and first[:12] in history
    assert "longer ttl" in history and "ana@example.com" in history

    shown = run("-C", str(repo), "registry", "show", first[:8]).output
    assert f"version   {first}" in shown and "message   first" in shown

    diff = run("-C", str(repo), "registry", "diff", first[:8], second[:8]).output
    assert "~ ttl: 7d -> 14d  (breaking)" in diff
    assert "No differences." in run("-C", str(repo), "registry", "diff", "HEAD", "HEAD").output

    rolled = run("-C", str(repo), "registry", "rollback", first[:8], "-m", "too long").output
    assert f"restores {first[:12]}" in rolled
    head = RegistryStore(str(repo / "data" / "registry")).read("HEAD")
    assert head.rolled_back_from == first and head.parent == second
    assert head.message == "too long"
    assert f"too long (restores {first[:12]})" in run("-C", str(repo), "registry", "history").output
    # the repo still says 14 days, so plan now shows the change again
    assert "~ ttl: 7d -> 14d" in run("-C", str(repo), "plan", "--exit-code", code=2).output


def test_bad_version_prefix_is_one_clear_line(repo: Path) -> None:
    run("-C", str(repo), "apply")
    result = run("-C", str(repo), "registry", "show", "ffffffff", code=1)
    assert (
        result.stderr.strip()
        == f"error: no registry version starts with 'ffffffff' in {repo / 'data' / 'registry'}"
    )


def test_data_mismatch_fails_plan_naming_view_column_and_file(repo: Path) -> None:
    features = repo / "features.py"
    features.write_text(
        features.read_text().replace('Field("rating", Float32)', 'Field("rating", Int64)')
    )
    result = run("-C", str(repo), "plan", code=1)
    assert "error: 1 problem(s) between the definitions and their data" in result.stderr
    assert "feature view 'product_popularity', feature 'rating', in " in result.stderr
    assert "data/product_popularity.parquet: has type Float32" in result.stderr
    assert "Traceback" not in result.stderr
    assert "+ feature view" in run("-C", str(repo), "plan", "--no-check-data").output


def test_debug_shows_the_traceback_instead(repo: Path) -> None:
    features = repo / "features.py"
    features.write_text(
        features.read_text().replace('Field("rating", Float32)', 'Field("rating", Int64)')
    )
    with pytest.raises(SourceDataError):
        CliRunner().invoke(main, ["--debug", "-C", str(repo), "plan"], catch_exceptions=False)


def test_not_a_repo_is_one_line(tmp_path: Path) -> None:
    result = run("-C", str(tmp_path), "plan", code=1)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "featurestore init" in lines[0]


@pytest.mark.slow
def test_console_script_in_a_real_process(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "featurestore"
    env = {**os.environ, "FEATURESTORE_AUTHOR": "ci@example.com"}

    def sh(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(exe), *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
        )

    assert sh("init", "repo").returncode == 0
    plan = sh("-C", "repo", "plan", "--exit-code")
    assert plan.returncode == 2, plan.stderr
    assert not ANSI.search(plan.stdout)  # not a terminal: plain text for CI logs
    assert "+ entity customer" in plan.stdout
    applied = sh("-C", "repo", "apply", "-m", "from CI")
    assert applied.returncode == 0, applied.stderr
    assert sh("-C", "repo", "plan", "--exit-code").returncode == 0
    history = sh("-C", "repo", "registry", "history")
    assert "from CI" in history.stdout and "ci@example.com" in history.stdout
    broken = sh("-C", "missing", "plan")
    assert broken.returncode == 1
    assert broken.stderr.startswith("error: ") and "Traceback" not in broken.stderr
