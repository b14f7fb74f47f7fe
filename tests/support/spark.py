"""A local Spark 3.5 session with the Iceberg runtime (marker ``spark``): a plugin of ``tests/conftest.py``.

The session starts when the first test of a worker asks for ``spark``, never in the offline suite.

The jars come from ``scripts/spark-jars.sh`` (``make test`` builds them into ``.venv/spark-jars``);
``DATAX_SPARK_JARS`` may point at another folder holding ``jars.txt``.
"""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from pyiceberg.catalog import Catalog

ROOT = Path(__file__).resolve().parents[2]
"""The project folder."""
JARS = Path(os.environ.get("DATAX_SPARK_JARS", ROOT / ".venv" / "spark-jars"))


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    pyspark_sql = pytest.importorskip("pyspark.sql", reason="pyspark is not installed: pip install 'pyspark>=3.5,<3.6'")
    if shutil.which("java") is None:
        pytest.skip("no java on PATH: Spark needs a JDK (17)")
    listing = JARS / "jars.txt"
    if not listing.is_file():
        pytest.skip(f"Iceberg jars for Spark not found at {JARS}: run scripts/spark-jars.sh (make test does)")
    jars = ",".join(line.strip() for line in listing.read_text().splitlines() if line.strip())
    warehouse = tmp_path_factory.mktemp("spark-warehouse")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # Python workers import datax_migrate from this venv
    session = (
        pyspark_sql.SparkSession.builder.master("local[2]")
        .appName("datax-migrate-tests")
        .config("spark.jars", jars)
        .config("spark.sql.extensions", "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions")
        .config("spark.sql.catalog.lake", "org.apache.iceberg.spark.SparkCatalog")
        .config("spark.sql.catalog.lake.type", "hadoop")
        .config("spark.sql.catalog.lake.warehouse", str(warehouse))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def hadoop_catalog(spark: Any, catalog: Catalog, identifier: str, root: Path) -> str:
    """A Spark catalog (Iceberg, Hadoop) of its own under ``root`` that holds ``identifier`` of ``catalog``
    as its current metadata, under Hadoop's naming; returns the catalog's name.

    Spark keeps a catalog once it has loaded it, whatever its settings say later, so every call takes
    a new name: tests that share the session never see each other's tables.
    """
    metadata = root.joinpath(*identifier.split("."), "metadata")
    metadata.mkdir(parents=True)
    shutil.copy(urlparse(catalog.load_table(identifier).metadata_location).path, metadata / "v1.metadata.json")
    (metadata / "version-hint.text").write_text("1")
    name = f"conv_{uuid.uuid4().hex[:8]}"
    spark.conf.set(f"spark.sql.catalog.{name}", "org.apache.iceberg.spark.SparkCatalog")
    spark.conf.set(f"spark.sql.catalog.{name}.type", "hadoop")
    spark.conf.set(f"spark.sql.catalog.{name}.warehouse", str(root))
    return name
