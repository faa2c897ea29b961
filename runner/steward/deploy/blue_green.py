"""Blue-green (write-audit-publish) deploys: build and test a stage, then publish it in one transaction.

1. Stage: the deploy's one parse of the project (the prod manifest, with the user's own profile) is copied
   with every selected node renamed to its stage relation, and dbt builds the selection from that copy,
   so the stage costs no second parse and no second profile. Where the stage lives depends on how the
   adapter can publish it with renames only:
   - PostgreSQL moves tables and views between schemas by metadata (ALTER ... SET SCHEMA): one stage
     schema per prod schema, `<schema>__steward_stage`, relations under their prod names.
   - DuckDB cannot move a table between schemas (it has no ALTER TABLE ... SET SCHEMA), so its stage
     sits beside prod, in the prod schema, under `<name>__steward_stage`, as its rollback slots do.
   Unselected refs resolve to prod (`--defer --favor-state` against prod's manifest). Incremental
   models and snapshots start from a copy of prod's table; neither adapter has a zero-copy clone, so
   that copy grows with the table.
2. Audit: dbt runs every selected test there. On any failure prod was never touched; the stage is
   dropped, or kept for inspection with --keep-stage. steward's audit tables are not staged: the stage
   build records its run (deploy id, results) in prod's, a rejected deploy as much as a published one.
   Its lineage and scorecard describe prod: they stay out of the stage and are rebuilt after the publish.
3. Publish, one transaction: each prod relation is moved to its rollback slot and the staged relation takes
   its name; views outside the deploy that depend on a replaced relation are recreated. On DuckDB a
   staged view is recreated under its prod name from its text with every staged name replaced by its
   prod name (DuckDB views bind by name). The rollback point it records is the ordinary one, so
   `steward rollback` is the reverse swap: renames only, on both adapters.

Why the runner renames the stage and not the project's generate_schema_name: dbt resolves
generate_schema_name and generate_alias_name from the root project or from dbt itself, never from a
package, so a project on dbt's default naming could not be staged by a package macro; and a project
macro reading an environment variable makes dbt re-parse the whole project whenever it changes ("change
detected to override macro"), twice per deploy.
"""

from __future__ import annotations

import copy
import dataclasses
import shutil
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from steward import faults
from steward.changes import state
from steward.dbt.invocation import DbtInvoker, DbtOutcome, environment_overlay
from steward.dbt.plan import AUDIT_TABLE, Plan
from steward.deploy.flow import (
    DeployOptions,
    DeployResult,
    DeploySession,
    admit,
    build_args,
    conclude,
    forget_row_counts,
    report_after_failure,
    run_context,
    vars_args,
)
from steward.deploy.withdrawn import mark_withdrawn
from steward.errors import BadInput, ConnectionLost, DbtFailed
from steward.warehouse import Described, Relation, Warehouse, opened, rename_relations, warehouse_class
from steward.warehouse.rollback import RollbackEntry, RollbackStore

STAGE_SUFFIX = "__steward_stage"
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


@dataclass(frozen=True)
class Stage:
    """Where a deploy's stage lives: stage schemas beside the prod schemas, or relations beside prod's."""

    beside: bool  # True: `<name>__steward_stage` in the prod schema (DuckDB); False: `<schema>__steward_stage`
    prod_schemas: tuple[str, ...]

    @classmethod
    def for_adapter(cls, adapter_type: str, prod: Sequence[Relation]) -> Stage:
        beside = not warehouse_class(adapter_type).can_move_across_schemas()
        return cls(beside, tuple(sorted({relation.schema for relation in prod})))

    def relation(self, prod: Relation) -> Relation:
        if self.beside:
            return Relation(prod.schema, f"{prod.name}{STAGE_SUFFIX}")
        return Relation(f"{prod.schema}{STAGE_SUFFIX}", prod.name)

    @property
    def schemas(self) -> tuple[str, ...]:
        """The schemas a stage build writes to."""
        if self.beside:
            return self.prod_schemas
        return tuple(f"{schema}{STAGE_SUFFIX}" for schema in self.prod_schemas)

    def describe(self) -> str:
        if self.beside:
            return f"stage relations *{STAGE_SUFFIX} in {', '.join(self.prod_schemas)}"
        return f"stage schemas {', '.join(self.schemas)}"

    def clear(self, warehouse: Warehouse) -> None:
        """Drop the whole stage, leftovers of an earlier deploy included."""
        if not self.beside:
            for schema in self.schemas:
                warehouse.drop_schema(schema)
            return
        for schema in self.prod_schemas:
            for relation, kind in warehouse.relations_ending(schema, STAGE_SUFFIX):
                warehouse.drop(relation, kind)

    def prepare(self, warehouse: Warehouse) -> None:
        self.clear(warehouse)
        for schema in self.schemas:
            warehouse.ensure_schema(schema)


