"""PostgreSQL: views bind by OID (their dependents are found in pg_depend), tables move between schemas by
metadata, grants and comments are read from the catalog."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import psycopg2

from steward.errors import ConnectionLost
from steward.warehouse.base import Comments, Privilege, Relation, Warehouse, comments_from_rows


class PostgresWarehouse(Warehouse):
    adapter_type = "postgres"

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            return super().query(sql, params)
        except psycopg2.Error as exc:
            if self.raw.closed:  # libpq marks the connection bad when the session or the network is gone
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                raise ConnectionLost(f"lost the connection to PostgreSQL ({first})") from exc
            raise

    def close(self) -> None:
        if not self.raw.closed:
            self.raw.close()

    def view_definitions(self, views: Sequence[Relation]) -> dict[Relation, str]:
        if not views:
            return {}
        rows = self.query(
            "select n.nspname, c.relname, pg_get_viewdef(c.oid, true) from pg_class c "
            "join pg_namespace n on n.oid = c.relnamespace "
            "where (n.nspname, c.relname) in (select * from unnest(%s::text[], %s::text[]))",
            ([view.schema for view in views], [view.name for view in views]),
        )
        found = {Relation(str(schema), str(name)): definition for schema, name, definition in rows}
        return {view: found.get(view) for view in views}

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
                where (tn.nspname, t.relname) in (select * from unnest(%s::text[], %s::text[])) and v.oid <> t.oid
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
            # Pairs, not 'schema.name' strings: a concatenation cannot use pg_class's index (32 ms against 6 ms
            # at 200 relations).
            ([schema for schema, _ in sorted(touched)], [name for _, name in sorted(touched)]),
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
        granted = ("coalesce(r.rolname, 'public'), a.privilege_type, a.is_grantable")
        rows = self.query(
            f"select n.nspname, c.relname, {granted}, '' "
            "from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "cross join lateral aclexplode(c.relacl) as a left join pg_roles r on r.oid = a.grantee "
            f"where {self._NAMED} and a.grantee <> c.relowner "
            f"union all select n.nspname, c.relname, {granted}, col.attname "
            "from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "join pg_attribute col on col.attrelid = c.oid and col.attnum > 0 and not col.attisdropped "
            "cross join lateral aclexplode(col.attacl) as a left join pg_roles r on r.oid = a.grantee "
            f"where {self._NAMED} and a.grantee <> c.relowner",
            [*self._named(relations), *self._named(relations)],
        )
        for schema, name, grantee, privilege, grantable, column in rows:
            found[Relation(str(schema), str(name))].add(
                Privilege(str(grantee), str(privilege), bool(grantable), str(column)))
        return {relation: frozenset(privileges) for relation, privileges in found.items()}

    def applicable(self, privileges: Mapping[Relation, frozenset[Privilege]]) -> dict[Relation, frozenset[Privilege]]:
        if not privileges:
            return {}
        roles = sorted({p.grantee for granted in privileges.values() for p in granted} - {"public"})
        existing = {"public", *self._existing_roles(roles)}
        owners = self.owners(list(privileges))
        return {relation: frozenset(p for p in granted if p.grantee in existing and p.grantee != owners.get(relation))
                for relation, granted in privileges.items()}

    def owners(self, relations: Sequence[Relation]) -> dict[Relation, str]:
        if not relations:
            return {}
        return {Relation(str(schema), str(name)): str(owner) for schema, name, owner in self.query(
            "select n.nspname, c.relname, pg_get_userbyid(c.relowner) "
            f"from pg_class c join pg_namespace n on n.oid = c.relnamespace where {self._NAMED}",
            self._named(relations))}

    def existing_owners(self, owners: Mapping[Relation, str]) -> dict[Relation, str]:
        existing = set(self._existing_roles(sorted(set(owners.values()))))
        return {relation: owner for relation, owner in owners.items() if owner in existing}

    def _existing_roles(self, roles: Sequence[str]) -> list[str]:
        if not roles:
            return []
        return [str(row[0]) for row in self.query("select rolname from pg_roles where rolname = any(%s)",
                                                  (list(roles),))]

    def comments(self, relations: Sequence[Relation]) -> dict[Relation, Comments]:
        if not relations:
            return {}
        return comments_from_rows(relations, self.query(
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
