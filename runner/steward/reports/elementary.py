"""The bridge to elementary's own report (`edr report`), which steward's reports never depend on."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

from steward.config.project import Project
from steward.errors import ElementaryMissing

PACKAGE = "elementary-data/elementary"
PACKAGES_YML_ADDITION = f"""packages:
  - package: {PACKAGE}
    version: [">=0.20.0", "<1.0.0"]
"""
DBT_PROJECT_ADDITION = """models:
  elementary:
    +schema: elementary
"""


@dataclass(frozen=True)
class ElementarySetup:
    package_installed: bool
    edr: str | None  # the edr executable, when on PATH

    @property
    def ready(self) -> bool:
        return self.package_installed and self.edr is not None


def package_installed(project: Project) -> bool:
    """elementary's dbt package is in dbt_packages/, or declared in packages.yml (dbt deps will fetch it)."""
    if (project.project_dir / project.packages_install_path / "elementary").is_dir():
        return True
    declared = project.project_dir / "packages.yml"
    if not declared.is_file():
        return False
    packages = (yaml.safe_load(declared.read_text()) or {}).get("packages") or []
    return any(str(item.get("package", "")).lower() == PACKAGE for item in packages if isinstance(item, dict))


def detect(project: Project) -> ElementarySetup:
    return ElementarySetup(package_installed(project), shutil.which("edr"))


def instructions(setup: ElementarySetup) -> str:
    steps = []
    if not setup.package_installed:
        steps.append(f"Add to packages.yml:\n\n{PACKAGES_YML_ADDITION}\nand to dbt_project.yml:\n\n"
                     f"{DBT_PROJECT_ADDITION}\nthen run: dbt deps && dbt run --select elementary")
    if setup.edr is None:
        steps.append("Install elementary's CLI (edr): pip install 'elementary-data[<your adapter>]' "
                     "(or: pip install 'dbt-steward[elementary]')")
    return "\n\n".join(steps) + "\n"


def run_report(project: Project, output: Path | None = None) -> int:
    """Run `edr report` for the project; ElementaryMissing (exit 2) when elementary is not set up."""
    setup = detect(project)
    if not setup.ready:
        missing = [what for what, ok in (("its dbt package", setup.package_installed), ("edr", setup.edr))
                   if not ok]
        raise ElementaryMissing(f"elementary is not set up in {project.project_dir}: missing "
                                f"{' and '.join(missing)}", instructions(setup))
    command = [str(setup.edr), "report", "--project-dir", str(project.project_dir),
               "--profiles-dir", str(project.profiles_dir), "--profile-target", project.target_name]
    if output is not None:
        command += ["--file-path", str(output)]
    return subprocess.run(command, check=False).returncode
