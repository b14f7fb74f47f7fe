"""The Trino SQL of the reconciliation checksum, executed by DuckDB, equals the local engine.

DuckDB runs the statement as sqlglot transpiles it from Trino (tests/support/trino_on_duckdb.py says what
is adapted and why); the figures must equal the local engine's bucket by bucket.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from datax_migrate.reconcile.checksum.sql import checksum_sql, table_digest
from tests.support.checksum_sample import local_figures, supported_table
from tests.support.trino_on_duckdb import connection, run_trino


@pytest.fixture(scope="module")
def sample() -> pa.Table:
    return supported_table(3000, 17, odd_names=True)


@pytest.mark.parametrize(
    ("keys", "buckets"), [([], 1), (["i64", "with space"], 16), ([], 16), (["ntz", "ts", "select"], 8)]
)
def test_trino_sql_run_by_duckdb_equals_the_local_engine(sample: pa.Table, keys: list[str], buckets: int) -> None:
    con = connection()
    con.register("sample", sample)
    figures = run_trino(con, checksum_sql("sample", sample.schema, sample.column_names, keys, buckets, "trino"))
    assert figures == local_figures(sample, keys, buckets)
    assert sum(row[1] for row in figures) == sample.num_rows


@pytest.mark.parametrize("column", supported_table(1, 1, odd_names=True).column_names)
def test_each_kind_alone(sample: pa.Table, column: str) -> None:
    one = sample.select([column])
    con = connection()
    con.register("one", one)
    figures = run_trino(con, checksum_sql("one", one.schema, [column], [column], 4, "trino"))
    assert figures == local_figures(one, [column], 4)
    assert table_digest(figures) == table_digest(local_figures(one, [], 1))


def test_timestamps_far_from_the_epoch_and_in_other_zones() -> None:
    moments = [
        dt.datetime(1, 1, 1, tzinfo=dt.timezone.utc),
        dt.datetime(9999, 12, 31, 23, 59, 59, 999999, dt.timezone.utc),
    ]
    table = pa.table({"ts": pa.array(moments, pa.timestamp("us", tz="UTC"))})
    con = connection()
    con.execute("SET TimeZone = 'America/Los_Angeles'")
    con.register("far", table)
    assert run_trino(con, checksum_sql("far", table.schema, ["ts"], [], 1, "trino")) == local_figures(table, [], 1)
