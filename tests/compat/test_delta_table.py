"""compat.DeltaTable runs the delta-spark calls notebooks make as Iceberg SQL, with Column values quoted right."""

from __future__ import annotations

from typing import Any

import pytest

from datax_migrate.compat.delta import DeltaTable

pytestmark = [pytest.mark.spark, pytest.mark.xdist_group("spark")]


def test_update_and_delete_take_columns_and_sql_strings(spark: Any) -> None:
    from pyspark.sql import functions as F

    spark.sql("CREATE TABLE lake.compat.accounts (id INT, status STRING, balance DOUBLE) USING iceberg")
    spark.sql("INSERT INTO lake.compat.accounts VALUES (1, 'open', 10.0), (2, 'open', 20.0), (3, 'closed', 0.0)")
    table = DeltaTable.forName(spark, "lake.compat.accounts")

    table.update(F.col("id") == 1, {"status": F.lit("frozen"), "balance": F.col("balance") * 2})
    table.update("id = 2", {"status": "'it\\'s open'"})  # SQL text as written in Spark SQL
    table.delete(F.col("status") == F.lit("closed"))

    rows = sorted(tuple(r) for r in spark.table("lake.compat.accounts").collect())
    assert rows == [(1, "frozen", 20.0), (2, "it's open", 20.0)]
