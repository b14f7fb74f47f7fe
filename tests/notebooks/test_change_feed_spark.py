"""Delta's change data feed, translated, runs on local Spark over a converted table and gives Delta's changes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from pyiceberg.catalog import Catalog

from datax_migrate.compat import delta_timestamp_snapshot, delta_version_snapshot
from datax_migrate.convert import ConvertOptions, convert_table
from datax_migrate.notebooks.context import Recorder, TranslateOptions
from datax_migrate.notebooks.paths import Locations
from datax_migrate.notebooks.python_rules import translate_python
from datax_migrate.notebooks.sql_rules import translate_sql
from tests.support.spark import hadoop_catalog

pytestmark = [pytest.mark.spark, pytest.mark.xdist_group("spark")]


def test_table_changes_and_read_change_feed_give_deltas_changes(
    tmp_path: Path,
    catalog: Catalog,
    spark: Any,
) -> None:
    deltalake = pytest.importorskip("deltalake")
    source = tmp_path / "orders"
    deltalake.write_deltalake(source, pa.table({"id": [1, 2, 3], "v": ["a", "b", "c"]}))  # version 0
    deltalake.write_deltalake(source, pa.table({"id": [4], "v": ["d"]}), mode="append")  # version 1
    deltalake.DeltaTable(source).delete("id = 2")  # version 2
    deltalake.write_deltalake(source, pa.table({"id": [5], "v": ["e"]}), mode="append")  # version 3
    for version in range(4):
        convert_table(str(source), catalog, "cdf.orders", version=version, options=ConvertOptions(replace=True))
    conv = hadoop_catalog(spark, catalog, "cdf.orders", tmp_path / "hadoop")
    rec = Recorder("n.py", TranslateOptions(Locations(catalog=conv)))
    scope = {"spark": spark, "delta_version_snapshot": delta_version_snapshot}
    scope["delta_timestamp_snapshot"] = delta_timestamp_snapshot

    # Delta versions 1..2 of the feed: id 4 inserted, id 2 deleted (ids 1 and 3, rewritten, are no change)
    call, query = translate_sql("SELECT id, _change_type FROM table_changes('cdf.orders', 1, 2)", rec)
    spark.sql(eval(call.python(), scope))  # noqa: S307 - the translated statement, as the notebook runs it
    assert sorted(tuple(r) for r in spark.sql(query.sql).collect()) == [(2, "DELETE"), (4, "INSERT")]

    code = translate_python(
        'changes = spark.read.format("delta").option("readChangeFeed", "true")'
        '.option("startingVersion", 3).table("cdf.orders")',
        rec,
    )
    assert code is not None
    exec(code, scope)  # noqa: S102 - the translated cell
    assert [tuple(r) for r in scope["changes"].select("id", "v", "_change_type").collect()] == [(5, "e", "INSERT")]
    assert {f.code for f in rec.findings} == {"table-mapped", "change-feed-read"}
