"""Sync against real services: S3 Tables on the moto server (with maintenance in between), and the Spark engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pyiceberg.catalog import Catalog

from datax_migrate.catalogs import open_catalog
from datax_migrate.convert.history import current_data_files
from datax_migrate.iceberg.read import read_snapshot
from datax_migrate.sync import sync_table
from datax_migrate.sync.spark_engine import sync_table as sync_on_spark
from tests.support.catalogs import new_bucket
from tests.support.tables import assert_same_rows
from tests.sync.test_sync import compact, id_table, ids, ids_in


@pytest.mark.aws
def test_sync_on_s3_tables_after_a_maintenance_replace_snapshot(tmp_path: Path, aws_env: str) -> None:
    catalog = open_catalog("lake", new_bucket())
    builder, adds = id_table(tmp_path / "t", [1], [2], [3])
    first = sync_table(str(builder.root), catalog, "sales.orders")
    assert first.status == "synced"
    table = catalog.load_table("sales.orders")
    compact(table, sorted(current_data_files(table))[:2])  # as S3 Tables compaction does, on its own
    builder.commit(builder.remove(adds[2]), builder.data_file(ids([4])))
    builder.commit(builder.data_file(ids([5])))

    result = sync_table(str(builder.root), catalog, "sales.orders")
    assert (result.status, result.from_version, result.to_version, len(result.snapshot_ids)) == ("synced", 0, 2, 2)
    assert any("maintenance snapshot" in note for note in result.notes)
    table = catalog.load_table("sales.orders")
    assert ids_in(table) == [1, 2, 4, 5]
    assert ids_in(table, result.snapshot_ids[0]) == [1, 2, 4]
    assert sync_table(str(builder.root), catalog, "sales.orders").status == "in-step"


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_sync_through_spark_writes_what_the_local_engine_writes(tmp_path: Path, catalog: Catalog, spark: Any) -> None:
    builder, adds = id_table(tmp_path / "t", [1, 2], [3])
    sync_table(str(builder.root), catalog, "local.t")
    sync_on_spark(spark, str(builder.root), catalog, "spark.t")
    builder.commit(builder.remove(adds[0]), builder.data_file(ids([4, 5])))
    builder.commit(builder.data_file(ids([6])))

    local = sync_table(str(builder.root), catalog, "local.t")
    distributed = sync_on_spark(spark, str(builder.root), catalog, "spark.t")
    assert (distributed.from_version, distributed.to_version) == (local.from_version, local.to_version) == (0, 2)
    assert distributed.data_files_written == local.data_files_written
    ours, theirs = catalog.load_table("spark.t"), catalog.load_table("local.t")
    for mine, other in zip(distributed.snapshot_ids, local.snapshot_ids, strict=True):
        assert_same_rows(read_snapshot(ours, mine), read_snapshot(theirs, other))
    assert ids_in(ours) == [3, 4, 5, 6]
