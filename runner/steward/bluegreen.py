"""Blue-green (write-audit-publish) deploys: build and test in stage schemas, then publish in one transaction.

1. Stage: the selection is built into one stage schema per prod schema (`<schema>__steward_stage`) by a dbt
   build against a copy of the profile whose target schema carries the stage suffix, with
   STEWARD_STAGE_SUFFIX set for `steward.stage_schema` (the one line a project's own generate_schema_name
   adds). Unselected refs resolve to prod (`--defer --favor-state` against prod's manifest). Incremental
   models and snapshots start from a copy of prod's table; neither DuckDB nor PostgreSQL has a zero-copy
   clone, so that copy grows with the table.
2. Audit: dbt runs every selected test there. On any failure prod was never touched; the stage schemas are
   dropped, or kept for inspection with --keep-stage.
3. Publish, one transaction: each prod relation is moved to its rollback slot and the staged relation takes
   its name; views outside the deploy that depend on a replaced relation are recreated. The rollback point
   it records is the ordinary one, so `steward rollback` is the reverse swap: renames only.

PostgreSQL moves tables and views between schemas by metadata (ALTER ... SET SCHEMA), so publish does
not grow with table size. DuckDB cannot move a table between schemas: its publish copies each staged
table into prod (a cost that grows with size), while its rollback is still renames, since its rollback
slots sit beside the relations.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from steward import state
from steward.errors import BadInput, DbtFailed
from steward.invocation import DbtInvoker, DbtOutcome, environment_overlay
from steward.plan import Plan, make_plan
from steward.reports.for_deploy import write_reports
from steward.rollback import RollbackEntry, RollbackStore
from steward.warehouse import Relation, Warehouse, opened

if TYPE_CHECKING:
    from steward.context import Context
    from steward.deploy import DeployOptions, DeployResult, Ledger
    from steward.journal import DeployRecord

STAGE_SUFFIX = "__steward_stage"
STAGE_ENV = "STEWARD_STAGE_SUFFIX"
ONE_LINE = "{%- set custom_schema_name = steward.stage_schema(custom_schema_name) -%}"
# Nodes that keep state between builds, so their stage starts from prod's rows.
STATEFUL = ("incremental", "snapshot")
# PostgreSQL lock_not_available and deadlock_detected: a reader was in the way; the publish is retried.
RETRYABLE_SQLSTATES = ("55P03", "40P01")


@dataclass(frozen=True)
class Staged:
    """One relation of a blue-green deploy: where prod has it and where the stage builds it."""

    unique_id: str
    prod: Relation
    stage: Relation
    materialized: str | None


@dataclass(frozen=True)
class Before:
    """What prod held before the publish: the rollback point's expected values, measured before the swap."""

    kind: str | None
    view_sql: str | None = None
    row_count: int | None = None
    checksum: str | None = None


# -- staging --------------------------------------------------------------------------------------
def stage_profiles(project: Any, directory: Path) -> Path:
    """A copy of the project's profiles.yml whose target schema carries the stage suffix."""
    source = project.profiles_dir / "profiles.yml"
    profiles = yaml.safe_load(source.read_text()) or {}
    output = ((profiles.get(project.profile_name) or {}).get("outputs") or {}).get(project.target_name)
    if not isinstance(output, dict) or not output.get("schema"):
        raise BadInput(f"{source}: blue-green needs a schema on target {project.target_name}")
    output["schema"] = f"{output['schema']}{STAGE_SUFFIX}"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "profiles.yml"
    path.write_text(yaml.safe_dump(profiles))
    path.chmod(0o600)
    return directory


def pair(prod_plan: Plan, stage_plan: Plan, prod_manifest: Any) -> list[Staged]:
    """Match each prod relation with its stage relation by node; refuse a stage that would land in prod."""
    prod_schemas = {getattr(node, "schema", None) for node in _manifest_nodes(prod_manifest)}
    prod_schemas.update(r.schema for r in prod_plan.relations)
    staged_by_id = {node.unique_id: node.relation for node in stage_plan.nodes if node.relation is not None}
    for node in stage_plan.nodes:
        if node.relation is not None and (node.relation.schema in prod_schemas
                                          or STAGE_SUFFIX not in node.relation.schema):
            raise BadInput(
                f"blue-green: {node.unique_id} would be staged in schema {node.relation.schema}, which is not a "
                f"stage schema; the project's generate_schema_name must call steward.stage_schema: add "
                f"this line at the top of it: {ONE_LINE}")
    pairs = []
    for node in prod_plan.nodes:
        if node.relation is None or node.audit:
            continue
        stage = staged_by_id.get(node.unique_id)
        if stage is None:
            raise BadInput(f"blue-green: {node.unique_id} has no stage relation")
        pairs.append(Staged(node.unique_id, node.relation, stage, node.materialized))
    return pairs


def _manifest_nodes(manifest: Any) -> list[Any]:
    """Every node and source of a parsed manifest: the schemas prod uses."""
    return [*(getattr(manifest, "nodes", None) or {}).values(), *(getattr(manifest, "sources", None) or {}).values()]


