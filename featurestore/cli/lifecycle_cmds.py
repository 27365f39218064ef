"""Lifecycle commands: ``datasets``, ``models``, ``deploy``, ``undeploy`` and ``deployments``."""

from __future__ import annotations

import sys

import click
from rich.markup import escape
from rich.table import Table

from featurestore.cli import main
from featurestore.cli._context import CliContext, console, err_console
from featurestore.errors import DeployRefusedError
from featurestore.lifecycle import (
    Deployment,
    DeployReport,
    create_training_dataset,
    current_deployment,
    deploy_model,
    deployment_history,
    get_model,
    get_training_dataset,
    list_deployments,
    list_models,
    list_training_datasets,
    rollback_deployment,
    undeploy_model,
    verify_training_dataset,
)
from featurestore.lifecycle.deploy import DEFAULT_MAX_MISMATCH_RATE, DEFAULT_SKEW_SAMPLE
from featurestore.registry.store import short

_FILES_SHOWN = 5
_SQL_STARTS = ("select", "with", "from", "values", "table", "(")


def _when(moment: object) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S}"


# --- datasets -----------------------------------------------------------------------------


@main.group()
def datasets() -> None:
    """Training datasets recorded in the registry, with their lineage."""


@datasets.command("create")
@click.argument("name")
@click.option(
    "--entities",
    required=True,
    help="Entity rows: a Parquet file, directory or URL (relative to the repo), or a SQL query.",
)
@click.option(
    "--features", "features", multiple=True, help="view:feature (repeat, or comma-separate)."
)
@click.option("--service", help="A feature service instead of --features.")
@click.option("--location", help="Where to write the frame (default data/datasets/NAME).")
@click.option("--description", default="", help="What this dataset is for.")
@click.option("--full-feature-names", is_flag=True, help="Name columns view__feature.")
@click.option("--overwrite", is_flag=True, help="Point NAME at the new dataset if it exists.")
@click.pass_obj
def datasets_create(
    obj: CliContext,
    name: str,
    entities: str,
    features: tuple[str, ...],
    service: str | None,
    location: str | None,
    description: str,
    full_feature_names: bool,
    overwrite: bool,
) -> None:
    """Make a training dataset NAME and record its lineage."""
    refs = [r.strip() for item in features for r in item.split(",") if r.strip()]
    if bool(refs) == bool(service):
        raise click.UsageError("give either --features view:feature ... or --service NAME")
    store = obj.store
    is_sql = entities.lstrip().lower().startswith(_SQL_STARTS)
    d = create_training_dataset(
        store,
        name,
        entities if is_sql else store.resolve_path(entities),
        service or refs,
        location=location,
        description=description,
        full_feature_names=full_feature_names,
        overwrite=overwrite,
    )
    console.print(
        f"[green]Created[/] training dataset [bold]{escape(d.name)}[/]: {d.row_count} rows, "
        f"{len(d.feature_refs)} features, registry {short(d.registry_version)}, "
        f"stored at {escape(d.uri)}",
        soft_wrap=True,
    )


@datasets.command("list")
@click.pass_obj
def datasets_list(obj: CliContext) -> None:
    """List the training datasets."""
    found = list_training_datasets(obj.store)
    if not found:
        console.print("No training datasets; make one with store.create_training_dataset(...).")
        return
    table = Table("name", "rows", "features", "registry", "created", "by")
    for d in found:
        table.add_row(
            escape(d.name),
            str(d.row_count),
            str(len(d.feature_refs)),
            short(d.registry_version),
            _when(d.created_at),
            escape(d.created_by),
        )
    console.print(table)


