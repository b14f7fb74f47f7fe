"""The Spark SQL of the reconciliation checksum, run by Spark, equals the local engine (marker ``spark``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from datax_migrate.reconcile.checksum.sql import checksum_sql, table_digest
from datax_migrate.reconcile.checksum.warehouse_sql import target_table
from tests.support.checksum_sample import Figures, local_figures, supported_table

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def sample(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> pa.Table:
    """The sample table as Parquet read by Spark, registered as the temp view ``sample``."""
    table = supported_table(3000, 17, odd_names=True)
    path = Path(tmp_path_factory.mktemp("checksum-sql")) / "sample.parquet"
    # Parquet gets plain names; the view gets the odd ones (a space, a backtick, a double quote).
    pq.write_table(table.rename_columns([f"c{i}" for i in range(table.num_columns)]), path)
    # pyarrow writes the proleptic Gregorian calendar: no rebasing of dates before 1582 / 1900.
    frame = spark.read.option("datetimeRebaseMode", "CORRECTED").parquet(str(path)).toDF(*table.column_names)
    types = {field.name: field.dataType.simpleString() for field in frame.schema.fields}
    assert types["ts"] == "timestamp" and types["ntz"] == "timestamp_ntz"
    assert (types["i8"], types["f32"], types["d"]) == ("tinyint", "float", "decimal(12,2)")
    frame.createOrReplaceTempView("sample")
    return table


@pytest.fixture
def strict_session(spark: Any) -> Iterator[Any]:
    """ANSI mode on (BIGINT overflow fails) and a session time zone with daylight saving time."""
    before = {key: spark.conf.get(key) for key in ("spark.sql.ansi.enabled", "spark.sql.session.timeZone")}
    spark.conf.set("spark.sql.ansi.enabled", "true")
    spark.conf.set("spark.sql.session.timeZone", "America/Los_Angeles")
    yield spark
    for key, value in before.items():
        spark.conf.set(key, value)


def spark_figures(spark: Any, sql: str) -> Figures:
    return [(row.bucket, row.row_count, row.lane_1, row.lane_2) for row in spark.sql(sql).collect()]


@pytest.mark.parametrize(("keys", "buckets"), [([], 1), (["i64", "with space"], 16), ([], 16)])
def test_spark_sql_equals_the_local_engine(spark: Any, sample: pa.Table, keys: list[str], buckets: int) -> None:
    sql = checksum_sql("sample", sample.schema, sample.column_names, keys, buckets, "spark")
    figures = spark_figures(spark, sql)
    assert figures == local_figures(sample, keys, buckets)
    if buckets == 1:
        assert table_digest(figures).rows == sample.num_rows


def test_spark_sql_is_exact_in_ansi_mode_and_any_session_time_zone(strict_session: Any, sample: pa.Table) -> None:
    sql = checksum_sql("sample", sample.schema, sample.column_names, ["ntz", "ts", "select"], 8, "spark")
    assert spark_figures(strict_session, sql) == local_figures(sample, ["ntz", "ts", "select"], 8)


def test_the_target_sql_of_a_report_folder_reads_the_iceberg_snapshot_it_names(spark: Any, sample: pa.Table) -> None:
    spark.sql("CREATE TABLE lake.evidence.sample USING iceberg AS SELECT * FROM sample")
    snapshot = spark.sql("SELECT snapshot_id FROM lake.evidence.sample.snapshots").first()[0]
    spark.sql("DELETE FROM lake.evidence.sample WHERE i64 > 0")  # a later snapshot the statement must not read
    table = target_table("lake", "evidence.sample", snapshot, "spark")
    sql = checksum_sql(table, sample.schema, sample.column_names, [], 1, "spark")
    assert spark_figures(spark, sql) == local_figures(sample, [], 1)
