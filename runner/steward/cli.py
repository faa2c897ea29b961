"""The `steward` command line: a thin click layer over the Python API."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from steward import __version__, faults
from steward.changes.lint import lint
from steward.config import validation
from steward.config.context import Context, describe, open_context
from steward.dbt.invocation import DbtInvoker
from steward.dbt.progress import Progress
from steward.deploy import DeployOptions, DeployResult, deploy
from steward.deploy.backfill import BATCH_SIZES, BackfillOptions, backfill, describe_plan
from steward.deploy.backfill import to_json as backfill_json
from steward.deploy.checks import exit_code, failed, run_checks
from steward.deploy.recovery import RollbackOutcome, list_deploys, prune, recover, rollback
from steward.errors import BadInput, ElementaryMissing, LintFailed, StewardError, exit_code_for
from steward.redact import redact_text
from steward.reports import elementary
from steward.reports.collect import collect, warehouse_if_reachable
from steward.reports.formats import FILE_NAMES, RENDERERS, render
from steward.reports.rundir import latest_run_dir
from steward.warehouse import warehouse_class
from steward.warehouse.rollback import RollbackEntry

VERBOSE_HELP = "Show dbt's own output (every node, the SQL compiled to compare columns) instead of steward's lines."


def _fail(error: StewardError, secrets: tuple[str, ...] = ()) -> None:
    if isinstance(error, ElementaryMissing):
        click.echo(error.instructions, err=True)
    click.echo(f"steward: error: {redact_text(str(error), secrets)}", err=True)
    for detail in getattr(error, "details", ()):
        click.echo(redact_text(f"  - {detail}", secrets), err=True)
    for number, step in enumerate(getattr(error, "steps", ()), start=1):
        click.echo(redact_text(f"  {number}. {step}", secrets), err=True)
    sys.exit(exit_code_for(error))


def target_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--project-dir, --profiles-dir and --target, resolved as dbt resolves them."""

    @click.option("--project-dir", type=click.Path(path_type=Path), default=None,
                  help="dbt project directory [env DBT_PROJECT_DIR; default: nearest dbt_project.yml upwards]")
    @click.option("--profiles-dir", type=click.Path(path_type=Path), default=None,
                  help="Directory of profiles.yml [env DBT_PROFILES_DIR; default: ./ if it has one, else ~/.dbt]")
    @click.option("--target", "-t", default=None, help="Target in the profile [env DBT_TARGET; default: the profile's]")
    @functools.wraps(command)
    def wrapper(project_dir: Path | None, profiles_dir: Path | None, target: str | None, **kwargs: Any) -> Any:
        try:
            context = open_context(project_dir, profiles_dir, target)
        except StewardError as error:
            _fail(error)
        try:
            return command(context, **kwargs)
        except StewardError as error:
            _fail(error, context.project.connection.secrets)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="steward")
def main() -> None:
    """Guarded dbt deploys: preflight checks, a deploy lock, rollback points and verified rollback."""
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")
    try:
        fault = faults.armed()
    except StewardError as error:
        _fail(error)
    if fault is not None:
        click.echo(f"steward: warning: {faults.VARIABLE} is set (test-only fault injection): this run will "
                   f"{fault.action} at {fault.point}", err=True)


@main.command("env")
@target_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def env_command(context: Context, as_json: bool) -> None:
    """Show the project, target, tier, CI provider, git state and policy in force."""
    data = describe(context)
    data["runner_guarantees"] = runner_guarantees(context.project.adapter_type)
    secrets = context.project.connection.secrets
    if as_json:
        click.echo(redact_text(json.dumps(data, indent=2), secrets))
        return
    for line in _key_value_lines(data):
        click.echo(redact_text(line, secrets))


@main.command("check")
@target_options
@click.option("--select", "-s", default=None, help="dbt node selection to check.")
@click.option("--exclude", default=None, help="dbt node exclusion.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--verbose", "-v", is_flag=True, help=VERBOSE_HELP)
def check_command(context: Context, select: str | None, exclude: str | None, as_json: bool, verbose: bool) -> None:
    """Run every preflight check and change nothing."""
    checks = run_checks(context, DeployOptions(select=select, exclude=exclude),
                        DbtInvoker(context.project, quiet=not verbose))
    secrets = context.project.connection.secrets
    if as_json:
        click.echo(redact_text(json.dumps([asdict(check) for check in checks], indent=2), secrets))
    else:
        for check in checks:
            mark = "pass" if check.passed else ("warn" if not check.blocking else "FAIL")
            click.echo(redact_text(f"{mark:<5} {check.name:<22} {check.detail}", secrets))
    failures = failed(checks)
    if failures:
        click.echo(f"steward: check failed: {', '.join(f'{c.name} (exit {c.exit_code})' for c in failures)}; "
                   f"exit {exit_code(checks)}, the failure that stops a deploy first", err=True)
        sys.exit(exit_code(checks))


