"""Migrate a whole estate: the editable plan, the resumable run ledger, the wave runner and its status.

``plan_estate`` writes ``PLAN_DIR/plan.csv`` and ``plan.json`` from an inventory; :class:`Plan` reads
it back (validated again on every use); :class:`Ledger` holds each table's state; ``run_plan`` runs a
wave: convert, reconcile, awaiting sign-off.

    >>> from datax_migrate.estate import Ledger, Plan, run_plan
    >>> summary = run_plan("plan", wave=1, workers=2)
    >>> [record.state for record in Ledger.open(Plan.load("plan").directory).records(wave=1)]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from datax_migrate.lazy import lazy_exports

if TYPE_CHECKING:
    from datax_migrate.estate.ledger import Ledger, LedgerError, TableRecord
    from datax_migrate.estate.plan import Plan, PlanError, PlannedTable
    from datax_migrate.estate.planning import PlanOptions, plan_estate
    from datax_migrate.estate.run import RunProgress, RunSummary, run_plan

_EXPORTS = {
    "Ledger": "datax_migrate.estate.ledger",
    "LedgerError": "datax_migrate.estate.ledger",
    "TableRecord": "datax_migrate.estate.ledger",
    "Plan": "datax_migrate.estate.plan",
    "PlanError": "datax_migrate.estate.plan",
    "PlannedTable": "datax_migrate.estate.plan",
    "PlanOptions": "datax_migrate.estate.planning",
    "plan_estate": "datax_migrate.estate.planning",
    "RunProgress": "datax_migrate.estate.run",
    "RunSummary": "datax_migrate.estate.run",
    "run_plan": "datax_migrate.estate.run",
}
__all__ = [
    "Ledger",
    "LedgerError",
    "PlanError",
    "PlanOptions",
    "Plan",
    "PlannedTable",
    "RunProgress",
    "RunSummary",
    "TableRecord",
    "plan_estate",
    "run_plan",
]
__getattr__ = lazy_exports(__name__, _EXPORTS)
