"""Translated notebooks run headless on local Spark with the Iceberg runtime against converted tables.

The Databricks notebook in ``runnable/`` is translated, a test-only first cell builds a local
SparkSession whose ``lake`` catalog (an Iceberg Hadoop catalog) holds the table the converter
wrote, and papermill runs it in a python3 kernel, where ``datax_migrate.compat``
provides ``%%sql``, ``dbutils`` and the Delta-version lookups.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pyarrow as pa
import pytest

from datax_migrate.convert import convert_table
from datax_migrate.convert.table import ConvertOptions
from datax_migrate.notebooks.context import TranslateOptions
from datax_migrate.notebooks.emit import to_ipynb
from datax_migrate.notebooks.formats import read_notebook
from datax_migrate.notebooks.paths import Locations
from datax_migrate.notebooks.translate import translate_notebook

pytestmark = [pytest.mark.spark, pytest.mark.slow, pytest.mark.xdist_group("spark")]

RUNNABLE = Path(__file__).parent / "runnable"
JARS = Path(os.environ.get("DATAX_SPARK_JARS", Path(__file__).resolve().parents[2] / ".venv" / "spark-jars"))

SPARK_SETUP = """
from pyspark.sql import SparkSession
spark = (
    SparkSession.builder.master("local[2]")
    .config("spark.jars", {jars!r})
    .config("spark.sql.extensions", "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions")
    .config("spark.sql.catalog.lake", "org.apache.iceberg.spark.SparkCatalog")
    .config("spark.sql.catalog.lake.type", "hadoop")
    .config("spark.sql.catalog.lake.warehouse", {warehouse!r})
    .config("spark.sql.session.timeZone", "UTC")
    .config("spark.ui.enabled", "false")
    .config("spark.sql.shuffle.partitions", "2")
    .getOrCreate()
)
spark.sparkContext.setLogLevel("ERROR")
"""


def test_translated_notebook_runs_on_spark_with_iceberg(tmp_path: Path, catalog: object) -> None:
    papermill = pytest.importorskip("papermill")
    deltalake = pytest.importorskip("deltalake")
    if shutil.which("java") is None or not (JARS / "jars.txt").is_file():
        pytest.skip("needs java and the Iceberg Spark jars (make .venv/spark-jars/jars.txt)")
    source = tmp_path / "orders"
    ids = list(range(150))
    rows = pa.table(
        {
            "id": pa.array(ids, pa.int64()),
            "amount": pa.array([float(i) for i in ids]),
            "country": [["at", "be", "ch"][i % 3] for i in ids],
        }
    )
    deltalake.write_deltalake(source, rows.slice(0, 100))
    deltalake.write_deltalake(source, rows.slice(100), mode="append")
    convert_table(str(source), catalog, "shop.orders", version=0)  # type: ignore[arg-type]
    convert_table(str(source), catalog, "shop.orders", version=1, options=ConvertOptions(replace=True))  # type: ignore[arg-type]
    metadata = catalog.load_table("shop.orders").metadata_location  # type: ignore[attr-defined]

    translated = translate_notebook(
        read_notebook(RUNNABLE / "orders_report.py"), TranslateOptions(Locations(catalog="lake"))
    )
    assert not translated.needs_person, [f.code for f in translated.findings if f.severity.value != "info"]
    document = to_ipynb(translated)
    jars = ",".join(line.strip() for line in (JARS / "jars.txt").read_text().splitlines() if line.strip())
    # A Hadoop catalog finds a table by its folder: vN.metadata.json and version-hint.text.
    hadoop_table = tmp_path / "spark-warehouse" / "shop" / "orders" / "metadata"
    hadoop_table.mkdir(parents=True)
    shutil.copyfile(metadata.removeprefix("file://"), hadoop_table / "v1.metadata.json")
    (hadoop_table / "version-hint.text").write_text("1")
    setup = SPARK_SETUP.format(jars=jars, warehouse=str(tmp_path / "spark-warehouse"))
    document["cells"].insert(
        0,
        {
            "cell_type": "code",
            "id": "test-spark",
            "metadata": {},
            "source": setup,
            "execution_count": None,
            "outputs": [],
        },
    )
    notebook = tmp_path / "orders_report.ipynb"
    notebook.write_text(json.dumps(document))

    executed = tmp_path / "executed.ipynb"
    papermill.execute_notebook(
        str(notebook),
        str(executed),
        parameters={"min_amount": "90"},
        kernel_name="python3",
        cwd=str(tmp_path),
        progress_bar=False,
    )
    outputs = "\n".join(
        "".join(o.get("text", "")) + json.dumps(o.get("data", {}))
        for cell in json.loads(executed.read_text())["cells"]
        for o in cell.get("outputs", [])
    )
    assert "big orders: 60" in outputs  # amounts 90..149 at Delta version 1
    assert "after merge: 70 10" in outputs  # ids 0..9 inserted by MERGE INTO
    assert "version 0 rows: 100" in outputs  # VERSION AS OF 0: the snapshot converted from Delta version 0
    assert "delta_version" in outputs and "country" in outputs
