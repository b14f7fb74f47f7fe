"""Time travel by timestamp in translated notebooks finds the Delta commit time, also for copied logs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pyiceberg.catalog import Catalog

from datax_migrate.compat import delta_timestamp_snapshot
from datax_migrate.convert import ConvertOptions, convert_table
from tests.support.delta_tables import table_of_2023
from tests.support.spark import hadoop_catalog

pytestmark = [pytest.mark.spark, pytest.mark.xdist_group("spark")]


def test_timestamp_time_travel_on_a_copied_table(tmp_path: Path, catalog: Catalog, spark: Any) -> None:
    source = str(table_of_2023(tmp_path / "t").root)  # commitInfo: 2023-01-15, 2023-06-15, 2023-11-15; files: now
    snapshots = {}
    for version in range(3):
        result = convert_table(source, catalog, "tt.t", version=version, options=ConvertOptions(replace=True))
        snapshots[version] = result.snapshot_id

    # Spark's Hadoop catalog reads the table pyiceberg wrote: its metadata under Hadoop's naming.
    name = f"{hadoop_catalog(spark, catalog, 'tt.t', tmp_path / 'hadoop')}.tt.t"

    assert delta_timestamp_snapshot(spark, name, "2023-07-01 00:00:00") == snapshots[1]
    assert delta_timestamp_snapshot(spark, name, "2023-11-15 12:00:00") == snapshots[2]
    with pytest.raises(LookupError, match="at or before 2022-12-31"):
        delta_timestamp_snapshot(spark, name, "2022-12-31")
    rows = spark.read.option("snapshot-id", snapshots[1]).table(name).collect()
    assert sorted(r["id"] for r in rows) == [1, 2]