@main.command("deploy")
@target_options
@click.option("--select", "-s", default=None, help="dbt node selection.")
@click.option("--exclude", default=None, help="dbt node exclusion.")
@click.option("--vars", "vars_", default=None, help="YAML mapping of vars passed to dbt.")
@click.option("--full-refresh", is_flag=True, help="Rebuild incremental models from scratch.")
@click.option("--dry-run", is_flag=True, help="Print the plan and change nothing.")
@click.option("--no-rollback", is_flag=True, help="On failure, leave what was built; keep the rollback point.")
@click.option("--yes", "-y", is_flag=True, help="Confirm a prod deploy without asking.")
@click.option("--override-safety", "override_reason", default=None, metavar="REASON",
              help="Proceed past a refused safety check; the reason is recorded.")
@click.option("--allow-breaking", is_flag=True, help="Deploy to prod even with breaking changes.")
@click.option("--changed-only", is_flag=True,
              help="Build only what changed since the kept state, and its children (state:modified+, deferred).")
@click.option("--strategy", default=None, metavar="in-place|blue-green",
              help="in-place: build over prod, restore on failure. blue-green: build and test in stage "
                   "schemas, publish in one transaction [policy deploy.strategy; default in-place].")
@click.option("--keep-stage", is_flag=True, help="Blue-green: keep the stage of a rejected deploy for inspection.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--verbose", "-v", is_flag=True, help=VERBOSE_HELP)
def deploy_command(context: Context, select: str | None, exclude: str | None, vars_: str | None,
                   full_refresh: bool, dry_run: bool, no_rollback: bool, yes: bool,
                   override_reason: str | None, allow_breaking: bool, changed_only: bool, strategy: str | None,
                   keep_stage: bool, as_json: bool, verbose: bool) -> None:
    """Preflight, lock, rollback point, dbt build; on failure restore everything and verify.

    With --strategy blue-green: build and test in a stage; publish only if everything passed."""
    options = DeployOptions(select=select, exclude=exclude, vars=vars_, full_refresh=full_refresh,
                            dry_run=dry_run, auto_rollback=not no_rollback, yes=yes,
                            override_reason=override_reason, allow_breaking=allow_breaking,
                            changed_only=changed_only, strategy=strategy, keep_stage=keep_stage)
    progress = Progress(sys.stderr, live=sys.stderr.isatty() and not context.environment.in_ci,
                        secrets=context.project.connection.secrets)
    shown = not (as_json or dry_run)
    # Verbose: dbt's own output replaces the progress lines.
    invoker = DbtInvoker(context.project, quiet=not verbose, callbacks=[progress] if shown and not verbose else (),
                         on_step=progress.step if shown else None)
    try:
        result = deploy(context, options, invoker,
                        ask=lambda question: click.confirm(question, default=False, err=True))
    finally:
        progress.close()
    for warning in result.warnings:
        click.echo(f"steward: warning: {warning}", err=True)
    if as_json:
        click.echo(json.dumps(_deploy_json(result), indent=2))
        return
    if dry_run:
        click.echo(f"Plan for {context.project.target_name} ({context.tier}): "
                   f"{len(result.plan.nodes)} node(s) to build, {len(result.plan.tests)} test(s)")
        for node in result.plan.nodes:
            where = f" -> {node.relation}" if node.relation else ""
            click.echo(f"  {node.unique_id} ({node.materialized}){where}")
        click.echo(f"Rollback point: {len(result.plan.relations)} relation(s); journal and metadata in schema "
                   f"{context.policy.rollback_schema}")
        click.echo(f"Checks for tier {context.tier}: "
                   + ("; ".join(f"{c.name} {'pass' if c.passed else 'fail'} ({c.detail})" for c in result.checks)
                      or "no branch rules apply"))
        click.echo("Dry run: nothing was changed.")
        return
    click.echo(json.loads((result.report_dir / FILE_NAMES["json"]).read_text())["closing_line"])
    if result.pruned:
        click.echo(f"Deleted the expired rollback points of {len(result.pruned)} earlier deploy(s): "
                   f"{', '.join(result.pruned)}")
    click.echo(f"Reports in {result.report_dir}/: {' '.join(FILE_NAMES[fmt] for fmt in REPORT_ORDER)}")


