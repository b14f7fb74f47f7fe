"""Reconciliation: prove that a converted table holds the same rows as its source.

``reconcile_table`` compares a Delta table version with its Iceberg twin (schema, row counts,
column aggregates, order-independent checksums per bucket, and a row diff where buckets differ)
and returns a :class:`Report`; ``reports.write_reports`` renders it for people and CI.
``reconcile_sql`` gives the checksum SQL of both sides, to recompute a report in your own warehouse.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from datax_migrate.lazy import lazy_exports

if TYPE_CHECKING:
    from datax_migrate.reconcile.checksum.warehouse_sql import reconcile_sql
    from datax_migrate.reconcile.engine import ReconcileProgress
    from datax_migrate.reconcile.model import Check, Difference, ProofLevel, Report, Side, Status
    from datax_migrate.reconcile.run import ReconcileOptions, reconcile_table

_EXPORTS = {
    "Check": "datax_migrate.reconcile.model",
    "Difference": "datax_migrate.reconcile.model",
    "ProofLevel": "datax_migrate.reconcile.model",
    "Report": "datax_migrate.reconcile.model",
    "Side": "datax_migrate.reconcile.model",
    "Status": "datax_migrate.reconcile.model",
    "ReconcileOptions": "datax_migrate.reconcile.run",
    "ReconcileProgress": "datax_migrate.reconcile.engine",
    "reconcile_table": "datax_migrate.reconcile.run",
    "reconcile_sql": "datax_migrate.reconcile.checksum.warehouse_sql",
}

__all__ = [
    "Check",
    "Difference",
    "ProofLevel",
    "ReconcileOptions",
    "ReconcileProgress",
    "Report",
    "Side",
    "Status",
    "reconcile_sql",
    "reconcile_table",
]

__getattr__ = lazy_exports(__name__, _EXPORTS)
