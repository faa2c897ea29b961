"""What a guarded deploy costs over a plain build, and whether that cost grows with the project.

Per adapter and project size (generated projects of N models: one seed, then layers of ten models, six tables
and four views, each reading two tables of the layer before; a not_null test on every fourth model), each in a
temp dir with its own profile and rollback schema: `dbt deps`, one warm-up of each command, then R rounds of

  * `dbt build`                              (plain: what a project without steward's runner runs)
  * `dbt build` with STEWARD_RECORD_RUNS=true (the same warehouse work as the deploy's build: run recording on)
  * `steward deploy`                          (dev target: lock, rollback point, recorded build, reports)

each a subprocess timed by wall clock and by CPU time, in a rotating order. The targets (issue #16):

  * steward / recorded build  <= 1.10x at every size: the runner's own overhead;
  * steward / plain build     <= 1.05x at the largest size, and the extra seconds over the plain build at
    the largest size at most 1.5x the extra seconds at the smallest: a fixed cost, not one that grows.

`--profile` runs one more deploy of the largest project in-process under cProfile and prints where the
runner's time goes (parse, plan, rollback point, build, reports, ...).

    .venv/bin/python bench/runner_overhead.py [--adapter duckdb|postgres|both] [--models 20 200] [--rounds 3]
        [--profile]
"""

from __future__ import annotations

import cProfile
import os
import pstats
import time
from pathlib import Path
from typing import Any

import yaml
from _common import (
    BIN,
    REPO_ROOT,
    footer,
    header,
    median,
    parser,
    pg_settings,
    ratio,
    run,
    run_measured,
    sandbox,
    spread,
    table,
)
from _common import adapters as chosen_adapters

RECORDED_TARGET = 1.10
PLAIN_TARGET = 1.05
GROWTH_TARGET = 1.5
COMMANDS = ("plain", "recorded", "steward")
SEED_ROWS = 200
# Positions in each layer of ten that are tables; the other four are views.
TABLE_POSITIONS = (0, 2, 4, 5, 7, 9)
# Phases of a deploy, as cProfile names the functions that run them: (label, file suffix, function name).
PHASES = (
    ("dbt parse", "dbt/invocation.py", "parse"),
    ("plan (dbt ls)", "dbt/plan.py", "make_plan"),
    ("change gate", "changes/classify.py", "gate"),
    ("rollback point", "warehouse/rollback.py", "create"),
    ("dbt build", "dbt/invocation.py", "invoke"),
    ("journal writes", "deploy/ledger.py", "write"),
    ("keep state", "changes/state.py", "keep"),
    ("prune expired points", "deploy/flow.py", "prune_expired"),
    ("reports", "deploy/reporting.py", "write_reports"),
    ("deploy, in all", "deploy/__init__.py", "deploy"),
)


# -- the generated project -----------------------------------------------------------------------------
def generate_project(directory: Path, adapter: str, prefix: str, models: int) -> Path:
    """A dbt project of one seed and `models` models in layers of ten; returns its directory."""
    project = directory / f"gen{models}"
    (project / "models").mkdir(parents=True)
    (project / "seeds").mkdir()
    (project / "dbt_project.yml").write_text(yaml.safe_dump({
        "name": "overhead", "version": "1.0.0", "config-version": 2, "profile": "overhead",
        "seeds": {"overhead": {"+column_types": {"id": "bigint", "amount": "numeric(12,2)"}}}}))
    (project / "packages.yml").write_text(yaml.safe_dump({"packages": [{"local": str(REPO_ROOT)}]}))
    rows = "\n".join(f"{i},{(i * 7919) % 10000 / 100:.2f},group_{i % 7}" for i in range(1, SEED_ROWS + 1))
    (project / "seeds" / "raw_items.csv").write_text(f"id,amount,label\n{rows}\n")
    tests: list[dict[str, Any]] = []
    for number in range(models):
        name = f"m{number:03d}"
        layer = number // 10
        if layer == 0:
            parents = ["raw_items"]
        else:
            # Parents are tables of the layer before, so a view never reads a view: views over views
            # nest their SQL, and twenty layers of that made the warehouse's planning, not the runner,
            # the cost that grew with the project (a plain build of 200 models took minutes on DuckDB).
            first = (layer - 1) * 10
            parents = [f"m{first + TABLE_POSITIONS[number % 6]:03d}",
                       f"m{first + TABLE_POSITIONS[(number + 3) % 6]:03d}"]
        materialized = "view" if number % 10 not in TABLE_POSITIONS else "table"
        selects = " union all ".join(
            f"select id, amount + {number} as amount, label from {{{{ ref('{parent}') }}}}" for parent in parents)
        (project / "models" / f"{name}.sql").write_text(
            f"{{{{ config(materialized='{materialized}') }}}}\nselect id, sum(amount) as amount, min(label) as label\n"
            f"from ({selects}) as parents\ngroup by id\n")
        if number % 4 == 0:
            tests.append({"name": name, "columns": [{"name": "id", "data_tests": ["not_null"]}]})
    (project / "models" / "schema.yml").write_text(yaml.safe_dump({"version": 2, "models": tests}))
    schema = f"{prefix}_gen{models}"
    if adapter == "duckdb":
        output: dict[str, Any] = {"type": "duckdb", "path": str(project / "gen.duckdb"), "schema": "main"}
    else:
        settings = pg_settings(schema)
        output = {"type": "postgres", "host": settings["host"], "port": settings["port"], "user": settings["user"],
                  "password": settings["password"], "dbname": settings["database"], "schema": schema}
    output["threads"] = 1
    (project / "profiles.yml").write_text(yaml.safe_dump(
        {"overhead": {"target": "bench", "outputs": {"bench": output}}}))
    (project / "steward.yml").write_text(yaml.safe_dump({"version": 1, "rollback": {"schema": f"{schema}_rollback"}}))
    return project


