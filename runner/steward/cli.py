"""The `steward` command line: a thin click layer over the Python API."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from steward import __version__
from steward.context import Context, describe, open_context
from steward.deploy import DeployOptions, deploy
from steward.errors import StewardError, exit_code_for
from steward.invocation import DbtInvoker
from steward.redact import redact_text


def _fail(error: StewardError, secrets: tuple[str, ...] = ()) -> None:
    click.echo(f"steward: error: {redact_text(str(error), secrets)}", err=True)
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


@main.command("env")
@target_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def env_command(context: Context, as_json: bool) -> None:
    """Show the project, target, tier, CI provider, git state and policy in force."""
    data = describe(context)
    secrets = context.project.connection.secrets
    if as_json:
        click.echo(redact_text(json.dumps(data, indent=2), secrets))
        return
    for line in _key_value_lines(data):
        click.echo(redact_text(line, secrets))


@main.command("deploy")
@target_options
@click.option("--select", "-s", default=None, help="dbt node selection.")
@click.option("--exclude", default=None, help="dbt node exclusion.")
@click.option("--vars", "vars_", default=None, help="YAML mapping of vars passed to dbt.")
@click.option("--full-refresh", is_flag=True, help="Rebuild incremental models from scratch.")
@click.option("--dry-run", is_flag=True, help="Print the plan and change nothing.")
def deploy_command(context: Context, select: str | None, exclude: str | None, vars_: str | None,
                   full_refresh: bool, dry_run: bool) -> None:
    """Build the selection with dbt and write a report."""
    options = DeployOptions(select=select, exclude=exclude, vars=vars_, full_refresh=full_refresh, dry_run=dry_run)
    result = deploy(context, options, DbtInvoker(context.project))
    if dry_run:
        click.echo(f"Plan for {context.project.target_name} ({context.tier}): {len(result.plan)} node(s)")
        for unique_id in result.plan:
            click.echo(f"  {unique_id}")
        click.echo("Dry run: nothing was changed.")
        return
    click.echo(f"Deploy {result.deploy_id} {result.status}; report: {result.report_dir}/report.md")


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