@datasets.command("show")
@click.argument("name")
@click.option("--all-files", is_flag=True, help="List every source file, not the first few.")
@click.pass_obj
def datasets_show(obj: CliContext, name: str, all_files: bool) -> None:
    """Show a training dataset's manifest and lineage."""
    d = get_training_dataset(obj.store, name)
    lines = [
        f"[bold]{escape(d.name)}[/] (record {short(d.id)})",
        f"  stored at         {escape(d.uri)}",
        f"  registry version  {d.registry_version}",
        f"  rows              {d.row_count}",
        f"  entity rows       {d.entity_fingerprint[:16]} ({', '.join(d.entity_columns)})",
        f"  frame             {d.frame_fingerprint[:16]}",
        f"  created           {_when(d.created_at)} by {escape(d.created_by)}",
    ]
    if d.feature_service:
        lines.append(f"  feature service   {escape(d.feature_service)}")
    if d.description:
        lines.append(f"  description       {escape(d.description)}")
    lines.append("  features:")
    lines.extend(f"    {escape(ref)}" for ref in d.feature_refs)
    lines.append("  views read:")
    for v in d.views:
        used = ", ".join(v.features) if v.features else "(read by an on-demand view)"
        lines.append(f"    {escape(v.view)} [{v.kind}] fingerprint {v.data_fingerprint[:12]}")
        lines.append(f"      features: {escape(used)}")
        if v.source:
            lines.append(f"      source: {escape(v.source)} ({len(v.files)} file(s))")
        shown = v.files if all_files else v.files[:_FILES_SHOWN]
        for f in shown:
            when = _when(f.mtime) if f.mtime else "-"
            etag = f" etag {escape(f.etag)}" if f.etag else ""
            lines.append(f"        {escape(f.path)}  {f.size} bytes  {when}{etag}")
        if len(shown) < len(v.files):
            lines.append(f"        ... and {len(v.files) - len(shown)} more (--all-files)")
    lines.append("  schema:")
    lines.extend(f"    {escape(n)}: {escape(t)}" for n, t in d.schema)
    console.print("\n".join(lines), soft_wrap=True)


@datasets.command("verify")
@click.argument("name")
@click.pass_obj
def datasets_verify(obj: CliContext, name: str) -> None:
    """Make the dataset again; exit 1 if it no longer matches, saying what changed."""
    report = verify_training_dataset(obj.store, name)
    colour = "green" if report.matches else "red"
    lines = report.lines()
    console.print(f"[{colour}]{escape(lines[0])}[/]", soft_wrap=True)
    for line in lines[1:]:
        console.print(f"  {escape(line)}", soft_wrap=True)
    if not report.matches:
        sys.exit(1)


# --- models -------------------------------------------------------------------------------


@main.group()
def models() -> None:
    """Registered models and what they were trained on."""


@models.command("list")
@click.option("--name", default=None, help="Only versions of this model.")
@click.pass_obj
def models_list(obj: CliContext, name: str | None) -> None:
    """List registered model versions (and which one is deployed)."""
    found = list_models(obj.store, name)
    if not found:
        console.print("No models registered; use store.register_model(...).")
        return
    deployed = {d.model: d.version for d in list_deployments(obj.store) if d.active}
    table = Table("model", "version", "dataset", "registry", "metrics", "created", "deployed")
    for m in found:
        metrics = ", ".join(f"{k}={v:.4g}" for k, v in sorted(m.metrics.items()))
        table.add_row(
            escape(m.name),
            escape(m.version),
            escape(m.training_dataset),
            short(m.registry_version),
            escape(metrics),
            _when(m.created_at),
            "yes" if deployed.get(m.name) == m.version else "",
        )
    console.print(table)


@models.command("show")
@click.argument("name")
@click.argument("version", required=False)
@click.pass_obj
def models_show(obj: CliContext, name: str, version: str | None) -> None:
    """Show a model version (default: the latest) and its features."""
    m = get_model(obj.store, name, version)
    lines = [
        f"[bold]{escape(m.name)}[/] version [bold]{escape(m.version)}[/] (record {short(m.id)})",
        f"  training dataset  {escape(m.training_dataset)} (record {short(m.training_dataset_id)})",
        f"  registry version  {m.registry_version}",
        f"  artifact          {escape(m.artifact_uri) or '-'}",
        f"  created           {_when(m.created_at)} by {escape(m.created_by)}",
    ]
    if m.description:
        lines.append(f"  description       {escape(m.description)}")
    for key, value in sorted(m.metrics.items()):
        lines.append(f"  metric {escape(key)} = {value:.6g}")
    for key, text in sorted(m.tags.items()):
        lines.append(f"  tag {escape(key)} = {escape(text)}")
    lines.append("  features:")
    lines.extend(f"    {escape(ref)}" for ref in m.feature_refs)
    lines.append("  view fingerprints:")
    lines.extend(f"    {escape(v)}: {fp[:12]}" for v, fp in sorted(m.view_fingerprints.items()))
    current = current_deployment(obj.store, m.name)
    if current is not None:
        lines.append(f"  deployed version  {escape(current.version)}")
    console.print("\n".join(lines), soft_wrap=True)


# --- deployments --------------------------------------------------------------------------

