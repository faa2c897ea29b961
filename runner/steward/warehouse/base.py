"""The runner's own connection to the warehouse: relations, grants and comments, and the SQL every adapter
shares. The statements that differ per adapter live in its subclass (duckdb_warehouse, postgres_warehouse)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any, ClassVar

from steward.errors import BadInput, ConnectionLost

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
    """One privilege granted on a relation, or on one of its columns, to a role other than its owner ('public'
    for everyone)."""

    grantee: str
    privilege: str  # SELECT, INSERT, ...
    grantable: bool = False
    column: str = ""  # '' for the relation itself

    def describe(self) -> str:
        on = f" ({self.column})" if self.column else ""
        return f"{self.privilege}{on} to {self.grantee}" + (" with grant option" if self.grantable else "")


@dataclass(frozen=True)
class Comments:
    """The comment on a relation and on its columns (dbt's persist_docs writes them)."""

    relation: str | None = None
    columns: tuple[tuple[str, str], ...] = ()  # (column, comment) of every commented column, in column order


@dataclass(frozen=True)
class Described:
    """A relation's grants, comments and owner; None where they were not recorded (left as they are)."""

    privileges: frozenset[Privilege] | None = None
    comments: Comments | None = None
    owner: str | None = None  # the role owning it, where the warehouse has roles


class Warehouse:
    """SQL the runner needs, with the few statements that differ per adapter."""

    adapter_type = "default"
    param = "%s"
    # Whether a rollback point and a restore run in one transaction (readers see all or nothing).
    transactional = True
    # What a verified restore compared with the rollback point, as the journal and the messages say it.
    verified = "counts, checksums, owners, grants and comments"

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
            # A lost session rolled the transaction back with it: the error that stopped it is the one to tell.
            with suppress(ConnectionLost):
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
            f"where table_catalog = current_database() and table_schema in ({', '.join([self.param] * len(schemas))}) "
            f"and table_name in ({', '.join([self.param] * len(names))})",
            [*schemas, *names],
        )
        found = {Relation(str(schema), str(name)): kind_of(table_type) for schema, name, table_type in rows}
        return {relation: found.get(relation) for relation in relations}

    def ensure_schema(self, schema: str) -> None:
        self.execute(f"create schema if not exists {self.quote(schema)}")

    def view_definition(self, relation: Relation) -> str:
        return self.view_definitions([relation])[relation]

    def view_definitions(self, views: Sequence[Relation]) -> dict[Relation, str]:
        """The SELECT of each view; one catalog query where the warehouse has a catalog of view texts."""
        raise NotImplementedError

    def dependent_views(self, relations: Sequence[Relation]) -> list[Relation]:
        """Views outside `relations` that depend on them, in creation order; only where views bind by OID."""
        return []

    def create_view(self, relation: Relation, select_sql: str) -> None:
        self.execute(f"create view {self.qualified(relation)} as {select_sql}")

    # -- grants and comments: what a moved-back copy or a recreated view does not carry ----------
    def describe(self, relations: Sequence[Relation]) -> dict[Relation, Described]:
        """The grants, comments and owner of each relation, one catalog query for each."""
        granted, commented, owned = self.privileges(relations), self.comments(relations), self.owners(relations)
        return {relation: Described(granted[relation], commented[relation], owned.get(relation))
                for relation in relations}

    def redescribe(self, wanted: Mapping[Relation, tuple[str, Described]]) -> None:
        """Give each relation (with its kind, 'table' or 'view') the owner, grants and comments in `wanted`; a
        part that is None was not recorded and is left as it is. The owner comes first: the grants an owner
        holds are not grants to restore."""
        self.set_owners({r: (kind, d.owner) for r, (kind, d) in wanted.items() if d.owner is not None})
        self.set_privileges({r: d.privileges for r, (_, d) in wanted.items() if d.privileges is not None})
        self.set_comments({r: (kind, d.comments) for r, (kind, d) in wanted.items() if d.comments is not None})

    def owners(self, relations: Sequence[Relation]) -> dict[Relation, str]:
        """The role owning each relation, in one catalog query; none where the warehouse has no roles (DuckDB)."""
        return {}

    def existing_owners(self, owners: Mapping[Relation, str]) -> dict[Relation, str]:
        """`owners` less those whose role was dropped since it was recorded: such a relation stays with whoever
        owns it now rather than stop the restore."""
        return dict(owners)

    def set_owners(self, wanted: Mapping[Relation, tuple[str, str]]) -> None:
        """Give each relation (with its kind) back to the owner it had: a copy moved back in place, or a view
        recreated, belongs to whoever made it."""
        current = self.owners(list(wanted))
        owners = self.existing_owners({relation: owner for relation, (_, owner) in wanted.items()})
        for relation, owner in owners.items():
            if current.get(relation) != owner:
                self.execute(f"alter {wanted[relation][0]} {self.qualified(relation)} owner to {self.quote(owner)}")

    def privileges(self, relations: Sequence[Relation]) -> dict[Relation, frozenset[Privilege]]:
        """What each relation and its columns grant to roles other than its owner, in one catalog query; empty
        sets where the warehouse has no privileges (DuckDB)."""
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
                self.execute(f"revoke {self._granted(privilege)} on {self.qualified(relation)} "
                             f"from {self._grantee(privilege.grantee)}")
            for privilege in sorted(privileges - current[relation]):
                self.execute(f"grant {self._granted(privilege)} on {self.qualified(relation)} "
                             f"to {self._grantee(privilege.grantee)}"
                             + (" with grant option" if privilege.grantable else ""))

    def _granted(self, privilege: Privilege) -> str:
        """What GRANT and REVOKE name: the privilege, and the column for a column-level grant."""
        return _privilege_type(privilege) + (f" ({self.quote(privilege.column)})" if privilege.column else "")

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

    @classmethod
    def guarantees(cls) -> dict[str, str]:
        """What the runner promises on this adapter, feature by feature, as `steward env` shows it."""
        return {
            "rollback_point": "one transaction: a consistent copy of every touched table",
            "restore": "one transaction of renames: a reader sees the old set or the new set, never a mix",
            "blue_green": "supported",
            "backfill": "supported",
        }

    # Runner features the adapter cannot give, by name ('blue-green', 'backfill'), with the reason.
    unsupported: ClassVar[Mapping[str, str]] = {}

    @classmethod
    def refuse_unsupported(cls, feature: str) -> None:
        """BadInput (exit 2, before anything changes) when the adapter cannot give `feature`."""
        if feature in cls.unsupported:
            raise BadInput(f"{feature}: {cls.unsupported[feature]}")

    @classmethod
    def refuse_unbuildable(cls, name: str, config: Mapping[str, Any], settings: Mapping[str, Any]) -> None:
        """Raise BadInput when the connection cannot build node `name` as `config` asks (a table format the
        session lacks), so a deploy stops before it changes anything."""

    @staticmethod
    def lock_file_base(settings: Mapping[str, Any]) -> str | None:
        """Where the deploy lock's file goes (plus a suffix) when the warehouse lives on this machine; None for a
        server, whose lock is the server's own or a file in the project."""
        return None

    def relations_ending(self, schema: str, suffix: str) -> list[tuple[Relation, str]]:
        """(relation, 'table' or 'view') of every relation in `schema` whose name ends with `suffix`, views first."""
        rows = self.query(
            "select table_name, table_type from information_schema.tables where table_catalog = current_database() "
            f"and table_schema = {self.param} and right(table_name, {len(suffix)}) = {self.param} order by 1",
            (schema, suffix),
        )
        found = [(Relation(schema, str(name)), kind_of(table_type)) for name, table_type in rows]
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


def comments_from_rows(relations: Sequence[Relation], rows: Sequence[tuple[Any, ...]]) -> dict[Relation, Comments]:
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


def kind_of(table_type: Any) -> str:
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