REPORT_ORDER = ("html", "markdown", "junit", "json", "console")


@main.command("report")
@target_options
@click.option("--run-dir", type=click.Path(path_type=Path, file_okay=False, exists=True), default=None,
              help="A deploy's report directory, or a dbt target directory [default: the latest deploy's].")
@click.option("--format", "fmt", type=click.Choice(list(RENDERERS)), default="console", show_default=True)
@click.option("--output", "-o", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write the report to FILE instead of printing it.")
@click.option("--elementary", "use_elementary", is_flag=True,
              help="Run elementary's `edr report` instead (needs its dbt package and edr).")
def report_command(context: Context, run_dir: Path | None, fmt: str, output: Path | None,
                   use_elementary: bool) -> None:
    """Report on the last deploy (or --run-dir): console, markdown, junit, json or html."""
    project = context.project
    if use_elementary:
        sys.exit(elementary.run_report(project, output))
    directory = run_dir or latest_run_dir(project.target_path)
    with warehouse_if_reachable(project.connection) as warehouse:
        report = collect(directory, project.name, project.target_name, project.adapter_type, warehouse,
                         str(project.connection.settings.get("schema") or ""))
    text = render(report, fmt, lambda value: redact_text(value, project.connection.secrets))
    if output is None:
        click.echo(text, nl=False)
        return
    output.write_text(text)
    click.echo(f"Wrote {output}")


@main.command("lint")
@target_options
@click.argument("paths", nargs=-1)
def lint_command(context: Context, paths: tuple[str, ...]) -> None:
    """sqlfluff (dbt templater) with the project's .sqlfluff, over PATHS or the project's SQL folders."""
    violations = lint(context, paths)
    for violation in violations:
        click.echo(violation.describe())
    if violations:
        raise LintFailed(f"lint: {len(violations)} violation(s) in "
                         f"{len({v.path for v in violations})} file(s)")
    click.echo("Lint: no violations.")


@main.command("backfill")
@target_options
@click.option("--select", "-s", required=True, help="The model to backfill.")
@click.option("--start", required=True, help="First moment of the backfill, inclusive (2024-01-01[ 12:00]).")
@click.option("--end", required=True, help="End of the backfill, exclusive.")
@click.option("--batch-size", type=click.Choice(BATCH_SIZES), default="day", show_default=True,
              help="The window of one batch.")
@click.option("--resume", is_flag=True, help="Continue the unfinished backfill of this window; done batches skip.")
@click.option("--dry-run", is_flag=True, help="Print the batches and change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def backfill_command(context: Context, select: str, start: str, end: str, batch_size: str, resume: bool,
                     dry_run: bool, as_json: bool) -> None:
    """Rebuild a model's windows one batch at a time; each batch is checkpointed after its tests pass."""
    options = BackfillOptions(select, start, end, batch_size, resume, dry_run)
    echo = (lambda line: None) if as_json else (lambda line: click.echo(line))
    result = backfill(context, options, DbtInvoker(context.project, quiet=True), echo=echo)
    if as_json:
        click.echo(json.dumps(backfill_json(result), indent=2))
    elif dry_run:
        for line in describe_plan(result):
            click.echo(line)
        click.echo("Dry run: nothing was changed.")
    else:
        click.echo(f"Backfilled {result.target.name}: {len(result.ran)} batch(es) run, {len(result.skipped)} "
                   f"skipped as done; backfill id {result.backfill_id} (undo: steward rollback --deploy-id "
                   f"{result.backfill_id}).")


@main.command("rollback")
@target_options
@click.option("--deploy-id", default=None, help="The deploy to roll back.")
@click.option("--last", is_flag=True, help="Roll back the most recent deploy.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def rollback_command(context: Context, deploy_id: str | None, last: bool, as_json: bool) -> None:
    """Restore a kept rollback point (of a successful deploy too) and verify it."""
    if bool(deploy_id) == last:
        raise BadInput("rollback: give exactly one of --deploy-id ID or --last")
    outcome = rollback(context, deploy_id)
    for warning in outcome.warnings:
        click.echo(f"steward: warning: {warning}", err=True)
    if as_json:
        click.echo(json.dumps(_rollback_json(outcome), indent=2))
    elif outcome.already:
        click.echo(f"Deploy {outcome.record.deploy_id} was already rolled back; nothing to do.")
    else:
        click.echo(_restored_line("Rolled back", outcome))


@main.command("recover")
@target_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def recover_command(context: Context, as_json: bool) -> None:
    """Finish an interrupted deploy: restore its rollback point and verify. Safe to run again."""
    outcomes = recover(context)
    for warning in (warning for outcome in outcomes for warning in outcome.warnings):
        click.echo(f"steward: warning: {warning}", err=True)
    if as_json:
        click.echo(json.dumps([_rollback_json(o) for o in outcomes], indent=2))
        return
    if not outcomes:
        click.echo("Nothing to recover.")
    for outcome in outcomes:
        click.echo(_restored_line("Recovered", outcome))


@main.command("deploys")
@target_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def deploys_command(context: Context, as_json: bool) -> None:
    """Deploys of this target with status, touched relations and how long each rollback point is kept."""
    listings = list_deploys(context)
    if as_json:
        click.echo(json.dumps([{**json.loads(item.record.to_json()), "rollback_point": item.rollback_point}
                               for item in listings], indent=2))
        return
    if not listings:
        click.echo("No deploys yet.")
    for item in listings:
        record = item.record
        click.echo(f"{record.deploy_id}  {record.state:<15} {len(record.relations):>3} relation(s)  "
                   f"started {record.started_at}  rollback point {item.rollback_point}"
                   + (f" until {record.keep_until}" if item.rollback_point == "kept" else ""))


@main.command("prune")
@target_options
@click.option("--keep", type=int, default=None, help="Always keep the newest N rollback points [policy].")
@click.option("--older-than", default=None, help="Only prune points older than this, e.g. 7d [policy].")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def prune_command(context: Context, keep: int | None, older_than: str | None, as_json: bool) -> None:
    """Delete old rollback points; never the newest N, never while a deploy holds the lock."""
    age = validation.duration(older_than, "--older-than") if older_than is not None else None
    outcome = prune(context, keep, age)
    if as_json:
        click.echo(json.dumps(asdict(outcome), indent=2))
    else:
        click.echo(f"Pruned {len(outcome.pruned)} rollback point(s) ({outcome.tables_dropped} table(s) dropped); "
                   f"kept {len(outcome.kept)}.")


def _deploy_json(result: DeployResult) -> dict[str, Any]:
    return {
        "deploy_id": result.deploy_id,
        "status": "dry-run" if result.outcome is None and result.record.state == "planned" else result.status,
        "strategy": result.record.strategy,
        "plan": [{"unique_id": n.unique_id, "materialized": n.materialized,
                  "relation": str(n.relation) if n.relation else None} for n in result.plan.nodes],
        "tests": list(result.plan.tests),
        "rollback_point": [_entry_json(e) for e in result.rollback_point],
        "pruned": list(result.pruned),
        "report_dir": str(result.report_dir) if result.report_dir else None,
        "warnings": result.warnings,
    }


def _restored_line(verb: str, outcome: RollbackOutcome) -> str:
    return f"{verb} deploy {outcome.record.deploy_id}: {outcome.record.detail}."


def _rollback_json(outcome: RollbackOutcome) -> dict[str, Any]:
    return {"deploy_id": outcome.record.deploy_id, "state": outcome.record.state, "detail": outcome.record.detail,
            "already": outcome.already, "changed_since": [m.describe() for m in outcome.mismatches],
            "restored": [_entry_json(e) for e in outcome.restored]}


def _entry_json(entry: RollbackEntry) -> dict[str, Any]:
    return {"relation": str(entry.relation), "kind": entry.kind, "external": entry.external,
            "row_count": entry.row_count, "checksum": entry.checksum}


def runner_guarantees(adapter_type: str) -> dict[str, str]:
    """What deploys promise on the adapter (transactions, locks, strategies), or why it has no runner support."""
    try:
        return warehouse_class(adapter_type).guarantees()
    except BadInput as exc:
        return {"runner": str(exc)}


def _key_value_lines(data: dict[str, Any], prefix: str = "") -> list[str]:
    lines: list[str] = []
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            lines.extend(_key_value_lines(value, f"{name}."))
        else:
            shown = ", ".join(map(str, value)) if isinstance(value, list) else ("-" if value is None else value)
            lines.append(f"{name:<36} {shown}")
    return lines
