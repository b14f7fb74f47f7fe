"""Keep a living Delta table in step with its Iceberg copy: history, incremental sync and cutover.

The names below load on first use (pyiceberg is imported only then).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from datax_migrate.lazy import lazy_exports

if TYPE_CHECKING:
    from datax_migrate.sync.table import InterruptedAfterSync, SyncRefused, SyncResult, sync_table

_EXPORTS = {
    "InterruptedAfterSync": "datax_migrate.sync.table",
    "SyncRefused": "datax_migrate.sync.table",
    "SyncResult": "datax_migrate.sync.table",
    "sync_table": "datax_migrate.sync.table",
}

__all__ = ["InterruptedAfterSync", "SyncRefused", "SyncResult", "sync_table"]

__getattr__ = lazy_exports(__name__, _EXPORTS)
