"""steward's modelling macros (dedupe, incremental_window, surrogate_key, date_spine,
date_dimension, with_unknown_member, member_key) built by integration_tests on real
DuckDB and PostgreSQL, checked against expected-output seeds and, where the expectation
is computed, against Python."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from decimal import Decimal

import pytest
from harness import REPO_ROOT, dbt_error_text

SEEDS = REPO_ROOT / "integration_tests" / "seeds" / "modelling"

DATE_DIMENSION_COLUMNS = (
    "date_day", "date_key", "year", "quarter", "month", "month_name", "day_of_month", "day_of_week",
    "day_of_week_name", "is_weekend", "iso_week", "iso_year", "week_start", "month_start", "quarter_start",
    "year_start", "fiscal_year", "fiscal_quarter",
)
SK_COLUMNS = ("int_col", "big_col", "text_col", "date_col", "ts_col", "bool_col", "num_col")


# --- the expectations, computed in Python -------------------------------------------------------

def canonical_text(value: object) -> str | None:
    """What steward.surrogate_key_text makes of a value, on every adapter."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        text = value.strftime("%Y-%m-%d %H:%M:%S")
        return text + ("." + f"{value.microsecond:06d}".rstrip("0") if value.microsecond else "")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)


def surrogate_key(values: list[object]) -> str:
    """steward.surrogate_key: `<length>:<text>` per value (NULL as `-`), joined by `|`, md5."""
    parts = ["-" if (t := canonical_text(v)) is None else f"{len(t)}:{t}" for v in values]
    return hashlib.md5("|".join(parts).encode("utf-8")).hexdigest()


def sk_input_rows() -> list[dict[str, object]]:
    """modelling_sk_input.csv typed as its seed config types it (`<empty>` stands for '')."""
    parsers = {
        "int_col": int, "big_col": int, "text_col": lambda s: "" if s == "<empty>" else s,
        "date_col": dt.date.fromisoformat, "ts_col": dt.datetime.fromisoformat,
        "bool_col": lambda s: s == "true", "num_col": lambda s: Decimal(s).quantize(Decimal("0.01")),
    }
    with (SEEDS / "modelling_sk_input.csv").open(encoding="utf-8") as handle:
        return [
            {"row_id": int(row["row_id"]),
             **{name: (parsers[name](row[name]) if row[name] != "" else None) for name in SK_COLUMNS}}
            for row in csv.DictReader(handle)
        ]


def expected_surrogate_keys() -> list[tuple[int, str, str, str]]:
    return [
        (row["row_id"],
         surrogate_key([row[c] for c in SK_COLUMNS]),
         surrogate_key([row[c] for c in reversed(SK_COLUMNS)]),
         surrogate_key([row["text_col"]]))
        for row in sk_input_rows()
    ]


def date_dimension_rows(start: dt.date, end: dt.date, fiscal_start: int) -> list[tuple[object, ...]]:
    months = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
              "October", "November", "December"]
    days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    rows = []
    day = start
    while day < end:
        iso_year, iso_week, iso_day = day.isocalendar()
        quarter = (day.month - 1) // 3 + 1
        rows.append((
            day, day.year * 10000 + day.month * 100 + day.day, day.year, quarter, day.month, months[day.month - 1],
            day.day, iso_day, days[iso_day - 1], iso_day >= 6, iso_week, iso_year,
            day - dt.timedelta(days=iso_day - 1), day.replace(day=1), day.replace(month=(quarter - 1) * 3 + 1, day=1),
            day.replace(month=1, day=1),
            day.year + (1 if fiscal_start > 1 and day.month >= fiscal_start else 0),
            (day.month - fiscal_start) % 12 // 3 + 1,
        ))
        day += dt.timedelta(days=1)
    return rows


