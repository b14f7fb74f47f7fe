"""The Spark runtime: the session, and running tasks with results streaming back (:mod:`.jobs`).

This package knows nothing of the steps: convert and reconcile put their Spark engines beside their
local ones (:mod:`datax_migrate.convert.spark_engine`, :mod:`datax_migrate.reconcile.spark_engine`).
For EMR jobs and notebooks it also names the steps' Spark entry points, resolved by name on first
use, so ``import datax_migrate.spark`` loads neither step:

    >>> from datax_migrate.spark import convert_table, reconcile_table
    >>> result = convert_table(spark, "s3://lake/sales", catalog, "finance.sales")
    >>> report = reconcile_table(spark, "s3://lake/sales", catalog, "finance.sales")

The driver replays the Delta log, plans file groups and commits once; the executors read Delta
files with datax-migrate's own reader and write the Iceberg data files, the file groups dealt into
a few Spark tasks per core. The results equal the local engine's (the same task code runs in both).
The executors need ``datax-migrate`` installed (on EMR: the job's virtualenv archive, see
docs/emr.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from datax_migrate.lazy import lazy_exports

if TYPE_CHECKING:
    from datax_migrate.convert.spark_engine import convert_table
    from datax_migrate.reconcile.spark_engine import reconcile_table
    from datax_migrate.spark.session import spark_session

_EXPORTS = {
    "convert_table": "datax_migrate.convert.spark_engine",
    "reconcile_table": "datax_migrate.reconcile.spark_engine",
    "spark_session": "datax_migrate.spark.session",
}

__all__ = ["convert_table", "reconcile_table", "spark_session"]

__getattr__ = lazy_exports(__name__, _EXPORTS)
