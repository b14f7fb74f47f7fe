"""Translated notebooks' time travel on Spark finds history snapshots, also after a maintenance rewrite."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pyiceberg.catalog import Catalog

from datax_migrate.compat import delta_timestamp_snapshot, delta_version_snapshot
from datax_migrate.compat.delta import DeltaTable
from datax_migrate.convert import ConvertOptions, convert_table
from tests.support.compaction import compact
from tests.support.delta_tables import table_of_2023
from tests.support.spark import hadoop_catalog

pytestmark = [pytest.mark.spark, pytest.mark.xdist_group("spark")]


def test_version_timestamp_and_restore_over_history_with_a_rewrite(
    tmp_path: Path, catalog: Catalog, spark: Any
) -> None:
    source = str(table_of_2023(tmp_path / "t").root)  # versions 0, 1, 2 hold ids [1], [1, 2], [1, 2, 3]
    snapshots = [
        convert_table(source, catalog, "tt.h", version=v, options=ConvertOptions(replace=True)).snapshot_id
        for v in range(3)
    ]
    compacted = compact(catalog.load_table("tt.h"))  # S3 Tables-style compaction after version 2
    name = f"{hadoop_catalog(spark, catalog, 'tt.h', tmp_path / 'hadoop')}.tt.h"

    assert delta_version_snapshot(spark, name, 2) == compacted
    assert delta_version_snapshot(spark, name, 0) == snapshots[0]
    assert delta_timestamp_snapshot(spark, name, "2023-07-01 00:00:00") == snapshots[1]
    assert delta_timestamp_snapshot(spark, name, "2024-01-01") == compacted
    with pytest.raises(LookupError, match="Delta version 7"):
        delta_version_snapshot(spark, name, 7)

    DeltaTable.forName(spark, name).restoreToVersion(1)  # rollback_to_snapshot: only an ancestor will do
    assert sorted(r["id"] for r in spark.table(name).collect()) == [1, 2]
    # Version 2 is off the current line now; its newest snapshot still reads as version 2.
    assert delta_version_snapshot(spark, name, 2) == compacted
    assert sorted(r["id"] for r in spark.read.option("snapshot-id", compacted).table(name).collect()) == [1, 2, 3]
