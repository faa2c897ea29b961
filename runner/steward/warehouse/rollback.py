"""Rollback points: what every relation a deploy touches looked like before, and how to put it back.

A table's rollback point is a copy. Restore moves the copy into place with renames (no data is
copied, so its cost does not grow with table size) and moves the deployed version aside, so a
rollback loses nothing either. Views are kept by definition. Each relation's grants and comments
are kept too, since neither a copy nor a recreated view carries them. All of a deploy's restore
runs in one transaction, then every relation's row count, checksum, grants and comments are compared with
the values recorded when the point was made.

Where copies live: PostgreSQL keeps them in the rollback schema and moves them back with
ALTER TABLE ... SET SCHEMA. DuckDB cannot move a table between schemas, so there a copy sits
beside its relation as `<name>__stw_<token>_<seq>b`, which keeps restore a rename.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from datetime import datetime, timezone
from typing import Any

from steward import faults
from steward.warehouse import Comments, Described, Privilege, Relation, Warehouse
from steward.warehouse.journal import refuse_newer, timestamp

# Names dbt gives the relations it builds beside a model (__dbt_backup, __dbt_tmp); a build killed mid-model
# can leave them behind.
DBT_LEFTOVER_SUFFIXES = ("__dbt_backup", "__dbt_tmp")
# The version of a rollback entry's JSON; 2 added owners and column-level grants. A steward refuses entries of a
# later version (exit 2, nothing changed): restoring from what it half understands could lose what it skips.
ENTRY_FORMAT = 2


@dataclass(frozen=True)
class RollbackEntry:
    deploy_id: str
    seq: int
    relation: Relation
    kind: str | None  # what existed before the deploy: 'table', 'view', or None
    external: bool = False  # a view outside the deploy that depends on a touched relation
    copy: Relation | None = None
    view_sql: str | None = None
    row_count: int | None = None
    checksum: str | None = None
    restored_at: str | None = None
    # Its grants and comments; None where nothing was recorded (points made before steward kept them),
    # so a restore leaves them alone rather than revoke or erase them.
    described: Described | None = None

    def to_json(self) -> str:
        data = asdict(self)
        data["relation"] = str(self.relation)
        data["copy"] = str(self.copy) if self.copy else None
        data["described"] = _described_to_data(self.described)
        return json.dumps({"format": ENTRY_FORMAT, **data})

    @classmethod
    def from_json(cls, text: str) -> RollbackEntry:
        raw = json.loads(text)
        refuse_newer("rollback point", raw.get("format"), ENTRY_FORMAT, f"of deploy {raw.get('deploy_id')}")
        known = {f.name for f in fields(cls)}
        data = {key: value for key, value in raw.items() if key in known}
        data["relation"] = Relation(*data["relation"].split(".", 1))
        data["copy"] = Relation(*data["copy"].split(".", 1)) if data.get("copy") else None
        data["described"] = _described_from_data(data.get("described"))
        return cls(**data)


@dataclass(frozen=True)
class Mismatch:
    relation: Relation
    expected: str
    found: str

    def describe(self) -> str:
        return f"{self.relation}: expected {self.expected}, found {self.found}"


class RestoreUnverified(Exception):
    """A restore did not match its rollback point before it committed; it was undone."""

    def __init__(self, mismatches: Sequence[Mismatch]) -> None:
        super().__init__("; ".join(m.describe() for m in mismatches))
        self.mismatches = list(mismatches)


def deploy_token(deploy_id: str) -> str:
    """A short, identifier-safe token of a deploy id (its random suffix)."""
    return "s" + deploy_id.rsplit("-", 1)[-1][:8]


class RollbackStore:
    """Rollback points and their metadata table, steward_rollback_points, in the rollback schema."""

    def __init__(self, warehouse: Warehouse, schema: str) -> None:
        self.warehouse = warehouse
        self.schema = schema

    @property
    def table(self) -> str:
        return f"{self.warehouse.quote(self.schema)}.steward_rollback_points"

    def ensure(self) -> None:
        self.warehouse.ensure_schema(self.schema)
        self.warehouse.execute(
            f"create table if not exists {self.table} (deploy_id varchar(64) not null, seq integer not null, "
            "relation varchar(512) not null, entry text not null, restored_at varchar(40))"
        )

    def slot(self, deploy_id: str, seq: int, relation: Relation, side: str) -> Relation:
        """Where the before ('b') or after ('a') version of a relation is kept."""
        token = deploy_token(deploy_id)
        if self.warehouse.can_move_across_schemas():
            return Relation(self.schema, f"{token}_{seq:04d}{side}_{relation.name}"[:63])
        return Relation(relation.schema, f"{relation.name[:40]}__stw_{token}_{seq:04d}{side}")

    # -- making a point ---------------------------------------------------------------------------
    def create(self, deploy_id: str, relations: Sequence[Relation]) -> list[RollbackEntry]:
        """Copy every existing table, keep every view's definition, record counts and checksums.

        Runs in one transaction, so the copies are a consistent picture of the moment. The catalog
        lookup, the measuring and the metadata insert are one statement each, whatever the count."""
        with self.warehouse.transaction():
            kinds = self.warehouse.relation_kinds(relations)
            externals = self.warehouse.dependent_views([r for r in relations if kinds[r]])
            kinds.update(self.warehouse.relation_kinds(externals))
            touched = [*relations, *externals]
            views = self.warehouse.view_definitions([r for r in touched if kinds[r] == "view"])
            entries = [self._capture(deploy_id, seq, relation, kinds[relation], relation in externals, views)
                       for seq, relation in enumerate(touched)]
            # A table is measured on its copy: the copy is what a restore brings back.
            measured = self.warehouse.fingerprints([e.copy or e.relation for e in entries if e.kind])
            described = self.warehouse.describe([e.relation for e in entries if e.kind])
            for position, entry in enumerate(entries):
                if entry.kind:
                    count, checksum = measured[entry.copy or entry.relation]
                    entries[position] = replace(entry, row_count=count, checksum=checksum,
                                                described=described[entry.relation])
            self._save(*entries)
            faults.reached("rollback-point.copied", warehouse=self.warehouse)
        return entries

    def _capture(self, deploy_id: str, seq: int, relation: Relation, kind: str | None,
                 external: bool, views: Mapping[Relation, str]) -> RollbackEntry:
        """The entry of one relation, unmeasured: a view's definition (from `views`, read in one query) or a
        copy of a table's data."""
        if kind is None:
            return RollbackEntry(deploy_id, seq, relation, None, external)
        if kind == "view":
            return RollbackEntry(deploy_id, seq, relation, "view", external, view_sql=views[relation])
        copy = self.slot(deploy_id, seq, relation, "b")
        self.warehouse.copy_table(relation, copy)
        return RollbackEntry(deploy_id, seq, relation, "table", external, copy=copy)

    def save(self, *entries: RollbackEntry) -> None:
        """Record entries made elsewhere (a blue-green publish moves prod aside itself), in one insert."""
        self._save(*entries)

    def _save(self, *entries: RollbackEntry) -> None:
        if not entries:
            return
        p = self.warehouse.param
        values = ", ".join([f"({p}, {p}, {p}, {p}, {p})"] * len(entries))
        self.warehouse.execute(f"insert into {self.table} values {values}", [
            value for e in entries for value in (e.deploy_id, e.seq, str(e.relation), e.to_json(), e.restored_at)])

    def points(self) -> dict[str, bool]:
        """Every deploy that has a rollback point, and whether it was restored in full, in one query (listing
        and pruning look at every deploy of a target; one query each would grow with its history)."""
        if not self._exists():
            return {}
        rows = self.warehouse.query(
            f"select deploy_id, min(case when restored_at is null then 0 else 1 end) from {self.table} "
            "group by deploy_id")
        return {str(deploy_id): bool(restored) for deploy_id, restored in rows}

    def entries(self, deploy_id: str) -> list[RollbackEntry]:
        if not self._exists():
            return []
        rows = self.warehouse.query(
            f"select entry, restored_at from {self.table} where deploy_id = {self.warehouse.param} order by seq",
            (deploy_id,),
        )
        return [replace(RollbackEntry.from_json(entry), restored_at=restored_at) for entry, restored_at in rows]

    def _exists(self) -> bool:
        return self.warehouse.relation_kind(Relation(self.schema, "steward_rollback_points")) is not None

    # -- restoring --------------------------------------------------------------------------------
    def restore(self, deploy_id: str) -> list[RollbackEntry]:
        """Put every relation back as it was, in one transaction whose cost does not grow with the tables' size, and
        verify it before committing; a restore that would not match its point raises RestoreUnverified, with
        nothing changed or the transaction undone, and the point intact. Idempotent: a restored point is a no-op.

        The rows are verified before the transaction, on the copies it will move into place (check_copies): a
        rename does not change a row, so the restored tables hold exactly what was measured, and the scan (which
        grows with the data) holds no lock on prod. Inside the transaction (put_back) the catalog is verified
        (kinds, owners, grants, comments): nobody else can change it there, so a mismatch is a failed restore,
        never a later change."""
        self.check_copies(deploy_id)
        return self.put_back(deploy_id)

    def pending(self, deploy_id: str) -> list[RollbackEntry]:
        return [e for e in self.entries(deploy_id) if e.restored_at is None]

    def put_back(self, deploy_id: str) -> list[RollbackEntry]:
        """restore's transaction, the only part that locks prod; on its own only after check_copies passed."""
        entries = self.entries(deploy_id)
        pending = [e for e in entries if e.restored_at is None]
        if not pending:
            return []
        with self.warehouse.transaction():
            # One catalog query for the touched relations and dbt's leftovers beside them (they hold nothing
            # the point lacks, and dbt drops them itself before its next build). Nothing below makes a
            # table of a name that was not one, so the kinds hold throughout.
            candidates = [Relation(e.relation.schema, e.relation.name + suffix)
                          for e in pending for suffix in DBT_LEFTOVER_SUFFIXES]
            copies = [e.copy for e in pending if e.copy is not None]
            kinds = self.warehouse.relation_kinds([*(e.relation for e in pending), *candidates, *copies])
            leftovers = [(relation, kind) for relation in candidates if (kind := kinds[relation])]
            views_to_recreate, new_views = self._drop_views(pending, leftovers, kinds)
            for relation, kind in leftovers:
                self.warehouse.drop(relation, kind)
            for entry in pending:
                if entry.copy is not None and kinds[entry.copy] is None and kinds[entry.relation] == "table":
                    # Already moved into place by a restore that stopped half-way: only a warehouse without
                    # transactions (Spark) gets here; check_copies measured the table it became.
                    continue
                self._restore_table(entry, kinds[entry.relation])
            for relation, sql in views_to_recreate:
                self.warehouse.create_view(relation, sql)
            self.warehouse.redescribe({
                **{e.relation: (e.kind, e.described) for e in pending if e.kind and e.described is not None},
                **{relation: ("view", described) for relation, described in new_views.items()}})
            mismatches = self.verify(entries, rows_of=frozenset())
            if mismatches:
                raise RestoreUnverified(mismatches)
            p = self.warehouse.param
            self.warehouse.execute(
                f"update {self.table} set restored_at = {p} where deploy_id = {p} and restored_at is null",
                (timestamp(datetime.now(timezone.utc)), deploy_id),
            )
            faults.reached("restore.moved", warehouse=self.warehouse)
        faults.reached("restore.committed", warehouse=self.warehouse)
        return pending

    def check_copies(self, deploy_id: str) -> None:
        """RestoreUnverified unless each pending table's copy (or, where a restore without a transaction stopped
        half-way, the table it already became) holds the rows and checksum recorded when the point was made."""
        tables = [e for e in self.pending(deploy_id) if e.kind == "table" and e.copy is not None]
        if not tables:
            return
        kinds = self.warehouse.relation_kinds([e.copy for e in tables if e.copy is not None])
        sources = {e: (e.copy if kinds[e.copy] else e.relation) for e in tables if e.copy is not None}
        measured = self.warehouse.fingerprints(list(sources.values()))
        mismatches = [Mismatch(e.relation, f"{e.row_count} rows, checksum {e.checksum}",
                               f"{count} rows, checksum {checksum} in its copy {source}")
                      for e, source in sources.items()
                      for count, checksum in [measured[source]] if (count, checksum) != (e.row_count, e.checksum)]
        if mismatches:
            raise RestoreUnverified(mismatches)

    def _drop_views(self, entries: Sequence[RollbackEntry], leftovers: Sequence[tuple[Relation, str]],
                    kinds: Mapping[Relation, str | None],
                    ) -> tuple[list[tuple[Relation, str]], dict[Relation, Described]]:
        """Drop every view that is touched or depends on a touched relation; return what to recreate, in
        order, and the grants and comments of the views unknown to the point. `kinds` holds the touched
        relations' kinds.

        Views that appeared after the point was made and depend on a touched relation are kept by
        their current definition, grants and comments, so restoring never loses a view or anyone's
        access to it; views known at the point keep the definition they had then (on PostgreSQL a view
        follows a renamed table, so its current text may name dbt's backup)."""
        touched = [e.relation for e in entries]
        saved = {e.relation: e.view_sql for e in entries if e.kind == "view"}
        dependents = [r for r in self.warehouse.dependent_views([*touched, *(r for r, _ in leftovers)])
                      if r not in {relation for relation, _ in leftovers}]
        new_views = [relation for relation in dependents if relation not in saved]
        saved.update(self.warehouse.view_definitions(new_views))
        described = self.warehouse.describe(new_views)
        # Deepest dependents first, then touched relations against their build order.
        drop_order = [*reversed(dependents), *(r for r in reversed(touched) if r not in dependents)]
        # dependent_views lists views only; a touched relation is dropped here only if it is one.
        for relation in drop_order:
            if relation in dependents or kinds[relation] == "view":
                self.warehouse.drop(relation, "view")
        create_order = [*(e.relation for e in entries if e.kind == "view" and e.relation not in dependents),
                        *dependents]
        views = [(relation, saved[relation]) for relation in dict.fromkeys(create_order) if relation in saved]
        return views, described

    def _restore_table(self, entry: RollbackEntry, current: str | None) -> None:
        if current == "table":
            self.warehouse.move_table(entry.relation, self.slot(entry.deploy_id, entry.seq, entry.relation, "a"))
        if entry.kind == "table" and entry.copy is not None:
            self.warehouse.move_table(entry.copy, entry.relation)

    # -- verifying --------------------------------------------------------------------------------
    def verify(self, entries: Sequence[RollbackEntry],
               rows_of: frozenset[str] = frozenset({"table", "view"})) -> list[Mismatch]:
        """What differs between the relations and their rollback point: kind, owner, grants, comments, and the row
        count and checksum of the relations whose kind is in `rows_of` (none: the catalog only)."""
        mismatches: list[Mismatch] = []
        kinds = self.warehouse.relation_kinds([e.relation for e in entries])
        present = [e.relation for e in entries if e.kind and kinds[e.relation] == e.kind]
        measured = self.warehouse.fingerprints([e.relation for e in entries
                                                if e.relation in present and e.kind in rows_of])
        granted = self.warehouse.privileges(present)
        recorded = {e.relation: e.described.privileges for e in entries if e.relation in granted and e.described}
        expected = self.warehouse.applicable({r: p for r, p in recorded.items() if p is not None})
        commented = self.warehouse.comments(present)
        owned = self.warehouse.owners(present)
        owners = self.warehouse.existing_owners({e.relation: e.described.owner for e in entries
                                                 if e.relation in owned and e.described and e.described.owner})
        for entry in entries:
            kind = kinds[entry.relation]
            if entry.kind is None:
                if kind is not None:
                    mismatches.append(Mismatch(entry.relation, "absent", f"a {kind}"))
                continue
            if kind != entry.kind:
                mismatches.append(Mismatch(entry.relation, f"a {entry.kind}", f"{'a ' + kind if kind else 'absent'}"))
                continue
            count, checksum = measured.get(entry.relation, (entry.row_count, entry.checksum))
            if (count, checksum) != (entry.row_count, entry.checksum):
                mismatches.append(Mismatch(entry.relation, f"{entry.row_count} rows, checksum {entry.checksum}",
                                           f"{count} rows, checksum {checksum}"))
            if entry.relation in owners and owned[entry.relation] != owners[entry.relation]:
                mismatches.append(Mismatch(entry.relation, f"owner {owners[entry.relation]}",
                                           f"owner {owned[entry.relation]}"))
            if entry.relation in expected and granted[entry.relation] != expected[entry.relation]:
                mismatches.append(Mismatch(entry.relation, f"grants {_listed(expected[entry.relation])}",
                                           f"grants {_listed(granted[entry.relation])}"))
            wanted = entry.described.comments if entry.described else None
            if wanted is not None:
                differing = self._differing_comments(entry.relation, wanted, commented[entry.relation])
                if differing:
                    mismatches.append(Mismatch(entry.relation, f"comments on {differing}", "other comments"))
        return mismatches

    def _differing_comments(self, relation: Relation, wanted: Comments, actual: Comments) -> str:
        """What differs between the comments a relation should have and has ('' when nothing), as restore
        compares them: the relation's own, and those of the columns it still has."""
        differing = ["the relation"] if wanted.relation != actual.relation else []
        differing += [f"column {column}"
                      for column in self.warehouse.differing_column_comments(relation, wanted, actual)]
        return ", ".join(differing)

    # -- after a successful build ------------------------------------------------------------------
    def recreate_missing_external_views(self, deploy_id: str) -> list[Relation]:
        """dbt drops replaced relations with CASCADE on PostgreSQL; put back the outside views it took along."""
        recreated = []
        for entry in self.entries(deploy_id):
            if entry.external and entry.view_sql and self.warehouse.relation_kind(entry.relation) is None:
                self.warehouse.create_view(entry.relation, entry.view_sql)
                recreated.append(entry)
        self.warehouse.redescribe({e.relation: ("view", e.described) for e in recreated if e.described is not None})
        return [entry.relation for entry in recreated]

    # -- pruning ----------------------------------------------------------------------------------
    def drop(self, deploy_id: str) -> int:
        """Delete a deploy's copies (before and after versions) and its metadata; returns tables dropped."""
        dropped = 0
        with self.warehouse.transaction():
            for entry in self.entries(deploy_id):
                for side in ("b", "a"):
                    slot = self.slot(deploy_id, entry.seq, entry.relation, side)
                    if self.warehouse.relation_kind(slot) == "table":
                        self.warehouse.drop(slot, "table")
                        dropped += 1
            self.warehouse.execute(f"delete from {self.table} where deploy_id = {self.warehouse.param}",
                                   (deploy_id,))
        return dropped


def _listed(privileges: frozenset[Privilege]) -> str:
    return ", ".join(p.describe() for p in sorted(privileges)) or "nothing to other roles"


def _described_to_data(described: Described | None) -> dict[str, Any] | None:
    if described is None:
        return None
    privileges, comments = described.privileges, described.comments
    return {
        "privileges": None if privileges is None else [_privilege_data(p) for p in sorted(privileges)],
        "comments": None if comments is None else {"relation": comments.relation,
                                                   "columns": [list(item) for item in comments.columns]},
        "owner": described.owner,
    }


def _privilege_data(privilege: Privilege) -> list[Any]:
    """[grantee, privilege, grantable], and the column of a column-level grant as a fourth item."""
    data: list[Any] = [privilege.grantee, privilege.privilege, privilege.grantable]
    return [*data, privilege.column] if privilege.column else data


def _described_from_data(data: dict[str, Any] | None) -> Described | None:
    if data is None:
        return None
    privileges, comments = data.get("privileges"), data.get("comments")
    return Described(
        None if privileges is None else frozenset(Privilege(*item) for item in privileges),
        None if comments is None else Comments(comments["relation"], tuple((c, t) for c, t in comments["columns"])),
        data.get("owner"))
