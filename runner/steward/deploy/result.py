"""What a deploy is asked to do and what it did: the records the flow, its strategies and its report share."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from steward.config.safety import Check
from steward.dbt.invocation import DbtOutcome
from steward.dbt.plan import Plan
from steward.warehouse.journal import DeployRecord
from steward.warehouse.rollback import Mismatch, RollbackEntry


@dataclass(frozen=True)
class DeployOptions:
    select: str | None = None
    exclude: str | None = None
    vars: str | None = None
    full_refresh: bool = False
    dry_run: bool = False
    auto_rollback: bool = True
    yes: bool = False
    override_reason: str | None = None
    allow_breaking: bool = False
    changed_only: bool = False  # build state:modified+ of the kept state, deferring to it
    state: Path | None = None  # set from the target's kept state when changed_only
    strategy: str | None = None  # in-place or blue-green; None: the policy's deploy.strategy
    keep_stage: bool = False  # blue-green: keep the stage of a rejected deploy for inspection


@dataclass
class DeployResult:
    record: DeployRecord
    plan: Plan
    warnings: list[str] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    outcome: DbtOutcome | None = None
    rollback_point: list[RollbackEntry] = field(default_factory=list)
    restored: list[RollbackEntry] = field(default_factory=list)
    mismatches: list[Mismatch] = field(default_factory=list)
    pruned: tuple[str, ...] = ()  # earlier deploys whose expired rollback points this deploy deleted
    report_dir: Path | None = None

    @property
    def deploy_id(self) -> str:
        return self.record.deploy_id

    @property
    def status(self) -> str:
        return self.record.state
