"""DuckDB: views read from duckdb_views(), comments from its catalog functions, tables renamed within a schema."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from steward.errors import BadInput
from steward.warehouse.base import Comments, Relation, Warehouse, comments_from_rows, kind_of


class DuckDBWarehouse(Warehouse):
    adapter_type = "duckdb"
    param = "?"
    verified = "counts, checksums and comments"  # DuckDB has no owners or grants

    @staticmethod
    def lock_file_base(settings: Mapping[str, Any]) -> str | None:
        path = str(settings.get("path") or "")
        return path if path and path != ":memory:" else None

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        result = self.raw.execute(sql, list(params)) if params else self.raw.execute(sql)
        return result.fetchall() if result.description else []

    def relation_kinds(self, relations: Sequence[Relation]) -> dict[Relation, str | None]:
        # The wanted (schema, name) pairs joined as two lists: DuckDB filtering the catalog by a list of names
        # (IN, list_contains) took 0.14 s at 200 names against 7 ms for this, and a deploy asks several times.
        if not relations:
            return {}
        rows = self.query(
            "select t.table_schema, t.table_name, t.table_type from information_schema.tables t "
            "join (select unnest(?) as wanted_schema, unnest(?) as wanted_name) w "
            "on t.table_schema = w.wanted_schema and t.table_name = w.wanted_name "
            "where t.table_catalog = current_database()",
            [[r.schema for r in relations], [r.name for r in relations]],
        )
        found = {Relation(str(schema), str(name)): kind_of(table_type) for schema, name, table_type in rows}
        return {relation: found.get(relation) for relation in relations}

    def view_definitions(self, views: Sequence[Relation]) -> dict[Relation, str]:
        schemas = sorted({r.schema for r in views})
        if not schemas:
            return {}
        names = sorted({r.name for r in views})
        rows = self.query(
            "select schema_name, view_name, sql from duckdb_views() where database_name = current_database() "
            f"and schema_name in ({', '.join(['?'] * len(schemas))}) "
            f"and view_name in ({', '.join(['?'] * len(names))}) and not internal",
            [*schemas, *names],
        )
        found = {Relation(str(schema), str(name)): str(sql or "") for schema, name, sql in rows}
        definitions = {}
        for view in views:
            # duckdb_views() returns the whole CREATE VIEW statement; keep what follows the first AS.
            match = re.match(r"(?is)^\s*create\s+(?:or\s+replace\s+)?view\s+.+?\s+as\s+(.*?);?\s*$",
                             found.get(view, ""))
            if not match:
                raise BadInput(f"rollback: cannot read the definition of view {view}")
            definitions[view] = match.group(1)
        return definitions

    def comments(self, relations: Sequence[Relation]) -> dict[Relation, Comments]:
        schemas = sorted({r.schema for r in relations})
        if not schemas:
            return {}
        within = (f"database_name = current_database() and schema_name in ({', '.join(['?'] * len(schemas))}) "
                  "and not internal and comment is not null")
        return comments_from_rows(relations, self.query(
            f"select schema_name, table_name, null, comment, -1 from duckdb_tables() where {within} "
            f"union all select schema_name, view_name, null, comment, -1 from duckdb_views() where {within} "
            f"union all select schema_name, table_name, column_name, comment, column_index from duckdb_columns() "
            f"where {within} order by 1, 2, 5", schemas * 3))

    def move_table(self, source: Relation, destination: Relation) -> None:
        if source.schema != destination.schema:
            raise BadInput("DuckDB cannot move a table between schemas")
        self.execute(f"alter table {self.qualified(source)} rename to {self.quote(destination.name)}")

    def row_checksum_sql(self, alias: str) -> str:
        return f"coalesce(sum(('0x' || substr(md5(cast({alias} as varchar)), 1, 12))::ubigint), 0)"

    def columns(self, relation: Relation) -> list[tuple[str, str]]:
        if self.relation_kind(relation) is None:
            return []
        return [(str(row[0]), str(row[1]).lower()) for row in self.query(f"describe {self.qualified(relation)}")]

    def query_columns(self, select_sql: str) -> list[tuple[str, str]]:
        # DESCRIBE of a query plans it and reports its result types without reading a row.
        return [(str(row[0]), str(row[1]).lower()) for row in self.query(f"describe {select_sql}")]
