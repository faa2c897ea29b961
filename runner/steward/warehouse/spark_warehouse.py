"""Apache Spark (dbt-spark): a catalog read through SHOW and DESCRIBE commands, no transactions, and tables
(parquet, by default) that take INSERT INTO and INSERT OVERWRITE but no DELETE or UPDATE.

What follows for the runner, and is said in `steward env` and the README:
- no transaction: a rollback point and a restore are a sequence of statements, each a metadata rename where
  it can be; a restore interrupted half-way is finished by `steward recover` (every step can be repeated), but
  a reader may see a mix of old and new tables while it runs;
- tables move only within their schema (ALTER TABLE ... RENAME TO refuses another database), so a copy sits
  beside its relation, as on DuckDB;
- views bind by name, so no view outside a deploy needs recreating; Spark keeps no grants (without an
  external authoriser) and steward keeps no comments here: a copy made with CREATE TABLE LIKE carries the
  column comments itself;
- steward's own bookkeeping tables are small, so the DELETE and UPDATE the shared code issues on them are
  run here as a read of the rows to keep and an INSERT OVERWRITE of them (`_rewrite`), never on a model.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

from steward.errors import BadInput
from steward.warehouse.base import Relation, Warehouse

# DELETE and UPDATE statements as the runner's bookkeeping writes them (see _rewrite).
_DELETE = re.compile(r"(?is)^\s*delete\s+from\s+(?P<table>\S+)\s+where\s+(?P<where>.+)$")
_UPDATE = re.compile(
    r"(?is)^\s*update\s+(?P<table>\S+)\s+set\s+(?P<column>\w+)\s*=\s*(?P<value>.+?)\s+where\s+(?P<where>.+)$")
_CREATE_TABLE = re.compile(r"(?is)^\s*create\s+table\b")

# Table formats a session only has through an extension: the extension and the catalog to configure.
TABLE_FORMATS = {
    "delta": ("io.delta.sql.DeltaSparkSessionExtension", "org.apache.spark.sql.delta.catalog.DeltaCatalog"),
    "iceberg": ("org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions",
                "org.apache.iceberg.spark.SparkSessionCatalog"),
    "hudi": ("org.apache.spark.sql.hudi.HoodieSparkSessionExtension",
             "org.apache.spark.sql.hudi.catalog.HoodieCatalog"),
}


class SparkWarehouse(Warehouse):
    adapter_type = "spark"
    param = "?"
    # What `steward env` says a restore is: a sequence of renames, not one transaction.
    transactional = False
    verified = "counts and checksums"  # no grants, and steward keeps no comments here
    unsupported: ClassVar[Mapping[str, str]] = {
        "blue-green": "not supported on spark (no transaction to publish in); use --strategy in-place",
        "backfill": "not supported on spark (its tables take no DELETE of a window); rebuild the window "
                    "with dbt's insert_overwrite by partition",
    }

    # -- plumbing -------------------------------------------------------------------------------
    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        sql = self.bind(sql, params)
        rewritten = self._rewrite(sql)
        if rewritten is not None:
            return rewritten
        if _CREATE_TABLE.match(sql):
            # The bookkeeping DDL is written in the common subset; Spark spells `text` as string and keeps
            # no primary keys.
            sql = re.sub(r"(?i)\btext\b", "string", re.sub(r"(?i)\s+primary\s+key\b", "", sql))
        cursor = self.raw.cursor()
        try:
            cursor.execute(sql)
            rows = cursor.fetchall() if cursor.description else []
        finally:
            cursor.close()
        return [tuple(row) for row in rows or []]

    def bind(self, sql: str, params: Sequence[Any]) -> str:
        """`sql` with each `?` replaced by the next parameter as a literal: Spark's session and thrift
        clients have no common binding, and the runner's statements hold no `?` of their own."""
        if not params:
            return sql
        pieces = sql.split("?")
        if len(pieces) != len(params) + 1:
            raise ValueError(f"{len(params)} parameters for {len(pieces) - 1} placeholders")
        values = iter(params)
        return "".join(piece if position == 0 else self.value_literal(next(values)) + piece
                       for position, piece in enumerate(pieces))

    def value_literal(self, value: Any) -> str:
        if value is None:
            return "null"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float, Decimal)):
            return str(value)
        return self.literal(str(value))

    def literal(self, text: str | None) -> str:
        # Spark reads backslash escapes in string literals.
        return "null" if text is None else "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"

    def _rewrite(self, sql: str) -> list[tuple[Any, ...]] | None:
        """DELETE or UPDATE on one of steward's small bookkeeping tables, which Spark's tables do not take: the
        rows to keep are read, then written back with INSERT OVERWRITE (a table cannot be overwritten from a
        query reading it). None for any other statement."""
        delete, update = _DELETE.match(sql), _UPDATE.match(sql)
        if delete is None and update is None:
            return None
        match = delete or update
        assert match is not None
        table, where = match["table"], match["where"]
        if delete is not None:
            kept = self.query(f"select * from {table} where not coalesce(({where}), false)")
        else:
            columns = [name for name, _ in self._describe(table)]
            chosen = [f"case when coalesce(({where}), false) then {update['value']} else {self.quote(column)} end"
                      if column == update["column"] else self.quote(column) for column in columns]
            kept = self.query(f"select {', '.join(chosen)} from {table}")
        if kept:
            values = ", ".join("(" + ", ".join(self.value_literal(v) for v in row) + ")" for row in kept)
            self.query(f"insert overwrite table {table} values {values}")
        else:
            self.query(f"truncate table {table}")
        return []

    # No transactions: each statement stands on its own (see the module's docstring).
    def begin(self) -> None:
        pass

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass

    def close(self) -> None:
        # In session mode the connection is this process's SparkSession, which dbt shares: it stays up until
        # the process exits (a stopped session cannot be started again in the same JVM with its settings).
        self.raw.close()

    @staticmethod
    def quote(identifier: str) -> str:
        return "`" + identifier.replace("`", "``") + "`"

    # -- catalog --------------------------------------------------------------------------------
    def _listing(self, schema: str) -> dict[str, str]:
        """name -> 'table' or 'view' of every relation in `schema`; empty when the schema does not exist."""
        if not self.query(f"show schemas like {self.literal(schema)}"):
            return {}
        views = {str(row[1]) for row in self.query(f"show views in {self.quote(schema)}") if not row[2]}
        tables = [str(row[1]) for row in self.query(f"show tables in {self.quote(schema)}") if not row[2]]
        return {name: "view" if name in views else "table" for name in tables}

    def relation_kinds(self, relations: Sequence[Relation]) -> dict[Relation, str | None]:
        listings = {schema: self._listing(schema) for schema in sorted({r.schema for r in relations})}
        return {relation: listings[relation.schema].get(relation.name.lower()) for relation in relations}

    def relations_ending(self, schema: str, suffix: str) -> list[tuple[Relation, str]]:
        found = [(Relation(schema, name), kind) for name, kind in sorted(self._listing(schema).items())
                 if name.endswith(suffix.lower())]
        return sorted(found, key=lambda item: item[1] != "view")

    def _described(self, relation: Relation) -> dict[str, str]:
        """The 'Detailed Table Information' part of DESCRIBE TABLE EXTENDED."""
        rows = self.query(f"describe table extended {self.qualified(relation)}")
        return {str(row[0]): str(row[1]) for row in rows if row[0]}

    def _describe(self, table: str) -> list[tuple[str, str]]:
        columns: list[tuple[str, str]] = []
        for row in self.query(f"describe {table}"):
            name = str(row[0] or "")
            if not name or name.startswith("#"):
                break  # partition and detail sections follow the columns
            columns.append((name, str(row[1]).lower()))
        return columns

    def view_definition(self, relation: Relation) -> str:
        text = self._described(relation).get("View Text")
        if not text:
            raise BadInput(f"rollback: cannot read the definition of view {relation}")
        return text

    def view_definitions(self, views: Sequence[Relation]) -> dict[Relation, str]:
        # Spark has no catalog of view texts to read in one query: DESCRIBE each.
        return {view: self.view_definition(view) for view in views}

    def ensure_schema(self, schema: str) -> None:
        self.execute(f"create schema if not exists {self.quote(schema)}")

    def copy_table(self, source: Relation, copy: Relation) -> None:
        # LIKE keeps the table's format, partitioning, properties and column comments, which CTAS would not.
        self.execute(f"create table {self.qualified(copy)} like {self.qualified(source)}")
        self.execute(f"insert into {self.qualified(copy)} select * from {self.qualified(source)}")

    def move_table(self, source: Relation, destination: Relation) -> None:
        if source.schema != destination.schema:
            raise BadInput("Spark cannot move a table between schemas")
        self.execute(f"alter table {self.qualified(source)} rename to {self.qualified(destination)}")

    def drop(self, relation: Relation, kind: str) -> None:
        self.execute(f"drop {'view' if kind == 'view' else 'table'} if exists {self.qualified(relation)}")

    def row_checksum_sql(self, alias: str) -> str:
        # A decimal sum: Spark's sum of bigint would wrap past 2^63.
        return (f"coalesce(sum(cast(conv(substr(md5(to_json(struct({alias}.*))), 1, 12), 16, 10) "
                "as decimal(38, 0))), 0)")

    def fingerprints(self, relations: Sequence[Relation]) -> dict[Relation, tuple[int, str]]:
        measured = super().fingerprints(relations)
        # The decimal sum reads back as Decimal('123'): the same text as the other adapters' integers.
        return {relation: (count, str(int(Decimal(checksum)))) for relation, (count, checksum) in measured.items()}

    def columns(self, relation: Relation) -> list[tuple[str, str]]:
        if self.relation_kind(relation) is None:
            return []
        return self._describe(self.qualified(relation))

    def query_columns(self, select_sql: str) -> list[tuple[str, str]]:
        # Spark types a query's result while planning it; LIMIT 0 reads no row.
        cursor = self.raw.cursor()
        try:
            cursor.execute(f"select * from ({select_sql}) as stw_column_probe limit 0")
            return [(str(column[0]), str(column[1]).lower()) for column in cursor.description]
        finally:
            cursor.close()

    @classmethod
    def guarantees(cls) -> dict[str, str]:
        return {
            "rollback_point": "a copy of each touched table, one after another (Spark has no transactions): "
                              "do not write to them from elsewhere during a deploy",
            "restore": "renames one table at a time, no transaction: a reader may see old and new tables mixed "
                       "while it runs; an interrupted restore is finished by steward recover; counts and "
                       "checksums are verified after",
            "blue_green": cls.unsupported["blue-green"],
            "backfill": cls.unsupported["backfill"],
            "lock": "a file lock beside the session's warehouse directory: it holds against deploys from this "
                    "machine only (thrift/http: from this machine)",
            "grants_and_comments": "not kept: Spark keeps no grants; a copy made with CREATE TABLE LIKE carries "
                                   "its column comments",
        }

    @classmethod
    def refuse_unbuildable(cls, name: str, config: Mapping[str, Any], settings: Mapping[str, Any]) -> None:
        file_format = str(config.get("file_format") or "").lower()
        if file_format not in TABLE_FORMATS or settings.get("method") != "session":
            return  # a cluster's own configuration decides there, and the profile does not show it
        extension, catalog = TABLE_FORMATS[file_format]
        parameters = settings.get("server_side_parameters") or {}
        if extension not in str(parameters.get("spark.sql.extensions") or ""):
            raise BadInput(
                f"{name}: file_format '{file_format}' needs {file_format} in the Spark session; set the target's "
                f"server_side_parameters spark.sql.extensions: {extension} and spark.sql.catalog.spark_catalog: "
                f"{catalog}, with the {file_format} jars on the session's classpath (spark.jars), or build it "
                "as parquet")

    @staticmethod
    def lock_file_base(settings: Mapping[str, Any]) -> str | None:
        """The session's warehouse directory: two processes building into it contend for its lock."""
        parameters = settings.get("server_side_parameters") or {}
        directory = parameters.get("spark.sql.warehouse.dir")
        return str(Path(str(directory).removeprefix("file:"))) if directory else None
