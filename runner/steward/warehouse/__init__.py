"""The runner's own side of the warehouse: its connection and the SQL that differs per adapter, and what it
keeps there (the deploy lock, the journal, rollback points)."""

from steward.warehouse.base import Comments, Described, Privilege, Relation, Warehouse, rename_relations
from steward.warehouse.connect import connect, opened, refuse_unsupported, warehouse_class

__all__ = ["Comments", "Described", "Privilege", "Relation", "Warehouse", "connect", "opened", "refuse_unsupported",
           "rename_relations", "warehouse_class"]
