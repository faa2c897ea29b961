"""The runner's own connection to the warehouse, for locks, journal, rollback points and checksums.

dbt builds through its own connections; this one is opened around each phase and closed before
dbt runs, because DuckDB allows a single writer per database file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from steward.errors import BadInput, DeployLocked
from steward.project import Connection
from steward.redact import redact_text

# Relations measured per statement: enough to pay one round trip for many, short enough to stay readable in logs.
FINGERPRINTS_PER_STATEMENT = 50


@dataclass(frozen=True)
class Relation:
    schema: str
    name: str

    def __str__(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True, order=True)
class Privilege:
    """One privilege granted on a relation to a role other than its owner ('public' for everyone)."""

    grantee: str
    privilege: str  # SELECT, INSERT, ...
    grantable: bool = False

    def describe(self) -> str:
        return f"{self.privilege} to {self.grantee}" + (" with grant option" if self.grantable else "")


@dataclass(frozen=True)
class Comments:
    """The comment on a relation and on its columns (dbt's persist_docs writes them)."""

    relation: str | None = None
    columns: tuple[tuple[str, str], ...] = ()  # (column, comment) of every commented column, in column order


@dataclass(frozen=True)
class Described:
    """A relation's grants and comments; None where they were not recorded (left as they are)."""

    privileges: frozenset[Privilege] | None = None
    comments: Comments | None = None


class Warehouse:
    """SQL the runner needs, with the few statements that differ per adapter."""

    adapter_type = "default"
    param = "%s"

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    # -- plumbing -------------------------------------------------------------------------------
    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cursor = self.raw.cursor()
        try:
            cursor.execute(sql, tuple(params) if params else None)
            return list(cursor.fetchall()) if cursor.description else []
        finally:
            cursor.close()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.query(sql, params)

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        rows = self.query(sql, params)
        return rows[0][0] if rows else None

    # The connection autocommits; transaction() opens an explicit block, the same SQL on both adapters.
    def begin(self) -> None:
        self.execute("begin")

    def commit(self) -> None:
        self.execute("commit")

    def rollback(self) -> None:
        self.execute("rollback")

    @contextmanager
    def transaction(self) -> Iterator[Warehouse]:
        """One transaction: readers see everything before it or everything after it."""
        self.begin()
        try:
            yield self
        except BaseException:
            self.rollback()
            raise
        self.commit()

    def close(self) -> None:
        self.raw.close()

    @staticmethod
    def quote(identifier: str) -> str:
        return '"' + identifier.replace('"', '""') + '"'

    def qualified(self, relation: Relation) -> str:
        return f"{self.quote(relation.schema)}.{self.quote(relation.name)}"

    # -- catalog --------------------------------------------------------------------------------
    def relation_kind(self, relation: Relation) -> str | None:
        """'table', 'view', or None when the relation does not exist."""
        return self.relation_kinds([relation])[relation]

    def relation_kinds(self, relations: Sequence[Relation]) -> dict[Relation, str | None]:
        """`relation_kind` of many relations in one catalog query (one statement costs more than its rows)."""
        schemas = sorted({r.schema for r in relations})
        if not schemas:
            return {}
        names = sorted({r.name for r in relations})
        rows = self.query(
            "select table_schema, table_name, table_type from information_schema.tables "
            f"where table_schema in ({', '.join([self.param] * len(schemas))}) "
            f"and table_name in ({', '.join([self.param] * len(names))})",
            [*schemas, *names],
        )
        found = {Relation(str(schema), str(name)): _kind(table_type) for schema, name, table_type in rows}
        return {relation: found.get(relation) for relation in relations}

    def ensure_schema(self, schema: str) -> None:
        self.execute(f"create schema if not exists {self.quote(schema)}")

    def view_definition(self, relation: Relation) -> str:
        raise NotImplementedError

    def dependent_views(self, relations: Sequence[Relation]) -> list[Relation]:
        """Views outside `relations` that depend on them, in creation order; only where views bind by OID."""
        return []

    def create_view(self, relation: Relation, select_sql: str) -> None:
        self.execute(f"create view {self.qualified(relation)} as {select_sql}")

    # -- grants and comments: what a moved-back copy or a recreated view does not carry ----------
    def describe(self, relations: Sequence[Relation]) -> dict[Relation, Described]:
        """The grants and comments of each relation, one catalog query for each."""
        granted, commented = self.privileges(relations), self.comments(relations)
        return {relation: Described(granted[relation], commented[relation]) for relation in relations}

    def redescribe(self, wanted: Mapping[Relation, tuple[str, Described]]) -> None:
        """Give each relation (with its kind, 'table' or 'view') the grants and comments in `wanted`; a
        part that is None was not recorded and is left as it is."""
        self.set_privileges({r: d.privileges for r, (_, d) in wanted.items() if d.privileges is not None})
        self.set_comments({r: (kind, d.comments) for r, (kind, d) in wanted.items() if d.comments is not None})

    def privileges(self, relations: Sequence[Relation]) -> dict[Relation, frozenset[Privilege]]:
        """What each relation grants to roles other than its owner (table-level grants), in one catalog
        query; empty sets where the warehouse has no privileges (DuckDB)."""
        return {relation: frozenset() for relation in relations}

    def applicable(self, privileges: Mapping[Relation, frozenset[Privilege]]) -> dict[Relation, frozenset[Privilege]]:
        """`privileges` less the grants that cannot be given again: to roles dropped since they were
        recorded (which must not stop a restore) and to each relation's owner (who holds everything)."""
        return dict(privileges)

    def set_privileges(self, wanted: Mapping[Relation, frozenset[Privilege]]) -> None:
        """Make each relation grant exactly `wanted` (less what is not `applicable`): a relation recreated
        or moved back in place has only its owner's and its schema's default privileges, not what was
        granted on the one it replaces. The relations are fresh, so no grant made through a grant option
        hangs on what is revoked."""
        wanted = self.applicable(wanted)
        current = self.privileges(list(wanted))
        for relation, privileges in wanted.items():
            for privilege in sorted(current[relation] - privileges):
                self.execute(f"revoke {_privilege_type(privilege)} on {self.qualified(relation)} "
                             f"from {self._grantee(privilege.grantee)}")
            for privilege in sorted(privileges - current[relation]):
                self.execute(f"grant {_privilege_type(privilege)} on {self.qualified(relation)} "
                             f"to {self._grantee(privilege.grantee)}"
                             + (" with grant option" if privilege.grantable else ""))

    def _grantee(self, role: str) -> str:
        return "public" if role == "public" else self.quote(role)

    def comments(self, relations: Sequence[Relation]) -> dict[Relation, Comments]:
        """The comments of each relation and its columns; none where the warehouse keeps none."""
        return {relation: Comments() for relation in relations}

    def set_comments(self, wanted: Mapping[Relation, tuple[str, Comments]]) -> None:
        """Give each relation (with its kind, 'table' or 'view') exactly the comments in `wanted`: a copy
        moved back in place lacks the table's own comment, a recreated view has none at all. A column
        that no longer exists (a view over a changed table) is passed over rather than failing the restore."""
        current = self.comments(list(wanted))
        for relation, (kind, comments) in wanted.items():
            if current[relation].relation != comments.relation:
                self.execute(f"comment on {kind} {self.qualified(relation)} is {self.literal(comments.relation)}")
            wanted_columns = dict(comments.columns)
            for column in self.differing_column_comments(relation, comments, current[relation]):
                self.execute(f"comment on column {self.qualified(relation)}.{self.quote(column)} "
                             f"is {self.literal(wanted_columns.get(column))}")

    def differing_column_comments(self, relation: Relation, wanted: Comments, actual: Comments) -> list[str]:
        """The columns of `relation` whose comment in `actual` is not the one in `wanted`, in name order. A
        column the relation no longer has (a view over a changed table) is left out: it cannot be commented."""
        now, then = dict(actual.columns), dict(wanted.columns)
        changed = [column for column in sorted(set(now) | set(then)) if now.get(column) != then.get(column)]
        present = {name for name, _ in self.columns(relation)} if changed else set()
        return [column for column in changed if column in present]

    def literal(self, text: str | None) -> str:
        """A SQL string literal of `text` (NULL for None)."""
        return "null" if text is None else "'" + text.replace("'", "''") + "'"

    def drop(self, relation: Relation, kind: str) -> None:
        self.execute(f"drop {kind} if exists {self.qualified(relation)}")

    def copy_table(self, source: Relation, copy: Relation) -> None:
        self.execute(f"create table {self.qualified(copy)} as select * from {self.qualified(source)}")

    def move_table(self, source: Relation, destination: Relation) -> None:
        """Rename (and where supported, re-schema) a table: no data is copied."""
        raise NotImplementedError

    @classmethod
    def can_move_across_schemas(cls) -> bool:
        return False

    def relations_ending(self, schema: str, suffix: str) -> list[tuple[Relation, str]]:
        """(relation, 'table' or 'view') of every relation in `schema` whose name ends with `suffix`, views first."""
        rows = self.query(
            "select table_name, table_type from information_schema.tables "
            f"where table_schema = {self.param} and right(table_name, {len(suffix)}) = {self.param} order by 1",
            (schema, suffix),
        )
        found = [(Relation(schema, str(name)), _kind(table_type)) for name, table_type in rows]
        return sorted(found, key=lambda item: item[1] != "view")

    def drop_schema(self, schema: str) -> None:
        self.execute(f"drop schema if exists {self.quote(schema)} cascade")

    def lock_for_swap(self, relations: Sequence[Relation]) -> None:
        """Take the locks a swap needs up front, where the adapter has table locks."""

    def fingerprint(self, relation: Relation) -> tuple[int, str]:
        """Row count and an order-independent checksum: a sum of 48-bit row hashes, which cannot overflow."""
        return self.fingerprints([relation])[relation]

    def fingerprints(self, relations: Sequence[Relation]) -> dict[Relation, tuple[int, str]]:
        """`fingerprint` of many relations, a few statements in all: one union per batch."""
        distinct = list(dict.fromkeys(relations))
        measured: dict[Relation, tuple[int, str]] = {}
        for start in range(0, len(distinct), FINGERPRINTS_PER_STATEMENT):
            batch = distinct[start:start + FINGERPRINTS_PER_STATEMENT]
            rows = self.query(" union all ".join(
                f"select {position} as position, count(*) as row_count, {self.row_checksum_sql('t')} as checksum "
                f"from {self.qualified(relation)} as t" for position, relation in enumerate(batch)))
            for position, count, checksum in rows:
                measured[batch[position]] = (int(count), str(checksum))
        return measured

    def row_checksum_sql(self, alias: str) -> str:
        """An aggregate over the rows of `alias`: the sum of a 48-bit hash of each whole row, 0 when empty."""
        raise NotImplementedError

    def columns(self, relation: Relation) -> list[tuple[str, str]]:
        """(name, type) of a relation's columns in order; empty when it does not exist."""
        raise NotImplementedError

    def query_columns(self, select_sql: str) -> list[tuple[str, str]]:
        """(name, type) of the columns a query would return, typed as `columns` types them; runs no rows."""
        raise NotImplementedError


class DuckDBWarehouse(Warehouse):
    adapter_type = "duckdb"
    param = "?"

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        result = self.raw.execute(sql, list(params)) if params else self.raw.execute(sql)
        return result.fetchall() if result.description else []

    def view_definition(self, relation: Relation) -> str:
        sql = self.scalar(
            "select sql from duckdb_views() where schema_name = ? and view_name = ? and not internal",
            (relation.schema, relation.name),
        )
        # duckdb_views() returns the whole CREATE VIEW statement; keep what follows the first AS.
        match = re.match(r"(?is)^\s*create\s+(?:or\s+replace\s+)?view\s+.+?\s+as\s+(.*?);?\s*$", sql or "")
        if not match:
            raise BadInput(f"rollback: cannot read the definition of view {relation}")
        return match.group(1)

    def comments(self, relations: Sequence[Relation]) -> dict[Relation, Comments]:
        schemas = sorted({r.schema for r in relations})
        if not schemas:
            return {}
        within = (f"database_name = current_database() and schema_name in ({', '.join(['?'] * len(schemas))}) "
                  "and not internal and comment is not null")
        return _comments_from_rows(relations, self.query(
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


class PostgresWarehouse(Warehouse):
    adapter_type = "postgres"

    def view_definition(self, relation: Relation) -> str:
        return self.scalar(
            "select pg_get_viewdef(c.oid, true) from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname = %s and c.relname = %s",
            (relation.schema, relation.name),
        )

    def dependent_views(self, relations: Sequence[Relation]) -> list[Relation]:
        if not relations:
            return []
        touched = {(r.schema, r.name) for r in relations}
        rows = self.query(
            """
            with recursive deps(oid, depth) as (
                select distinct v.oid, 1
                from pg_depend d
                join pg_rewrite w on w.oid = d.objid
                join pg_class v on v.oid = w.ev_class
                join pg_class t on t.oid = d.refobjid
                join pg_namespace tn on tn.oid = t.relnamespace
                where (tn.nspname || '.' || t.relname) = any(%s) and v.oid <> t.oid
                union
                select v.oid, deps.depth + 1
                from deps
                join pg_depend d on d.refobjid = deps.oid
                join pg_rewrite w on w.oid = d.objid
                join pg_class v on v.oid = w.ev_class
                where v.oid <> deps.oid
            )
            select n.nspname, c.relname, max(deps.depth)
            from deps join pg_class c on c.oid = deps.oid join pg_namespace n on n.oid = c.relnamespace
            where c.relkind = 'v'
            group by n.nspname, c.relname
            order by 3, 1, 2
            """,
            ([f"{schema}.{name}" for schema, name in touched],),
        )
        return [Relation(schema, name) for schema, name, _ in rows if (schema, name) not in touched]

    def copy_table(self, source: Relation, copy: Relation) -> None:
        # LIKE ... INCLUDING ALL keeps column defaults, constraints and indexes, which CTAS drops.
        self.execute(f"create table {self.qualified(copy)} (like {self.qualified(source)} including all)")
        self.execute(f"insert into {self.qualified(copy)} select * from {self.qualified(source)}")

    def lock_for_swap(self, relations: Sequence[Relation]) -> None:
        # All at once, in one statement: a reader then waits for the whole swap, never for half of it.
        if relations:
            self.execute("set local lock_timeout = '10s'")
            self.execute(f"lock table {', '.join(self.qualified(r) for r in relations)} in access exclusive mode")

    def move_table(self, source: Relation, destination: Relation) -> None:
        current = source
        if source.schema != destination.schema:
            self.execute(f"alter table {self.qualified(source)} set schema {self.quote(destination.schema)}")
            current = Relation(destination.schema, source.name)
        if current.name != destination.name:
            self.execute(f"alter table {self.qualified(current)} rename to {self.quote(destination.name)}")

    @classmethod
    def can_move_across_schemas(cls) -> bool:
        return True

    def row_checksum_sql(self, alias: str) -> str:
        return f"coalesce(sum(('x' || substr(md5({alias}::text), 1, 12))::bit(48)::bigint), 0)"

    # Relations named as two arrays, so the catalog's (relname, relnamespace) index finds them.
    _NAMED = "(n.nspname, c.relname) in (select * from unnest(%s::text[], %s::text[]))"

    @staticmethod
    def _named(relations: Sequence[Relation]) -> tuple[list[str], list[str]]:
        distinct = sorted(set(relations), key=str)
        return [r.schema for r in distinct], [r.name for r in distinct]

    def privileges(self, relations: Sequence[Relation]) -> dict[Relation, frozenset[Privilege]]:
        if not relations:
            return {}
        found: dict[Relation, set[Privilege]] = {relation: set() for relation in relations}
        rows = self.query(
            "select n.nspname, c.relname, coalesce(r.rolname, 'public'), a.privilege_type, a.is_grantable "
            "from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "cross join lateral aclexplode(c.relacl) as a left join pg_roles r on r.oid = a.grantee "
            f"where {self._NAMED} and a.grantee <> c.relowner",
            self._named(relations),
        )
        for schema, name, grantee, privilege, grantable in rows:
            found[Relation(str(schema), str(name))].add(Privilege(str(grantee), str(privilege), bool(grantable)))
        return {relation: frozenset(privileges) for relation, privileges in found.items()}

    def applicable(self, privileges: Mapping[Relation, frozenset[Privilege]]) -> dict[Relation, frozenset[Privilege]]:
        if not privileges:
            return {}
        roles = sorted({p.grantee for granted in privileges.values() for p in granted} - {"public"})
        existing = {"public", *(str(row[0]) for row in self.query(
            "select rolname from pg_roles where rolname = any(%s)", (roles,)))}
        owners = {Relation(str(schema), str(name)): str(owner) for schema, name, owner in self.query(
            "select n.nspname, c.relname, pg_get_userbyid(c.relowner) "
            f"from pg_class c join pg_namespace n on n.oid = c.relnamespace where {self._NAMED}",
            self._named(list(privileges)))}
        return {relation: frozenset(p for p in granted if p.grantee in existing and p.grantee != owners.get(relation))
                for relation, granted in privileges.items()}

    def comments(self, relations: Sequence[Relation]) -> dict[Relation, Comments]:
        if not relations:
            return {}
        return _comments_from_rows(relations, self.query(
            "select n.nspname, c.relname, a.attname, d.description "
            "from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "join pg_description d on d.objoid = c.oid and d.classoid = 'pg_class'::regclass "
            "left join pg_attribute a on a.attrelid = c.oid and a.attnum = d.objsubid and d.objsubid > 0 "
            f"where {self._NAMED} and (d.objsubid = 0 or a.attname is not null) "
            "order by 1, 2, a.attnum nulls first",
            self._named(relations)))

    def literal(self, text: str | None) -> str:
        # An escape string: its meaning does not hang on standard_conforming_strings.
        return "null" if text is None else "E'" + text.replace("\\", "\\\\").replace("'", "''") + "'"

    _COLUMNS_OF = ("select attname, format_type(atttypid, atttypmod) from pg_attribute "
                   "where attrelid = %s::regclass and attnum > 0 and not attisdropped order by attnum")

    def columns(self, relation: Relation) -> list[tuple[str, str]]:
        if self.relation_kind(relation) is None:
            return []
        return [(str(n), str(t)) for n, t in self.query(self._COLUMNS_OF, (self.qualified(relation),))]

    def query_columns(self, select_sql: str) -> list[tuple[str, str]]:
        # A temporary view in a transaction that is rolled back: typed exactly like a table, and nothing stays.
        self.begin()
        try:
            self.execute(f"create temporary view stw_column_probe as {select_sql}")
            return [(str(n), str(t)) for n, t in self.query(self._COLUMNS_OF, ("stw_column_probe",))]
        finally:
            self.rollback()


def _comments_from_rows(relations: Sequence[Relation], rows: Sequence[tuple[Any, ...]]) -> dict[Relation, Comments]:
    """Comments from rows of (schema, relation, column or NULL for the relation itself, comment, ...), columns
    in order."""
    wanted = set(relations)
    own: dict[Relation, str] = {}
    columns: dict[Relation, list[tuple[str, str]]] = {}
    for schema, name, column, comment, *_ in rows:
        relation = Relation(str(schema), str(name))
        if relation not in wanted or comment is None:
            continue
        if column is None:
            own[relation] = str(comment)
        else:
            columns.setdefault(relation, []).append((str(column), str(comment)))
    return {relation: Comments(own.get(relation), tuple(columns.get(relation, ()))) for relation in relations}


# What GRANT and REVOKE may name: a recorded privilege comes back from the rollback metadata table, so it
# is checked before it is written into a statement.
PRIVILEGE_TYPES = frozenset({"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER", "MAINTAIN"})


def _privilege_type(privilege: Privilege) -> str:
    if privilege.privilege not in PRIVILEGE_TYPES:
        raise BadInput(f"rollback: unknown privilege {privilege.privilege!r} recorded for {privilege.grantee}")
    return privilege.privilege


def _kind(table_type: Any) -> str:
    """'view' or 'table' from information_schema.tables.table_type (VIEW, BASE TABLE, LOCAL TEMPORARY...)."""
    return "view" if "VIEW" in str(table_type).upper() else "table"


def rename_relations(sql: str, renames: Mapping[Relation, Relation]) -> str:
    """A view's text with every relation in `renames` named by its new name, quoted or bare.

    A new name in the same schema replaces the identifier; a new schema replaces the schema
    qualifier (every relation of a stage schema moves to the same prod schema)."""
    for old, new in renames.items():
        if old.name != new.name:
            sql = _replace_identifier(sql, old.name, new.name)
        if old.schema != new.schema:
            sql = sql.replace(Warehouse.quote(old.schema) + ".", Warehouse.quote(new.schema) + ".")
            sql = re.sub(rf"(?<![\w\"]){re.escape(old.schema)}\.", new.schema.replace("\\", "\\\\") + ".", sql)
    return sql


def _replace_identifier(sql: str, old: str, new: str) -> str:
    sql = sql.replace(Warehouse.quote(old), Warehouse.quote(new))
    return re.sub(rf"(?<![\w\"]){re.escape(old)}(?![\w\"])", new.replace("\\", "\\\\"), sql)


def warehouse_class(adapter_type: str) -> type[Warehouse]:
    """The Warehouse subclass of an adapter, for what is known before connecting (can it move across schemas)."""
    classes: dict[str, type[Warehouse]] = {"duckdb": DuckDBWarehouse, "postgres": PostgresWarehouse}
    if adapter_type not in classes:
        raise BadInput(f"adapter: steward's runner supports duckdb and postgres, not {adapter_type!r}")
    return classes[adapter_type]


@contextmanager
def opened(connection: Connection) -> Iterator[Warehouse]:
    warehouse = connect(connection)
    try:
        yield warehouse
    finally:
        warehouse.close()


def connect(connection: Connection) -> Warehouse:
    settings = connection.settings
    if connection.adapter_type == "duckdb":
        import duckdb

        path = str(settings.get("path") or ":memory:")
        try:
            return DuckDBWarehouse(duckdb.connect(path))
        except duckdb.IOException as exc:
            raise DeployLocked(_duckdb_lock_message(path, str(exc))) from exc
    if connection.adapter_type == "postgres":
        import psycopg2

        # The profile's TLS settings hold for steward's connection as for dbt's: without them libpq would
        # settle for whatever the server offers.
        tls = {key: str(settings[key]) for key in POSTGRES_TLS_SETTINGS if settings.get(key)}
        try:
            raw = psycopg2.connect(
                host=settings.get("host"), port=settings.get("port"), user=settings.get("user"),
                password=settings.get("password") or None, dbname=settings.get("database"),
                connect_timeout=int(settings.get("connect_timeout") or 10), application_name="steward",
                # A killed deploy's orphaned session may still hold locks: fail with a message, never hang.
                options="-c lock_timeout=60s", **tls,
            )
        except psycopg2.OperationalError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else "connection failed"
            raise BadInput(f"connection: cannot reach PostgreSQL: {redact_text(first, connection.secrets)}") from exc
        raw.autocommit = True
        warehouse = PostgresWarehouse(raw)
        if settings.get("role"):
            # dbt works as the profile's role; what steward creates, moves back or recreates must be owned by
            # it too, or dbt's next build could not replace it.
            try:
                warehouse.execute(f"set role {Warehouse.quote(str(settings['role']))}")
            except psycopg2.Error as exc:
                warehouse.close()
                raise BadInput(f"connection: cannot set role {settings['role']!r}: "
                               f"{' '.join(str(exc).split())}") from exc
        return warehouse
    raise BadInput(f"adapter: steward's runner supports duckdb and postgres, not {connection.adapter_type!r}")


POSTGRES_TLS_SETTINGS = ("sslmode", "sslcert", "sslkey", "sslrootcert")


def _duckdb_lock_message(path: str, error: str) -> str:
    holder = re.search(r"Conflicting lock is held in (?P<program>\S+)(?: \(PID (?P<pid>\d+)\))?", error)
    if holder:
        pid = holder.group("pid") or "unknown"
        program = holder.group("program")
        return f"DuckDB file {path} is held by another process (PID {pid}, {program}); retry when it exits"
    return f"DuckDB file {path} could not be opened: {' '.join(error.split())}"