# -- staging --------------------------------------------------------------------------------------
def staged_manifest(manifest: Any, plan: Plan, stage: Stage) -> Any:
    """A copy of the parsed manifest in which every planned node is its stage relation, except steward's
    observability models: the audit tables hold the record of runs, not data a deploy publishes, so the stage
    build's run-end hook writes the deploy's rows (a rejected one's too) into prod's; lineage and scorecard
    are left out of the stage build and refreshed after the publish (`refresh_observability`). The prod
    manifest is left as it is."""
    taken = {Relation(str(getattr(node, "schema", "")), str(getattr(node, "alias", None) or node.name))
             for node in _manifest_nodes(manifest)}
    nodes = dict(manifest.nodes)
    for planned in plan.nodes:
        if planned.relation is None or planned.audit:
            continue
        target = stage.relation(planned.relation)
        if target in taken:
            raise BadInput(f"blue-green: {planned.unique_id} would be staged as {target}, which is a relation of "
                           f"the project; rename that relation (the suffix {STAGE_SUFFIX} is steward's)")
        node = nodes[planned.unique_id]
        nodes[planned.unique_id] = dataclasses.replace(
            node, schema=target.schema, alias=target.name,
            relation_name=_restaged_name(node.relation_name, planned.relation, target))
    staged = copy.copy(manifest)
    staged.nodes = nodes
    return staged


def _restaged_name(relation_name: str | None, prod: Relation, stage: Relation) -> str | None:
    """dbt's rendered relation name with the schema and identifier of the stage, quoted as dbt quoted them."""
    if relation_name is None:
        return None
    for quote in ('"', ""):
        tail = f"{quote}{prod.schema}{quote}.{quote}{prod.name}{quote}"
        if relation_name.endswith(tail):
            return f"{relation_name[:-len(tail)]}{quote}{stage.schema}{quote}.{quote}{stage.name}{quote}"
    raise BadInput(f"blue-green: cannot stage {relation_name}: its name does not end in {prod}")


def pair(plan: Plan, stage: Stage) -> list[Staged]:
    """Each prod relation the deploy publishes, with its stage relation (steward's audit models are not published)."""
    return [Staged(node.unique_id, node.relation, stage.relation(node.relation), node.materialized)
            for node in plan.nodes if node.relation is not None and not node.audit]


def _manifest_nodes(manifest: Any) -> list[Any]:
    """Every node and source of a parsed manifest: the relations prod uses."""
    return [*(getattr(manifest, "nodes", None) or {}).values(), *(getattr(manifest, "sources", None) or {}).values()]


def prepare_stage(warehouse: Warehouse, stage: Stage, staged: Sequence[Staged], full_refresh: bool) -> list[Staged]:
    """Empty the stage; incremental models and snapshots start from a copy of prod's table."""
    stage.prepare(warehouse)
    seeded: list[Staged] = []
    if full_refresh:
        return seeded
    stateful = [item for item in staged if item.materialized in STATEFUL]
    kinds = warehouse.relation_kinds([item.prod for item in stateful])
    for item in stateful:
        if kinds[item.prod] == "table":
            warehouse.copy_table(item.prod, item.stage)
            seeded.append(item)
    return seeded


