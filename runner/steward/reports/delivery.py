"""The closing line of a deploy, and the small formatting rules every renderer shares."""

from __future__ import annotations

from steward.reports.model import NOT_RUN_STATUSES, Built, Report


def duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f}s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest:02d}s" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}m"


def score_text(score: float | None) -> str:
    return "n/a" if score is None else f"{score:g}/100"


def tests_passed(report: Report) -> tuple[int, int]:
    tests = [t for t in report.tests if t.status not in NOT_RUN_STATUSES]
    return sum(1 for t in tests if t.status == "pass"), len(tests)


def counted(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def built_text(built: Built) -> str:
    """'12 nodes: 7 models, 4 seeds, 1 snapshot, plus 8 of package steward'."""
    kinds = ", ".join(counted(count, noun) for count, noun in
                      ((built.models, "model"), (built.seeds, "seed"), (built.snapshots, "snapshot")) if count)
    packages = ", ".join(f"{count} of package {name}" for name, count in built.packages.items())
    return counted(built.nodes, "node") + (f": {kinds}" if kinds else "") + (f", plus {packages}" if packages else "")


def closing_line(report: Report) -> str:
    """'Deployed 12 nodes: 7 models, 4 seeds, 1 snapshot, plus 8 of package steward (M rows) to <target> in T;
    tests P/Q passed; quality score S; rollback point kept until D.'"""
    passed, total = tests_passed(report)
    deploy = report.deploy
    kept = deploy.kept_until if deploy and deploy.kept_until else "n/a"
    if deploy is None or deploy.status == "succeeded":
        return (f"Deployed {built_text(report.built())} ({report.rows} rows) to {report.target} in "
                f"{duration(report.elapsed_seconds)}; tests {passed}/{total} passed; quality score "
                f"{score_text(report.scorecard.score)}; rollback point kept until {kept}.")
    restored = sum(1 for r in deploy.relations if r.restored)
    outcome = {"rolled_back": f"{restored} relation(s) restored and verified",
               "failed": "left as built (--no-rollback)",
               "rejected": "nothing published, prod untouched (blue-green)",
               "rollback_failed": "the rollback needs attention"}.get(deploy.status, deploy.status)
    return (f"Deploy {deploy.deploy_id} to {report.target} failed after {duration(report.elapsed_seconds)}: "
            f"tests {passed}/{total} passed; {outcome}; quality score {score_text(report.scorecard.score)}; "
            f"rollback point kept until {kept}.")
