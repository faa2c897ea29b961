"""Locate a dbt project and its profile the way dbt does, and resolve the target's connection."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from steward.errors import BadInput


@dataclass(frozen=True)
class Connection:
    """The resolved connection of one target; `secrets` holds values never to be shown."""

    adapter_type: str
    settings: dict[str, Any]
    secrets: tuple[str, ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class Project:
    project_dir: Path
    profiles_dir: Path
    name: str
    profile_name: str
    target_name: str
    target_path: Path
    connection: Connection
    packages_install_path: str = "dbt_packages"
    # The target as dbt's own --target would see it (the option, else DBT_TARGET), None for the profile's
    # default. dbt hashes that argument into its parse state: passing the resolved default instead would
    # make every plain `dbt build` after a deploy re-parse the whole project, and back.
    target_arg: str | None = None

    @property
    def adapter_type(self) -> str:
        return self.connection.adapter_type


def default_project_dir(env: Mapping[str, str]) -> Path:
    """DBT_PROJECT_DIR, else the nearest directory upwards holding dbt_project.yml, as dbt resolves it."""
    if env.get("DBT_PROJECT_DIR"):
        return Path(env["DBT_PROJECT_DIR"])
    cwd = Path.cwd()
    return next((p for p in (cwd, *cwd.parents) if (p / "dbt_project.yml").exists()), cwd)


def default_profiles_dir(env: Mapping[str, str]) -> Path:
    """DBT_PROFILES_DIR, else the working directory when it holds profiles.yml, else ~/.dbt, as dbt does."""
    if env.get("DBT_PROFILES_DIR"):
        return Path(env["DBT_PROFILES_DIR"])
    cwd = Path.cwd()
    return cwd if (cwd / "profiles.yml").exists() else Path.home() / ".dbt"


def load_project(
    project_dir: Path | None = None,
    profiles_dir: Path | None = None,
    target: str | None = None,
    cli_vars: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> Project:
    env = os.environ if env is None else env
    project_dir = (project_dir or default_project_dir(env)).resolve()
    profiles_dir = (profiles_dir or default_profiles_dir(env)).resolve()
    project_file = project_dir / "dbt_project.yml"
    if not project_file.is_file():
        raise BadInput(f"project-dir: no dbt_project.yml in {project_dir} (set --project-dir or DBT_PROJECT_DIR)")
    project_yaml = _read_yaml(project_file)
    name = project_yaml.get("name")
    profile_name = project_yaml.get("profile")
    if not name or not profile_name:
        raise BadInput(f"{project_file}: 'name' and 'profile' are required")
    profiles_file = profiles_dir / "profiles.yml"
    if not profiles_file.is_file():
        raise BadInput(f"profiles-dir: no profiles.yml in {profiles_dir} (set --profiles-dir or DBT_PROFILES_DIR)")
    raw_profiles = _read_yaml(profiles_file)
    target = target or env.get("DBT_TARGET") or None
    connection, target_name = _resolve_connection(
        raw_profiles, profile_name, target, cli_vars or {}, profiles_file, env
    )
    target_path = project_dir / str(project_yaml.get("target-path") or "target")
    return Project(
        project_dir=project_dir,
        profiles_dir=profiles_dir,
        name=str(name),
        profile_name=str(profile_name),
        target_name=target_name,
        target_path=target_path,
        connection=connection,
        packages_install_path=str(project_yaml.get("packages-install-path") or "dbt_packages"),
        target_arg=target,
    )


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise BadInput(f"{path}:{where} is not valid YAML") from exc
    if not isinstance(data, dict):
        raise BadInput(f"{path}: expected a mapping at the top level")
    return data


_SECRET_FIELDS = ("password", "pass", "token", "private_key", "private_key_passphrase", "secret", "keyfile_json")


def _resolve_connection(
    raw_profiles: dict[str, Any],
    profile_name: str,
    target: str | None,
    cli_vars: Mapping[str, Any],
    profiles_file: Path,
    env: Mapping[str, str],
) -> tuple[Connection, str]:
    # dbt's own renderer, so env_var() and var() in profiles.yml mean what they mean to dbt.
    from dbt.config.profile import Profile
    from dbt.config.renderer import ProfileRenderer
    from dbt_common.context import set_invocation_context
    from dbt_common.exceptions import DbtBaseException

    # env_var() reads dbt's invocation context, which dbtRunner would otherwise set per command.
    set_invocation_context(dict(env))

    if profile_name not in raw_profiles:
        raise BadInput(f"{profiles_file}: no profile named '{profile_name}' (the project's 'profile')")
    outputs = (raw_profiles.get(profile_name) or {}).get("outputs") or {}
    if target is not None and target not in outputs:
        known = ", ".join(sorted(outputs)) or "none"
        raise BadInput(f"target: '{target}' is not a target of profile '{profile_name}' (targets: {known})")
    try:
        target_name, data = Profile.render_profile(
            raw_profiles[profile_name], profile_name, target, ProfileRenderer(dict(cli_vars))
        )
        data = dict(data)
        data.pop("threads", None)
        credentials = Profile._credentials_from_profile(data, profile_name, target_name)
    except DbtBaseException as exc:
        raise BadInput(f"{profiles_file}: {_one_line(str(exc))}") from exc
    settings = {k: v for k, v in credentials.to_dict(omit_none=True).items()}
    secrets = tuple(str(settings[k]) for k in _SECRET_FIELDS if settings.get(k))
    return Connection(adapter_type=credentials.type, settings=settings, secrets=secrets), target_name


def _one_line(message: str) -> str:
    lines = [ln.strip() for ln in message.splitlines() if ln.strip()]
    useful = [ln for ln in lines if not ln.startswith("dbt encountered an error")]
    return " ".join(useful or lines)
