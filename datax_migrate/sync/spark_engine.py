"""Sync on Spark: the data files of the replayed versions are written by Spark tasks, the commit on the driver."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from datax_migrate.delta.commit_times import AUTO

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog

    from datax_migrate.convert.table import ProgressCallback
    from datax_migrate.sync.table import SyncResult


def sync_table(
    spark: Any,
    source: str,
    catalog: Catalog,
    identifier: str,
    *,
    to_version: int | None = None,
    to_timestamp: dt.datetime | None = None,
    squash: bool = False,
    progress: ProgressCallback | None = None,
    commit_times: str = AUTO,
) -> SyncResult:
    """Sync ``identifier`` with the Delta table at ``source``, ``spark`` (a ``SparkSession``) writing the files.

    Takes the arguments of :func:`datax_migrate.sync.sync_table`, plus the session.
    """
    from datax_migrate.convert.spark_engine import SparkEngine
    from datax_migrate.sync.table import sync_table as sync

    return sync(
        source,
        catalog,
        identifier,
        to_version=to_version,
        to_timestamp=to_timestamp,
        squash=squash,
        engine=SparkEngine(spark),
        progress=progress,
        commit_times=commit_times,
    )