_sample_option = click.option(
    "--skew-sample",
    default=DEFAULT_SKEW_SAMPLE,
    show_default=True,
    help="Entities sampled for the skew check (0 skips it).",
)
_rate_option = click.option(
    "--max-mismatch-rate",
    default=DEFAULT_MAX_MISMATCH_RATE,
    show_default=True,
    help="Largest share of sampled entities whose online values may differ.",
)


def _print_report(report: DeployReport) -> None:
    for check in report.checks:
        mark = "[green]PASS[/]" if check.passed else "[bold red]FAIL[/]"
        console.print(f"{mark} {check.name}")
        for detail in check.details:
            console.print(f"  {escape(detail)}", soft_wrap=True)


def _deploy(action: object, *args: object, **kwargs: object) -> DeployReport:
    try:
        report: DeployReport = action(*args, **kwargs)  # type: ignore[operator]
    except DeployRefusedError as exc:
        if isinstance(exc.report, DeployReport):
            _print_report(exc.report)
        err_console.print(f"[bold red]refused:[/] {escape(str(exc))}", soft_wrap=True)
        sys.exit(1)
    _print_report(report)
    return report


@main.command()
@click.argument("name")
@click.argument("version")
@_sample_option
@_rate_option
@click.pass_obj
def deploy(
    obj: CliContext, name: str, version: str, skew_sample: int, max_mismatch_rate: float
) -> None:
    """Check model NAME at VERSION and deploy it; refuse (exit 1) if a check fails."""
    report = _deploy(
        deploy_model,
        obj.store,
        name,
        version,
        skew_sample=skew_sample,
        max_mismatch_rate=max_mismatch_rate,
    )
    _deployed(report.deployment)


@main.command()
@click.argument("name")
@click.pass_obj
def undeploy(obj: CliContext, name: str) -> None:
    """Stop serving model NAME."""
    record = undeploy_model(obj.store, name)
    console.print(f"Undeployed model [bold]{escape(name)}[/] (record {short(record.id)}).")


@main.group(invoke_without_command=True)
@click.pass_context
def deployments(ctx: click.Context) -> None:
    """Deployed models; `deployments history NAME`, `deployments rollback NAME`."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(deployments_list)


@deployments.command("list")
@click.pass_obj
def deployments_list(obj: CliContext) -> None:
    """List every model's current deployment."""
    found = list_deployments(obj.store)
    if not found:
        console.print("No deployments; deploy a model with `featurestore deploy NAME VERSION`.")
        return
    table = Table("model", "version", "registry", "since", "by")
    for d in found:
        table.add_row(
            escape(d.model),
            escape(d.version) if d.active else "[dim](undeployed)[/]",
            short(d.registry_version),
            _when(d.deployed_at),
            escape(d.deployed_by),
        )
    console.print(table)


@deployments.command("history")
@click.argument("name")
@click.pass_obj
def deployments_history(obj: CliContext, name: str) -> None:
    """Every deploy and undeploy of model NAME, newest first."""
    records = deployment_history(obj.store, name)
    if not records:
        console.print(f"Model {escape(name)!r} was never deployed.")
        return
    table = Table("record", "version", "registry", "when", "by", "note")
    for d in records:
        note = f"rollback to {short(d.rolled_back_from)}" if d.rolled_back_from else ""
        table.add_row(
            short(d.id),
            escape(d.version) if d.active else "[dim](undeployed)[/]",
            short(d.registry_version),
            _when(d.deployed_at),
            escape(d.deployed_by),
            note,
        )
    console.print(table)


@deployments.command("rollback")
@click.argument("name")
@_sample_option
@_rate_option
@click.pass_obj
def deployments_rollback(
    obj: CliContext, name: str, skew_sample: int, max_mismatch_rate: float
) -> None:
    """Deploy again the version of NAME deployed before the current one (checks apply)."""
    report = _deploy(
        rollback_deployment,
        obj.store,
        name,
        skew_sample=skew_sample,
        max_mismatch_rate=max_mismatch_rate,
    )
    _deployed(report.deployment)


def _deployed(record: Deployment | None) -> None:
    if record is not None:
        console.print(
            f"[green]Deployed[/] model [bold]{escape(record.model)}[/] version "
            f"[bold]{escape(record.version)}[/] against registry "
            f"{short(record.registry_version)} (record {short(record.id)}).",
            soft_wrap=True,
        )
