"""What a report says, independent of any format."""

from __future__ import annotations

from dataclasses import dataclass, field

from steward.dbt.invocation import BUILT_TYPES, FAILED_STATUSES, TEST_TYPES

# Tests with these statuses did not run: they count neither as passed nor as failed.
NOT_RUN_STATUSES = frozenset({"skipped", "no-op"})


@dataclass(frozen=True)
class NodeRun:
    """One node of the run, from run_results.json and its manifest entry."""

    unique_id: str
    name: str
    resource_type: str
    status: str
    execution_time: float
    started_at: str | None = None
    completed_at: str | None = None
    package: str | None = None
    materialized: str | None = None
    relation: str | None = None
    rows_affected: int | None = None
    failures: int | None = None
    message: str | None = None
    dimension: str | None = None  # tests only: the quality dimension it measures
    attached_node: str | None = None  # tests only: the model it tests
    failing_rows_query: str | None = None  # tests only: a query returning the failing rows

    @property
    def is_test(self) -> bool:
        return self.resource_type in TEST_TYPES

    @property
    def failed(self) -> bool:
        return self.status in FAILED_STATUSES


@dataclass(frozen=True)
class DimensionScore:
    dimension: str
    tests_run: int
    passed: int
    score: float | None  # 0..100; None when no test ran
    status: str  # pass | warn | fail | none


@dataclass(frozen=True)
class ModelScore:
    model: str
    score: float | None
    status: str


@dataclass(frozen=True)
class Scorecard:
    source: str  # 'steward_quality_scorecard' (the package's table) or 'run_tests' (this run's tests)
    score: float | None
    dimensions: tuple[DimensionScore, ...] = ()
    models: tuple[ModelScore, ...] = ()


@dataclass(frozen=True)
class RelationRecord:
    """One relation of the deploy's rollback point: before, after, and whether it was restored."""

    relation: str
    kind_before: str | None
    external: bool
    row_count_before: int | None
    checksum_before: str | None
    row_count_after: int | None
    checksum_after: str | None
    restored: bool


@dataclass(frozen=True)
class DeployRecordView:
    deploy_id: str
    status: str
    tier: str
    started_at: str
    finished_at: str
    elapsed_seconds: float
    git_branch: str | None
    git_sha: str | None
    selection: str | None
    exclusion: str | None
    full_refresh: bool
    override_reason: str | None
    error: str | None
    warnings: tuple[str, ...]
    rollback_schema: str
    kept_until: str | None
    relations: tuple[RelationRecord, ...]
    mismatches: tuple[str, ...]


@dataclass(frozen=True)
class Built:
    """What a run built, said as what it is: the project's own models, seeds and snapshots, and the nodes of
    installed packages (steward's own audit models among them) apart."""

    models: int = 0
    seeds: int = 0
    snapshots: int = 0
    packages: dict[str, int] = field(default_factory=dict)

    @property
    def nodes(self) -> int:
        return self.models + self.seeds + self.snapshots


@dataclass(frozen=True)
class Report:
    project: str
    target: str
    adapter: str
    dbt_version: str | None
    invocation_id: str | None
    generated_at: str | None  # when dbt wrote run_results.json
    elapsed_seconds: float
    nodes: tuple[NodeRun, ...]
    scorecard: Scorecard
    deploy: DeployRecordView | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def status(self) -> str:
        if self.deploy is not None:
            return self.deploy.status
        return "failed" if any(node.failed for node in self.nodes) else "succeeded"

    @property
    def tests(self) -> tuple[NodeRun, ...]:
        return tuple(node for node in self.nodes if node.is_test)

    @property
    def problem_tests(self) -> tuple[NodeRun, ...]:
        return tuple(node for node in self.tests if node.failed or node.status == "warn")

    @property
    def models_built(self) -> tuple[NodeRun, ...]:
        return tuple(n for n in self.nodes if n.resource_type == "model" and n.status == "success")

    def built(self) -> Built:
        """Nodes built successfully; the project's own are those of its package (or of no known package)."""
        own: dict[str, int] = {}
        packages: dict[str, int] = {}
        for node in self.nodes:
            if node.resource_type not in BUILT_TYPES or node.status != "success":
                continue
            if node.package in (None, self.project):
                own[node.resource_type] = own.get(node.resource_type, 0) + 1
            else:
                packages[node.package] = packages.get(node.package, 0) + 1
        return Built(own.get("model", 0), own.get("seed", 0), own.get("snapshot", 0), dict(sorted(packages.items())))

    @property
    def rows(self) -> int:
        return sum(n.rows_affected or 0 for n in self.nodes if n.resource_type in BUILT_TYPES)

    def counts_by_status(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for node in self.nodes:
            counts[node.status] = counts.get(node.status, 0) + 1
        return dict(sorted(counts.items()))

    def slowest(self, limit: int = 5) -> tuple[NodeRun, ...]:
        return tuple(sorted(self.nodes, key=lambda n: (-n.execution_time, n.unique_id))[:limit])