def stage_schemas(stage_plan: Plan) -> list[str]:
    return sorted({node.relation.schema for node in stage_plan.nodes if node.relation is not None})


def prepare_stage(warehouse: Warehouse, schemas: Sequence[str], staged: Sequence[Staged],
                  full_refresh: bool) -> list[Staged]:
    """Empty stage schemas; incremental models and snapshots start from a copy of prod's table."""
    for schema in schemas:
        warehouse.drop_schema(schema)
        warehouse.ensure_schema(schema)
    seeded = []
    if full_refresh:
        return seeded
    for item in staged:
        if item.materialized in STATEFUL and warehouse.relation_kind(item.prod) == "table":
            warehouse.copy_table(item.prod, item.stage)
            seeded.append(item)
    return seeded


def measure_prod(warehouse: Warehouse, relations: Sequence[Relation]) -> dict[Relation, Before]:
    """Kind, view text, row count and checksum of every prod relation and every view depending on one."""
    before: dict[Relation, Before] = {}
    existing = [r for r in relations if warehouse.relation_kind(r)]
    for relation in [*relations, *warehouse.dependent_views(existing)]:
        kind = warehouse.relation_kind(relation)
        if kind is None:
            before[relation] = Before(None)
            continue
        count, checksum = warehouse.fingerprint(relation)
        view_sql = warehouse.view_definition(relation) if kind == "view" else None
        before[relation] = Before(kind, view_sql, count, checksum)
    return before


# -- publishing -----------------------------------------------------------------------------------
def publish(warehouse: Warehouse, store: RollbackStore, deploy_id: str, staged: Sequence[Staged],
            before: Mapping[Relation, Before], attempts: int = 5) -> list[RollbackEntry]:
    """Swap every staged relation into prod and prod's into the rollback point, in one transaction.

    A reader sees the old set or the new set: the swap takes every lock first, in one statement, and
    commits once. If a reader holds a lock the swap needs, PostgreSQL times it out or breaks the
    deadlock; nothing was changed, and the whole transaction is tried again."""
    for attempt in range(1, attempts + 1):
        try:
            with warehouse.transaction():
                return _swap(warehouse, store, deploy_id, staged, before)
        except Exception as exc:
            if getattr(exc, "pgcode", None) not in RETRYABLE_SQLSTATES or attempt == attempts:
                raise
            time.sleep(0.1 * attempt)
    raise AssertionError("unreachable")


def _swap(warehouse: Warehouse, store: RollbackStore, deploy_id: str, staged: Sequence[Staged],
          before: Mapping[Relation, Before]) -> list[RollbackEntry]:
    prods = [item.prod for item in staged]
    existing = [r for r in prods if warehouse.relation_kind(r)]
    warehouse.lock_for_swap([*existing, *(item.stage for item in staged)])
    externals = warehouse.dependent_views(existing)
    # Read before anything moves: afterwards PostgreSQL would print a moved table's rollback name.
    external_sql = {view: warehouse.view_definition(view) for view in externals}
    for view in reversed(externals):  # deepest dependents first
        warehouse.drop(view, "view")
    for item in reversed(staged):  # the deploy's own views, children first
        if warehouse.relation_kind(item.prod) == "view":
            warehouse.drop(item.prod, "view")
    renames = {item.stage.schema: item.prod.schema for item in staged}
    entries = []
    for seq, item in enumerate(staged):
        was = before.get(item.prod) or Before(warehouse.relation_kind(item.prod))
        copy = None
        if warehouse.relation_kind(item.prod) == "table":
            copy = store.slot(deploy_id, seq, item.prod, "b")
            warehouse.move_table(item.prod, copy)
        staged_kind = warehouse.relation_kind(item.stage)
        if staged_kind == "table":
            warehouse.adopt_table(item.stage, item.prod)
        elif staged_kind == "view":
            warehouse.adopt_view(item.stage, item.prod, renames)
        else:
            raise BadInput(f"blue-green: the stage has no relation {item.stage} for {item.unique_id}")
        entries.append(RollbackEntry(deploy_id, seq, item.prod, was.kind, copy=copy, view_sql=was.view_sql,
                                     row_count=was.row_count, checksum=was.checksum))
    for offset, view in enumerate(externals, start=len(staged)):
        warehouse.create_view(view, external_sql[view])
        was = before.get(view) or Before("view", external_sql[view])
        entries.append(RollbackEntry(deploy_id, offset, view, "view", external=True, view_sql=external_sql[view],
                                     row_count=was.row_count, checksum=was.checksum))
    for entry in entries:
        store.save(entry)
    return entries