def project_args(project: Path) -> list[str]:
    return ["--project-dir", str(project), "--profiles-dir", str(project), "--target", "bench"]


def command_of(name: str, project: Path) -> tuple[list[str], dict[str, str]]:
    args = project_args(project)
    if name == "steward":
        return [str(BIN / "steward"), "deploy", *args], {}
    return [str(BIN / "dbt"), "build", *args], {"STEWARD_RECORD_RUNS": "true" if name == "recorded" else "false"}


# -- measuring -------------------------------------------------------------------------------------------
def measure(adapter: str, models: int, rounds: int, prefix: str, directory: Path) -> dict[str, Any]:
    project = generate_project(directory, adapter, prefix, models)
    run([str(BIN / "dbt"), "deps", *project_args(project)], project)
    for name in COMMANDS:  # warm-up: the first build of each kind pays the full parse and creates every relation
        command, env = command_of(name, project)
        run(command, project, env)
    wall: dict[str, list[float]] = {name: [] for name in COMMANDS}
    cpu: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for number in range(rounds):
        order = COMMANDS[number % 3:] + COMMANDS[:number % 3]  # rotate, so no command always runs first
        for name in order:
            command, env = command_of(name, project)
            seconds, cpu_seconds = run_measured(command, project, env)
            wall[name].append(seconds)
            cpu[name].append(cpu_seconds)
        print(f"[{adapter} {models} models] round {number + 1}: "
              + ", ".join(f"{name} {wall[name][-1]:.2f} s" for name in COMMANDS), flush=True)
    return {"adapter": adapter, "models": models, "wall": wall, "cpu": cpu, "project": project}


def profile_deploy(project: Path) -> list[list[Any]]:
    """One deploy in this process under cProfile; the cumulative seconds of each phase."""
    from click.testing import CliRunner

    from steward.cli import main

    profiler = cProfile.Profile()
    previous = Path.cwd()
    os.chdir(project)
    try:
        profiler.enable()
        result = CliRunner().invoke(main, ["deploy", *project_args(project)])
        profiler.disable()
    finally:
        os.chdir(previous)
    if result.exit_code != 0:
        raise RuntimeError(f"profiled deploy exited {result.exit_code}: {result.output[-2000:]}")
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    total = sum(timing[3] for (path, _, function), timing in stats.items()
                if path.endswith("deploy/__init__.py") and function == "deploy")
    rows = []
    for label, suffix, function in PHASES:
        matching = [timing for (path, _, name), timing in stats.items() if path.endswith(suffix) and name == function]
        seconds, calls = sum(timing[3] for timing in matching), sum(timing[1] for timing in matching)
        rows.append([label, calls, seconds, f"{100 * seconds / total:.1f}%" if total else "-"])
    return rows


def overhead(result: dict[str, Any], baseline: str) -> float:
    return median(result["wall"]["steward"]) - median(result["wall"][baseline])