def measure_prod(warehouse: Warehouse, relations: Sequence[Relation]) -> dict[Relation, Before]:
    """Kind, view text, row count and checksum of every prod relation and every view depending on one."""
    kinds = warehouse.relation_kinds(relations)
    externals = warehouse.dependent_views([r for r in relations if kinds[r]])
    kinds.update(warehouse.relation_kinds(externals))
    measured = warehouse.fingerprints([r for r, kind in kinds.items() if kind])
    views = warehouse.view_definitions([r for r in [*relations, *externals] if kinds[r] == "view"])
    before: dict[Relation, Before] = {}
    for relation in [*relations, *externals]:
        kind = kinds[relation]
        if kind is None:
            before[relation] = Before(None)
            continue
        before[relation] = Before(kind, views.get(relation), *measured[relation])
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
    # Kinds read once, before anything moves: below, prod's views are dropped and its tables moved only
    # after their kind was used, and a stage relation keeps its kind until it is published.
    kinds = warehouse.relation_kinds([*prods, *(item.stage for item in staged)])
    existing = [r for r in prods if kinds[r]]
    warehouse.lock_for_swap([*existing, *(item.stage for item in staged)])
    externals = warehouse.dependent_views(existing)
    # Read before anything moves: afterwards PostgreSQL would print a moved table's rollback name.
    external_sql = warehouse.view_definitions(externals)
    # A staged view is recreated under its prod name from its text with every staged name replaced by
    # its prod name, not moved: that also renames the names a model wrote into its text from dbt's graph
    # (string literals a PostgreSQL view moved by OID would keep), and DuckDB views bind by name.
    renames = {item.stage: item.prod for item in staged}
    staged_views = [item for item in staged if kinds[item.stage] == "view"]
    staged_sql = warehouse.view_definitions([item.stage for item in staged_views])
    view_sql = {item.stage: rename_relations(staged_sql[item.stage], renames) for item in staged_views}
    for stage, sql in view_sql.items():
        if STAGE_SUFFIX in sql:  # a name the rewrite missed: the published view would read the dropped stage
            raise BadInput(f"blue-green: view {stage} still names the stage after renaming its relations: {sql}")
    # A recreated view has no grants or comments of its own: a published view takes those dbt gave its
    # staged one, an outside view those it had; a moved table keeps its own.
    described = warehouse.describe([*existing, *externals, *(item.stage for item in staged_views)])
    for view in reversed(externals):  # deepest dependents first
        warehouse.drop(view, "view")
    for item in reversed(staged):  # the deploy's own views, children first
        if kinds[item.prod] == "view":
            warehouse.drop(item.prod, "view")
    entries = []
    for seq, item in enumerate(staged):
        was = before[item.prod]  # measure_prod measured every prod relation before the stage was built
        slot = None
        if kinds[item.prod] == "table":
            slot = store.slot(deploy_id, seq, item.prod, "b")
            warehouse.move_table(item.prod, slot)
        staged_kind = kinds[item.stage]
        if staged_kind == "table":
            warehouse.move_table(item.stage, item.prod)
        elif staged_kind == "view":
            warehouse.create_view(item.prod, view_sql[item.stage])
        else:
            raise BadInput(f"blue-green: the stage has no relation {item.stage} for {item.unique_id}")
        entries.append(RollbackEntry(deploy_id, seq, item.prod, was.kind, copy=slot, view_sql=was.view_sql,
                                     row_count=was.row_count, checksum=was.checksum,
                                     described=described[item.prod] if kinds[item.prod] else None))
    for item in reversed(staged_views):  # children first
        warehouse.drop(item.stage, "view")
    for offset, view in enumerate(externals, start=len(staged)):
        warehouse.create_view(view, external_sql[view])
        was = before.get(view) or Before("view", external_sql[view])
        entries.append(RollbackEntry(deploy_id, offset, view, "view", external=True, view_sql=external_sql[view],
                                     row_count=was.row_count, checksum=was.checksum, described=described[view]))
    # A published view keeps what prod's schema grants by default, as a view an in-place deploy creates does.
    defaults = warehouse.privileges([item.prod for item in staged_views])
    warehouse.redescribe({
        **{item.prod: ("view", Described(described[item.stage].privileges | defaults[item.prod],
                                         described[item.stage].comments)) for item in staged_views},
        **{view: ("view", described[view]) for view in externals}})
    store.save(*entries)
    faults.reached("publish.swapped", warehouse=warehouse)
    return entries


