"""Conversion and reconciliation as Spark jobs: the API for EMR jobs and notebooks.

    >>> from datax_migrate.spark import convert_table, reconcile_table
    >>> result = convert_table(spark, "s3://lake/sales", catalog, "finance.sales")
    >>> report = reconcile_table(spark, "s3://lake/sales", catalog, "finance.sales")

The driver replays the Delta log, plans file groups and commits once; the executors read Delta
files with datax-migrate's own reader and write the Iceberg data files, one Spark task per file
group. The results equal the local engine's (the same task code runs in both). The executors need
``datax-migrate`` installed (on EMR: the job's virtualenv archive, see docs/emr.md).
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from typing import TYPE_CHECKING, Any

from datax_migrate.errors import ConfigError

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog

    from datax_migrate.convert.table import ConversionResult, ConvertOptions, ProgressCallback
    from datax_migrate.reconcile import ReconcileOptions, Report
    from datax_migrate.reconcile.run import ProgressCallback as ReconcileProgressCallback

__all__ = ["convert_table", "reconcile_table", "spark_session"]


def spark_session(app_name: str = "datax-migrate") -> Any:
    """The active ``SparkSession`` (under ``spark-submit``, on EMR), else a new one (local mode).

    Python workers run this interpreter unless ``PYSPARK_PYTHON`` says otherwise, so that they
    import this installation of datax-migrate.

    Raises:
        ConfigError: pyspark is not installed.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ConfigError("the Spark engine needs pyspark: pip install 'datax-migrate[spark]'") from None
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    return SparkSession.builder.appName(app_name).getOrCreate()


def convert_table(
    spark: Any,
    source: str,
    catalog: Catalog,
    identifier: str,
    *,
    version: int | None = None,
    timestamp: dt.datetime | None = None,
    options: ConvertOptions | None = None,
    progress: ProgressCallback | None = None,
    commit_times: str = "auto",
) -> ConversionResult:
    """Convert a Delta table into an Iceberg table with ``spark`` running the file groups.

    Takes the arguments of :func:`datax_migrate.convert.convert_table`, plus the ``SparkSession``;
    file groups are planned for the session's default parallelism.
    """
    from datax_migrate.convert.source import ConversionSource
    from datax_migrate.convert.spark_engine import SparkEngine
    from datax_migrate.convert.table import ConvertOptions
    from datax_migrate.convert.table import convert_table as convert

    options = options or ConvertOptions()
    engine = SparkEngine(spark)
    opened = ConversionSource.open(
        source, version, timestamp, options.target_file_bytes, engine.parallelism, commit_times=commit_times
    )
    return convert(opened, catalog, identifier, options=options, engine=engine, progress=progress)


def reconcile_table(
    spark: Any,
    source: str,
    catalog: Catalog,
    identifier: str,
    options: ReconcileOptions | None = None,
    progress: ReconcileProgressCallback | None = None,
) -> Report:
    """Reconcile a Delta table version with its Iceberg twin, both sides scanned by Spark tasks.

    Takes the arguments of :func:`datax_migrate.reconcile.reconcile_table`, plus the
    ``SparkSession``; the checks, checksums and report are the local engine's.
    """
    from datax_migrate.reconcile.run import reconcile_table as reconcile
    from datax_migrate.reconcile.spark_engine import SparkScanEngine

    return reconcile(source, catalog, identifier, options, progress, engine=SparkScanEngine(spark))
