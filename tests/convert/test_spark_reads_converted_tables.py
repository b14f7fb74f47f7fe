"""Spark's own Iceberg reader (as on EMR) reads every converted corpus table as the expected contents."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from pyiceberg.catalog import Catalog

from datax_migrate.convert import convert_table
from tests.support.corpus import CASES, expected_table
from tests.support.tables import assert_same_rows

pytestmark = [pytest.mark.spark, pytest.mark.corpus, pytest.mark.xdist_group("spark")]


@pytest.mark.parametrize(("kind", "name"), CASES, ids=[f"{k}/{n}" for k, n in CASES])
def test_spark_reads_converted_table(
    kind: str, name: str, corpus: Path, catalog: Catalog, spark: Any, tmp_path: Path
) -> None:
    identifier = f"corpus.{name.replace('-', '_')}"
    convert_table(str(corpus / kind / name / "delta"), catalog, identifier)
    metadata = catalog.load_table(identifier).metadata_location

    out = tmp_path / "spark-read"
    spark.read.format("iceberg").load(metadata).write.parquet(str(out))
    read_back = pq.read_table(out)
    assert_same_rows(read_back, expected_table(kind, name))