# -- the deploy -----------------------------------------------------------------------------------
def deploy_blue_green(session: DeploySession) -> DeployResult:
    """Stage, audit, publish: the flow has parsed, planned and gated the deploy, under the deploy lock."""
    context, options, invoker, ledger = session.context, session.options, session.invoker, session.ledger
    parsed, record, result = session.parsed, session.record, session.result
    project = context.project
    schema = context.policy.rollback_schema
    stage = Stage.for_adapter(project.connection.adapter_type, result.plan.relations)
    stage_manifest = staged_manifest(parsed.manifest, result.plan, stage)
    staged = pair(result.plan, stage)
    with tempfile.TemporaryDirectory(prefix="steward-stage-") as scratch:
        # Unselected refs resolve to prod: dbt defers to the manifest prod was parsed into.
        state_dir = options.state
        if state_dir is None:
            state_dir = Path(scratch) / "state"
            state_dir.mkdir()
            shutil.copyfile(parsed.path, state_dir / state.MANIFEST)
        derived = observability_models(result.plan)
        staged_options = replace(options, state=state_dir,
                                 exclude=" ".join(filter(None, [options.exclude, *derived])) or None)
        with opened(project.connection) as warehouse:
            record = admit(context, ledger, warehouse, record)
            record = ledger.write(record.advanced("staging", stage.describe()), warehouse)
            RollbackStore(warehouse, schema).ensure()
            prepare_stage(warehouse, stage, staged, options.full_refresh)
            before = measure_prod(warehouse, [item.prod for item in staged])
        # The runner's connection is closed while dbt builds: DuckDB admits one writer.
        try:
            with environment_overlay(run_context(context, record)):
                outcome = invoker.invoke(["build"], [*build_args(staged_options), "--favor-state"],
                                         manifest=stage_manifest)
        except BaseException as interrupted:
            outcome = DbtOutcome(command="build", success=False, error=f"interrupted: {interrupted!r}")
        result.outcome = outcome
        session.lock.ensure_held()  # a connection dropped during the build takes the lock's session with it
        with opened(project.connection) as warehouse:
            if not outcome.success:
                failure = outcome.failure
                kept = _end_stage(warehouse, stage, keep=options.keep_stage)
                result.record = ledger.write(record.advanced("rejected", f"{failure}; prod untouched"), warehouse)
                mark_withdrawn(context, warehouse, result.record, "rejected", 0, result.warnings)
                raise DbtFailed(f"deploy {record.deploy_id} failed ({failure}); nothing was published, prod is "
                                f"untouched; {kept}; {report_after_failure(context, result, warehouse)}")
            record = ledger.write(record.advanced("publishing"), warehouse)
            store = RollbackStore(warehouse, schema)
            try:
                result.rollback_point = publish(warehouse, store, record.deploy_id, staged, before)
            except ConnectionLost:
                raise  # whether the publish committed is for `steward recover` to find out
            except Exception as exc:
                failure = f"publish failed and was undone: {' '.join(str(exc).split())}"
                forget_row_counts(warehouse, parsed.manifest, record.deploy_id, result.warnings)
                kept = _end_stage(warehouse, stage, keep=options.keep_stage)
                result.record = ledger.write(record.advanced("rejected", f"{failure}; prod untouched"), warehouse)
                mark_withdrawn(context, warehouse, result.record, "rejected", 0, result.warnings)
                raise DbtFailed(f"deploy {record.deploy_id}: {failure}; prod is untouched; {kept}; "
                                f"{report_after_failure(context, result, warehouse)}") from exc
            faults.reached("publish.committed", warehouse=warehouse)
            _end_stage(warehouse, stage, keep=False)
            result.record = record
        # The runner's connection is closed while dbt runs: DuckDB admits one writer. The deploy is published:
        # an interrupt here still gets its report before it is passed on.
        interrupted: BaseException | None = None
        try:
            refresh_observability(invoker, parsed, derived, options, result.warnings)
        except BaseException as exc:
            interrupted = exc
            result.warnings.append(f"the refresh of steward's lineage and scorecard was interrupted ({exc!r})")
        with opened(project.connection) as warehouse:
            conclude(session, warehouse, f"published {len(staged)} relation(s)")
        if interrupted is not None:
            raise interrupted
        return result


def observability_models(plan: Plan) -> list[str]:
    """Selectors of steward's planned lineage and scorecard (package-qualified: a project may have models of
    the same names). Built from the graph and the audit tables, they describe prod, so a blue-green deploy
    builds them in prod once it has published, never in the stage."""
    return [f"package:{node.unique_id.split('.')[1]},{node.unique_id.rsplit('.', 1)[-1]}" for node in plan.nodes
            if node.audit and node.relation is not None and node.materialized != AUDIT_TABLE]


def refresh_observability(invoker: DbtInvoker, parsed: state.ParsedProject, selectors: Sequence[str],
                          options: DeployOptions, warnings: list[str]) -> None:
    """Rebuild lineage and scorecard in prod after a publish. The deploy stands whatever happens here: a
    failure costs a warning and leaves them as of the previous run. Not recorded as a run of its own: the
    stage build already recorded the deploy, and a second, test-less invocation would take a slot of the
    scorecard's window."""
    if not selectors:
        return
    try:
        with environment_overlay({"STEWARD_RECORD_RUNS": "false"}):
            # --no-write-json: the deploy's report reads the stage build's run_results.json, which this run
            # would otherwise replace.
            outcome = invoker.invoke(["run"], ["--select", " ".join(selectors), "--no-write-json",
                                               *vars_args(options)], manifest=parsed.manifest,
                                     step="refreshing steward's lineage and scorecard in prod after the publish")
    except Exception as exc:
        outcome = DbtOutcome(command="run", success=False, error=" ".join(str(exc).split()))
    if not outcome.success:
        failure = outcome.failure
        warnings.append(f"steward's lineage and scorecard were not refreshed after the publish ({failure}); they "
                        f"describe the previous run until the next one")


def _end_stage(warehouse: Warehouse, stage: Stage, keep: bool) -> str:
    if keep:
        return f"stage kept: {stage.describe()} (--keep-stage)"
    stage.clear(warehouse)
    return "stage dropped (keep it with --keep-stage)"
