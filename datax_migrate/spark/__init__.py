"""The Spark runtime: the session (:mod:`.session`), and running tasks with results streaming back (:mod:`.jobs`).

This package knows nothing of the steps: convert and reconcile put their Spark engines beside their
local ones, and those are the entry points for EMR jobs and notebooks:

    >>> from datax_migrate.convert.spark_engine import convert_table
    >>> from datax_migrate.reconcile.spark_engine import reconcile_table
    >>> result = convert_table(spark, "s3://lake/sales", catalog, "finance.sales")
    >>> report = reconcile_table(spark, "s3://lake/sales", catalog, "finance.sales")

The driver replays the Delta log, plans file groups and commits once; the executors read Delta
files with datax-migrate's own reader and write the Iceberg data files, the file groups dealt into
a few Spark tasks per core. The results equal the local engine's (the same task code runs in both).
The executors need ``datax-migrate`` installed (on EMR: the job's virtualenv archive, see
docs/emr.md).
"""

from __future__ import annotations

from datax_migrate.spark.session import spark_session

__all__ = ["spark_session"]