# -- the deploy -----------------------------------------------------------------------------------
def deploy(context: Context, options: DeployOptions, invoker: DbtInvoker, ledger: Ledger, record: DeployRecord,
           manifest: Any, parsed: Path, result: DeployResult) -> DeployResult:
    """Stage, audit, publish. Called by deploy.deploy under the deploy lock, after the plan and change gate."""
    from steward.deploy import admit, build_args, selection_args, shipped, vars_args

    project = context.project
    schema = context.policy.rollback_schema
    with tempfile.TemporaryDirectory(prefix="steward-stage-") as scratch:
        # Unselected refs resolve to prod: dbt defers to the manifest prod was parsed into.
        state_dir = options.state
        if state_dir is None:
            state_dir = Path(scratch) / "state"
            state_dir.mkdir()
            shutil.copyfile(parsed, state_dir / state.MANIFEST)
        stage_project = replace(project, profiles_dir=stage_profiles(project, Path(scratch) / "profiles"))
        stage_invoker = DbtInvoker(stage_project, quiet=invoker.quiet, callbacks=invoker.callbacks)
        staged_options = replace(options, state=state_dir)
        with environment_overlay({STAGE_ENV: STAGE_SUFFIX}):
            stage_manifest = stage_invoker.parse(vars_args(options))
            stage_plan = make_plan(stage_invoker, selection_args(options), stage_manifest)
        staged = pair(result.plan, stage_plan, manifest)
        schemas = stage_schemas(stage_plan)
        with opened(project.connection) as warehouse:
            record = admit(context, ledger, warehouse, record)
            record = ledger.write(record.advanced("staging", f"stage schemas: {', '.join(schemas)}"), warehouse)
            RollbackStore(warehouse, schema).ensure()
            prepare_stage(warehouse, schemas, staged, options.full_refresh)
            before = measure_prod(warehouse, [item.prod for item in staged])
        # The runner's connection is closed while dbt builds: DuckDB admits one writer.
        try:
            with environment_overlay({STAGE_ENV: STAGE_SUFFIX}):
                outcome = stage_invoker.invoke(["build"], [*build_args(staged_options), "--favor-state"],
                                               manifest=stage_manifest)
        except BaseException as interrupted:
            outcome = DbtOutcome(command="build", success=False, error=f"interrupted: {interrupted!r}")
        result.outcome = outcome
        with opened(project.connection) as warehouse:
            if not outcome.success:
                failure = outcome.error or ", ".join(node.name for node in outcome.failed_nodes)
                kept = _end_stage(warehouse, schemas, keep=options.keep_stage)
                result.record = ledger.write(record.advanced("rejected", f"{failure}; prod untouched"), warehouse)
                result.report_dir = write_reports(context, result, warehouse)
                raise DbtFailed(f"deploy {record.deploy_id} failed ({failure}); nothing was published, prod is "
                                f"untouched; {kept}; report: {result.report_dir}")
            staged_fingerprints = {}
            if not warehouse.can_move_across_schemas():  # publish copies: verify the copies after
                staged_fingerprints = {item.prod: warehouse.fingerprint(item.stage) for item in staged
                                       if warehouse.relation_kind(item.stage) == "table"}
            record = ledger.write(record.advanced("publishing"), warehouse)
            store = RollbackStore(warehouse, schema)
            try:
                result.rollback_point = publish(warehouse, store, record.deploy_id, staged, before)
            except Exception as exc:
                failure = f"publish failed and was undone: {' '.join(str(exc).split())}"
                kept = _end_stage(warehouse, schemas, keep=options.keep_stage)
                result.record = ledger.write(record.advanced("rejected", f"{failure}; prod untouched"), warehouse)
                result.report_dir = write_reports(context, result, warehouse)
                raise DbtFailed(f"deploy {record.deploy_id}: {failure}; prod is untouched; {kept}; "
                                f"report: {result.report_dir}") from exc
            _end_stage(warehouse, schemas, keep=False)
            wrong = [f"{relation}: staged {expected}, published {found}"
                     for relation, expected in staged_fingerprints.items()
                     if (found := warehouse.fingerprint(relation)) != expected]
            if wrong:  # the copy did not carry the data: put the previous prod back
                from steward.deploy import restore_deploy

                record = ledger.write(record.advanced("failed", "; ".join(wrong)), warehouse)
                result.record, result.restored, result.mismatches = restore_deploy(context, ledger, warehouse,
                                                                                   record)
                raise DbtFailed(f"deploy {record.deploy_id}: published tables differ from the stage "
                                f"({'; '.join(wrong)}); the previous prod was restored and verified")
            result.record = ledger.write(record.advanced("succeeded", f"published {len(staged)} relation(s)"),
                                         warehouse)
            built = shipped(options, result.plan)
            state.keep(project, built or (), whole_project=built is None, parsed=parsed)
            result.report_dir = write_reports(context, result, warehouse)
            return result


def _end_stage(warehouse: Warehouse, schemas: Sequence[str], keep: bool) -> str:
    if keep:
        return f"stage kept in {', '.join(schemas)} (--keep-stage)"
    for schema in schemas:
        warehouse.drop_schema(schema)
    return "stage dropped (keep it with --keep-stage)"