def write_expected_seeds() -> None:
    """Regenerates the computed expected-output seeds: `python runner/tests/test_modelling_macros.py`."""
    with (SEEDS / "modelling_sk_expected.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["row_id", "key_all", "key_reversed", "key_text"])
        writer.writerows(expected_surrogate_keys())
    for name, start, end, fiscal in (
        ("modelling_date_dimension_expected", dt.date(2020, 12, 25), dt.date(2021, 1, 10), 1),
        ("modelling_date_dimension_fiscal_expected", dt.date(2020, 12, 25), dt.date(2021, 4, 5), 4),
    ):
        with (SEEDS / f"{name}.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(DATE_DIMENSION_COLUMNS)
            writer.writerows(
                [str(v).lower() if isinstance(v, bool) else v for v in row]
                for row in date_dimension_rows(start, end, fiscal))


# --- helpers -------------------------------------------------------------------------------------

def select(project, relation: str, columns: tuple[str, ...] | list[str]) -> list[tuple[object, ...]]:
    """Rows of a relation in the test's schema, in a stable order that tolerates NULLs."""
    rows = project.warehouse.query(
        f"select {', '.join(columns)} from {project.warehouse.schema_prefix}.{relation}")
    return sorted(rows, key=lambda row: [(value is None, str(value)) for value in row])


def column_names(project, relation: str) -> list[str]:
    if project.adapter == "spark":  # no information_schema; DESCRIBE lists the columns, then a blank row
        rows = project.warehouse.query(f"describe {project.warehouse.schema_prefix}.{relation}")
        return [str(row[0]) for row in rows[:next((i for i, r in enumerate(rows) if not r[0]), len(rows))]]
    placeholder = "%s" if project.adapter == "postgres" else "?"
    return [name for (name,) in project.warehouse.query(
        "select column_name from information_schema.columns "
        f"where table_schema = {placeholder} and table_name = {placeholder} order by ordinal_position",
        (project.warehouse.schema_prefix, relation))]


# --- tests ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("model", ["modelling_dedupe_relation", "modelling_dedupe_cte"])
def test_dedupe_keeps_latest_row_per_key_and_null_keys(integration_project, model):
    columns = ("id", "region", "amount", "updated_at", "loaded_at")
    assert column_names(integration_project, model) == list(columns)  # no helper column leaks
    rows = select(integration_project, model, columns)
    assert rows == select(integration_project, "modelling_dedupe_expected", columns)
    survivors = {row[2] for row in rows}
    assert {13, 14, 15} <= survivors  # NULL region, NULL id, both NULL: each its own partition, never dropped
    assert 17 in survivors and 16 not in survivors  # a NULL updated_at loses on every adapter (NULLS LAST)
    assert len(rows) == len({(row[0], row[1]) for row in rows}) == 7


def test_dedupe_of_cte_without_columns_fails_clearly(integration_project):
    result = integration_project.dbt(
        "run-operation", "steward.dedupe",
        "--args", "{relation: staged, partition_by: id, order_by: updated_at desc}", expect_success=False)
    assert "'staged' is a CTE name" in dbt_error_text(result)
    assert "columns=" in dbt_error_text(result)


def test_surrogate_keys_equal_python_md5_on_every_adapter(integration_project):
    columns = ("row_id", "key_all", "key_reversed", "key_text")
    built = select(integration_project, "modelling_surrogate_keys", columns)
    python = sorted(expected_surrogate_keys())
    assert select(integration_project, "modelling_sk_expected", columns) == python  # the seed is up to date
    assert built == python
    by_row = {row[0]: row for row in built}
    assert by_row[3][3] != by_row[6][3]  # NULL and '' differ
    assert all(row[1] != row[2] for row in built if row[0] != 3)  # column order matters (row 3 is all NULL)
    assert by_row[3][1] == surrogate_key([None] * len(SK_COLUMNS))  # NULLs never make the key NULL
    # Postgres built the model under DateStyle 'SQL, DMY'; the keys above did not notice.
    probe = integration_project.warehouse.scalar(
        f"select max(date_style_probe) from {integration_project.warehouse.schema_prefix}.modelling_surrogate_keys")
    assert probe == ("25/12/2020" if integration_project.adapter == "postgres" else "2020-12-25")
    assert all(len(key) == 32 and set(key) <= set("0123456789abcdef") for row in built for key in row[1:])


def test_surrogate_key_rejects_sql_in_column_names(integration_project):
    result = integration_project.dbt(
        "run-operation", "steward.surrogate_key",
        "--args", '{columns: ["id", "x) or (1=1"]}', expect_success=False)
    assert "surrogate_key column must be an identifier" in dbt_error_text(result)


def test_date_spine_every_grain(integration_project):
    columns = ("grain", "period_start")
    built = select(integration_project, "modelling_date_spine", columns)
    assert built == select(integration_project, "modelling_date_spine_expected", columns)
    assert not [row for row in built if row[0] == "empty"]  # start == end: no rows
    assert all(isinstance(row[1], dt.date) and not isinstance(row[1], dt.datetime) for row in built)


@pytest.mark.parametrize(("model", "start", "end", "fiscal_start"), [
    ("modelling_date_dimension", dt.date(2020, 12, 25), dt.date(2021, 1, 10), 1),
    ("modelling_date_dimension_fiscal", dt.date(2020, 12, 25), dt.date(2021, 4, 5), 4),
])
def test_date_dimension_matches_expected(integration_project, model, start, end, fiscal_start):
    assert column_names(integration_project, model) == list(DATE_DIMENSION_COLUMNS)
    built = select(integration_project, model, DATE_DIMENSION_COLUMNS)
    assert built == select(integration_project, f"{model}_expected",
                           DATE_DIMENSION_COLUMNS)
    assert built == date_dimension_rows(start, end, fiscal_start)
    week_53 = [row for row in built if row[10] == 53]
    assert [row[0] for row in week_53] == [dt.date(2020, 12, 28) + dt.timedelta(days=n) for n in range(7)]
    assert {row[11] for row in week_53} == {2020}  # 2021-01-01..03 belong to ISO year 2020


def test_unknown_member_and_member_key(integration_project):
    columns = ("customer_id", "customer_name", "segment", "created_on", "credit_limit")
    dimension = select(integration_project, "modelling_dim_customers", columns)
    assert dimension == select(integration_project, "modelling_customers_expected", columns)
    assert [row for row in dimension if row[0] == -1] == [(-1, "unknown", "unknown", None, None)]

    from_cte = select(integration_project, "modelling_dim_customers_cte", columns)
    assert [row for row in from_cte if row[0] == 0] == [(0, "unknown", "n/a", None, None)]
    assert [row for row in from_cte if row[0] != 0] == [row for row in dimension if row[0] != -1]

    schema = integration_project.warehouse.schema_prefix
    facts = integration_project.warehouse.query(
        f"select orders.order_id, orders.customer_key, customers.customer_name "
        f"from {schema}.modelling_fct_orders as orders "
        f"left join {schema}.modelling_dim_customers as customers on orders.customer_key = customers.customer_id "
        f"order by orders.order_id")
    assert facts == select(integration_project, "modelling_orders_expected",
                           ("order_id", "customer_key", "customer_name"))
    assert {row[1] for row in facts if row[0] in (102, 103)} == {-1}  # NULL and missing customer


def test_incremental_window_grace_backfill_and_idempotence(integration_project):
    schema = integration_project.warehouse.schema_prefix

    def contents() -> dict[int, tuple[dt.datetime, str]]:
        """The delete+insert model's rows, after checking the merge model holds the same."""
        tables = {}
        for model in ("modelling_incremental_events", "modelling_incremental_events_merge"):
            rows = integration_project.warehouse.query(f"select event_id, event_time, payload from {schema}.{model}")
            assert len(rows) == len({row[0] for row in rows}), (model, rows)
            tables[model] = {row[0]: (row[1], row[2]) for row in rows}
        assert tables["modelling_incremental_events_merge"] == tables["modelling_incremental_events"]
        return tables["modelling_incremental_events"]

    def event(day: int, payload: str, hour: int = 10) -> tuple[dt.datetime, str]:
        return dt.datetime(2024, 1, day, hour), payload

    # it_arrived_by and the window vars are read when the models compile: one parse serves every run.
    manifest = integration_project.dbt("parse").result

    def run(variables: str) -> None:
        integration_project.dbt("run", "--select", "modelling_incremental_events modelling_incremental_events_merge",
                                "--vars", variables, manifest=manifest)

    # The session's full build: what had arrived by 2024-01-10.
    assert contents() == {n: event(n, "abcdefgh"[n - 1]) for n in range(1, 9)}

    # 2024-01-11 brings a correction (7), a late event within two days of the max (9), one
    # beyond the grace window (10) and a new one (11).
    late = "{it_arrived_by: '2024-01-11'}"
    run(late)
    after = contents()
    assert after == {**{n: event(n, "abcdefgh"[n - 1]) for n in range(1, 9)},
                     7: event(7, "g-corrected"), 9: event(7, "i-late", hour=12), 11: event(9, "k")}

    run(late)  # the same window again changes nothing
    assert contents() == after

    # A backfill of 2024-01-03 through the runner's window vars picks up the too-late event.
    run("{it_arrived_by: '2024-01-11', steward_window_start: '2024-01-03', steward_window_end: '2024-01-04'}")
    assert contents() == {**after, 10: event(3, "j-too-late", hour=12)}



def test_incremental_window_refuses_a_lookback_that_is_not_a_duration(integration_project):
    call = "{{ steward.incremental_window('event_time', '2 fortnights') }}"
    result = integration_project.dbt("compile", "--inline", call, expect_success=False)
    assert ("steward.incremental_window: lookback must be a whole number of days (e.g. 3), a duration such as "
            "90s, 30m, 6h, 3d, 2w or '2 days' (at most 100 years), or a number of months ('1 month'), "
            'got "2 fortnights"') in dbt_error_text(result)

if __name__ == "__main__":
    write_expected_seeds()
