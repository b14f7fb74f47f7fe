"""The Spark engine of ``reconcile`` gives the local engine's numbers and finds the same changed row."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from pyiceberg.catalog import Catalog

from datax_migrate.convert import convert_table
from datax_migrate.iceberg.read import read_snapshot
from datax_migrate.reconcile import ReconcileOptions
from datax_migrate.reconcile import reconcile_table as reconcile_locally
from datax_migrate.reconcile.spark_engine import reconcile_table as reconcile_on_spark
from tests.support.delta_tables import build_table

pytestmark = [pytest.mark.spark, pytest.mark.xdist_group("spark")]


@pytest.mark.corpus
@pytest.mark.parametrize(
    "name", ["dv-partitioned-with-checkpoint", "data-reader-timestamp_ntz", "decimal-various-scale-precision"]
)
def test_spark_reconciliation_gives_the_local_engines_numbers(
    name: str, corpus: Path, catalog: Catalog, spark: Any
) -> None:
    source = str(corpus / "golden" / name / "delta")
    convert_table(source, catalog, "rec.t")
    options = ReconcileOptions(sample=5)
    local = reconcile_locally(source, catalog, "rec.t", options)
    distributed = reconcile_on_spark(spark, source, catalog, "rec.t", options)
    assert distributed.verdict == local.verdict == "match"
    assert [(c.name, c.status, c.summary) for c in distributed.checks] == [
        (c.name, c.status, c.summary) for c in local.checks
    ]


def test_spark_reconciliation_finds_the_same_changed_row(tmp_path: Path, catalog: Catalog, spark: Any) -> None:
    source = tmp_path / "source"
    build_table(source, partitions=4, rows_per_file=2_000)
    convert_table(str(source), catalog, "rec.changed")
    table = catalog.load_table("rec.changed")
    rows = read_snapshot(table)
    amounts = rows["amount"].to_pylist()
    amounts[4321] += 1.0
    # A rewrite that still claims to be the conversion of that Delta version: reconcile compares it.
    summary = table.current_snapshot().summary.additional_properties
    converted_from = {k: v for k, v in summary.items() if k.startswith("datax.")}
    table.overwrite(rows.set_column(1, "amount", pa.array(amounts)), snapshot_properties=converted_from)
    options = ReconcileOptions(keys=("id",), sample=5)
    local = reconcile_locally(str(source), catalog, "rec.changed", options)
    distributed = reconcile_on_spark(spark, str(source), catalog, "rec.changed", options)
    assert distributed.verdict == local.verdict == "mismatch"
    checksum = next(c for c in distributed.checks if c.name == "checksum")
    assert checksum.summary == next(c for c in local.checks if c.name == "checksum").summary
    assert distributed.differences == local.differences
    assert len(distributed.differences) == 1 and distributed.differences[0].column == "amount"
