"""Input validation: every bad value is refused with one line naming the field."""

from __future__ import annotations

from datetime import timedelta

import pytest

from steward.config import validation
from steward.dbt.plan import target_database
from steward.errors import BadInput


@pytest.mark.parametrize("value", ["orders", "_tmp", "Order_2"])
def test_identifier_accepts_plain_names(value):
    assert validation.identifier(value, "schema") == value


@pytest.mark.parametrize("value", ['x"; drop table t; --', "1abc", "a-b", "", "a b", None, 3])
def test_identifier_refuses_anything_else(value):
    with pytest.raises(BadInput, match=r"^schema: .* is not a valid identifier"):
        validation.identifier(value, "schema")


@pytest.mark.parametrize(("text", "expected"), [("90s", timedelta(seconds=90)), ("15m", timedelta(minutes=15)),
                                                ("12h", timedelta(hours=12)), ("7d", timedelta(days=7)),
                                                ("2w", timedelta(weeks=2)), ("7 days", timedelta(days=7))])
def test_duration_parses_units(text, expected):
    assert validation.duration(text, "retention") == expected


@pytest.mark.parametrize("text", ["7", "0d", "-1d", "7 dayz", "d7", "", "1.5h"])
def test_duration_refuses_malformed(text):
    with pytest.raises(BadInput, match=r"^retention: .* is not a duration"):
        validation.duration(text, "retention")


def test_cron_accepts_five_fields_and_refuses_nonsense():
    assert validation.cron("0 6 * * 1-5", "schedule") == "0 6 * * 1-5"
    for bad in ("every day", "61 * * * *", "* * *", 5):
        with pytest.raises(BadInput, match=r"^schedule: .* is not a valid cron expression"):
            validation.cron(bad, "schedule")


@pytest.mark.parametrize("selection", ["orders", "+fct_orders+", "2+dim_customers", "@stg_orders",
                                       "tag:nightly,config.materialized:table", "path:models/marts",
                                       "state:modified+ source:raw.*", "package:steward"])
def test_selection_accepts_dbt_syntax(selection):
    assert validation.selection(selection, "--select") == selection


@pytest.mark.parametrize("selection", ["orders;drop", "tag:", "bogus:thing", "a,,b", "@2+x", "x'y"])
def test_selection_refuses_malformed(selection):
    with pytest.raises(BadInput, match=r"^--select: "):
        validation.selection(selection, "--select")


def test_vars_must_be_a_yaml_mapping():
    assert validation.cli_vars("{start: '2024-01-01', days: 3}") == {"start": "2024-01-01", "days": 3}
    assert validation.cli_vars(None) == {}
    with pytest.raises(BadInput, match=r"^--vars: not valid YAML"):
        validation.cli_vars("{start: [")
    with pytest.raises(BadInput, match=r"^--vars: must be a YAML mapping"):
        validation.cli_vars("- a\n- b")


def test_connection_shapes(tmp_path):
    validation.connection("postgres", {"host": "db.internal", "port": 5432, "schema": "analytics"}, "prod")
    validation.connection("postgres", {"host": "10.0.0.5", "port": 5432}, "prod")
    validation.connection("duckdb", {"path": str(tmp_path / "w.duckdb"), "schema": "main"}, "dev")
    validation.connection("duckdb", {"path": ":memory:"}, "dev")
    cases = [
        ("postgres", {"host": "bad host!", "port": 5432}, "target prod host"),
        ("postgres", {"host": "db", "port": 70000}, "target prod port"),
        ("postgres", {"host": "db", "port": "5432"}, "target prod port"),
        ("postgres", {"dsn": "mysql://u:secretpw@h/db"}, "target prod dsn"),
        ("duckdb", {"path": str(tmp_path)}, "target prod path"),
        ("duckdb", {"path": str(tmp_path / "missing" / "w.duckdb")}, "target prod path"),
        ("postgres", {"host": "db", "port": 5432, "schema": 'x"; drop'}, "target prod schema"),
    ]
    for adapter, settings, field in cases:
        with pytest.raises(BadInput) as raised:
            validation.connection(adapter, settings, "prod")
        assert str(raised.value).startswith(field), str(raised.value)
        assert "secretpw" not in str(raised.value)


@pytest.mark.parametrize("file_name", ["shop.duckdb", "my.db.duckdb", ".hidden.duckdb", "plain"])
def test_target_database_names_a_duckdb_file_as_duckdb_does(tmp_path, file_name):
    """The database a deploy's models must build into is the one steward's connection opens: the profile's
    `database` (possibly an attached file's alias, which the connection opens as its default catalog), else the
    file as DuckDB names it."""
    import duckdb

    path = tmp_path / file_name
    with duckdb.connect(str(path)) as connection:
        [(name,)] = connection.execute("select current_database()").fetchall()
    assert target_database("duckdb", {"path": str(path)}) == name
    assert target_database("duckdb", {"path": str(path), "database": "attached_alias"}) == "attached_alias"
    assert target_database("duckdb", {"path": ":memory:"}) == "memory"
    assert target_database("duckdb", {"path": "md:analytics"}) == ""  # a service's name: not checked
    assert target_database("postgres", {"database": "warehouse"}) == "warehouse"
