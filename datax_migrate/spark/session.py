"""The Spark session datax-migrate runs on: the active one (spark-submit, EMR), else a local one."""

from __future__ import annotations

import os
import sys
from typing import Any

from datax_migrate.errors import ConfigError


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