def main() -> None:
    started = time.perf_counter()
    cli = parser(__doc__.split("\n\n")[0])
    cli.add_argument("--models", type=int, nargs="+", default=[20, 200], help="project sizes, smallest first")
    cli.add_argument("--rounds", type=int, default=3, help="rounds of the three commands per size")
    cli.add_argument("--profile", action="store_true", help="profile one deploy of the largest project")
    options = cli.parse_args()
    sizes = sorted(options.models)
    adapter_list = chosen_adapters(options.adapter)
    header("runner overhead: steward deploy vs dbt build on generated projects", adapter_list,
           f"models={sizes} rounds={options.rounds} threads=1; wall clock of each subprocess; targets: "
           f"steward/recorded <= {RECORDED_TARGET:.2f}x, steward/plain <= {PLAIN_TARGET:.2f}x at {sizes[-1]} models, "
           f"extra s at {sizes[-1]} <= {GROWTH_TARGET}x extra s at {sizes[0]}")
    results: list[dict[str, Any]] = []
    profiles: dict[str, list[list[Any]]] = {}
    for adapter in adapter_list:
        with sandbox(f"overhead_{adapter}") as (prefix, directory):
            for models in sizes:
                results.append(measure(adapter, models, options.rounds, prefix, directory))
            if options.profile:
                profiles[adapter] = profile_deploy(results[-1]["project"])

    print()
    print("Wall clock, medians of the rounds (s):")
    print(table(
        ["adapter", "models", "dbt build", "recorded build", "steward deploy", "steward/plain", "extra s (plain)",
         "steward/recorded", "extra s (recorded)", "steward min-max", "plain min-max"],
        [[r["adapter"], r["models"], median(r["wall"]["plain"]), median(r["wall"]["recorded"]),
          median(r["wall"]["steward"]), ratio(median(r["wall"]["steward"]), median(r["wall"]["plain"]), 3),
          overhead(r, "plain"), ratio(median(r["wall"]["steward"]), median(r["wall"]["recorded"]), 3),
          overhead(r, "recorded"), spread(r["wall"]["steward"]), spread(r["wall"]["plain"])] for r in results]))
    print()
    print("CPU time of each subprocess, medians (s; leaves out the PostgreSQL server's own work):")
    print(table(
        ["adapter", "models", "dbt build", "recorded build", "steward deploy", "steward/plain", "steward/recorded"],
        [[r["adapter"], r["models"], median(r["cpu"]["plain"]), median(r["cpu"]["recorded"]),
          median(r["cpu"]["steward"]), ratio(median(r["cpu"]["steward"]), median(r["cpu"]["plain"]), 3),
          ratio(median(r["cpu"]["steward"]), median(r["cpu"]["recorded"]), 3)] for r in results]))
    print()
    print("Verdicts:")
    verdicts = []
    for adapter in adapter_list:
        mine = [r for r in results if r["adapter"] == adapter]
        small, large = mine[0], mine[-1]
        for r in mine:
            value = median(r["wall"]["steward"]) / median(r["wall"]["recorded"])
            verdicts.append([adapter, f"steward/recorded at {r['models']} models", f"{value:.3f}x",
                             f"<= {RECORDED_TARGET:.2f}x", "met" if value <= RECORDED_TARGET else "NOT met"])
        value = median(large["wall"]["steward"]) / median(large["wall"]["plain"])
        verdicts.append([adapter, f"steward/plain at {large['models']} models", f"{value:.3f}x",
                         f"<= {PLAIN_TARGET:.2f}x", "met" if value <= PLAIN_TARGET else "NOT met"])
        growth = overhead(large, "plain") / overhead(small, "plain") if overhead(small, "plain") > 0 else float("inf")
        verdicts.append([adapter, f"extra s at {large['models']} / at {small['models']} models",
                         f"{overhead(large, 'plain'):.2f} / {overhead(small, 'plain'):.2f} = {growth:.2f}x",
                         f"<= {GROWTH_TARGET:.1f}x", "met" if growth <= GROWTH_TARGET else "NOT met"])
    print(table(["adapter", "figure", "measured", "target", "verdict"], verdicts))
    for adapter, rows in profiles.items():
        print()
        print(f"Where a deploy's time goes, {adapter}, {sizes[-1]} models (one in-process deploy under cProfile, "
              "cumulative seconds; phases nest: 'dbt build' includes the run recording):")
        print(table(["phase", "calls", "seconds", "share of the deploy"], rows))
    footer(started)


if __name__ == "__main__":
    main()
