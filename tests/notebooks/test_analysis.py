"""The summary: what a notebook uses and what would need a person."""

from __future__ import annotations

from datax_migrate.notebooks.analysis import summarize
from datax_migrate.notebooks.formats import parse_source

NOTEBOOK = """# Databricks notebook source
dbutils.widgets.text("day", "2024-01-01")
orders = spark.table("main.sales.orders")
dbutils.notebook.run("./child", 60, {"day": dbutils.widgets.get("day")})
files = dbutils.fs.ls("/mnt/raw/in")
ctx = dbutils.notebook.entry_point.getDbutils()

# COMMAND ----------

# MAGIC %sql
# MAGIC SELECT * FROM sales.customers c JOIN main.sales.orders o USING (id);
# MAGIC CONVERT TO DELTA parquet.`/mnt/x`

# COMMAND ----------

# MAGIC %run ./helpers/setup
"""


def test_summary_lists_what_the_notebook_uses() -> None:
    summary = summarize(parse_source(NOTEBOOK, "etl/daily.py"))
    assert summary.language == "python" and summary.cell_count == 3
    assert summary.magics == ("sql", "run")
    assert summary.tables_referenced == ("main.sales.orders", "sales.customers")
    assert summary.paths_referenced == ("/mnt/raw/in",)
    assert summary.dbutils_calls == (
        "widgets.text",
        "widgets.get",
        "notebook.run",
        "fs.ls",
        "notebook.entry_point.getDbutils",
    )
    assert summary.widgets == ("day",)
    assert summary.run_dependencies == ("./child", "./helpers/setup")
    assert [(f.code, f.cell, f.line) for f in summary.findings] == [
        ("path-not-mapped", 0, 4),
        ("dbutils-unsupported", 0, 5),
        ("convert-to-delta", 1, 2),
    ]


DYNAMIC = """# Databricks notebook source
dbutils.widgets.text("schema", "finance")
table = "main.sales.orders"
schema = dbutils.widgets.get("schema")

# COMMAND ----------

spark.table(table).join(spark.table(f"main.{schema}.ledger"), "id")
spark.sql(f"SELECT * FROM {table}_archive")
spark.table(spark.conf.get("my.table"))
"""


def test_tables_built_at_run_time_are_resolved_or_reported_in_the_summary() -> None:
    summary = summarize(parse_source(DYNAMIC, "dynamic.py"))
    assert summary.tables_referenced == ("main.sales.orders", "main.finance.ledger", "main.sales.orders_archive")
    person = [(f.code, f.original) for f in summary.findings]
    assert person == [
        ("table-name-widget", 'f"main.{schema}.ledger"'),
        ("table-name-dynamic", 'spark.conf.get("my.table")'),
    ]
