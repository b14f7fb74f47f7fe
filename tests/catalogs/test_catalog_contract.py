"""One contract over every target catalog: corpus tables convert, and read back equal through the
same catalog and through a fresh client (SQL; S3 Tables ``api`` and Glue on the moto server; SQL and
Glue also without staged creates, the route the S3 Tables and Glue Iceberg REST endpoints need)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from datax_migrate.convert import convert_table
from datax_migrate.iceberg.read import read_snapshot
from datax_migrate.iceberg.target import PENDING
from tests.support.catalogs import OpenCatalog
from tests.support.corpus import expected_table
from tests.support.tables import assert_same_rows

pytestmark = [pytest.mark.aws, pytest.mark.corpus]

CASES = [
    ("golden", "dv-partitioned-with-checkpoint"),
    ("golden", "table-with-columnmapping-mode-name"),
    ("golden", "data-reader-escaped-chars"),
    ("golden", "data-reader-timestamp_ntz"),
    ("golden", "decimal-various-scale-precision"),
    ("golden", "v2-checkpoint-json"),
    ("golden", "data-reader-nested-struct"),
    ("dat", "multi_partitioned"),
]


@pytest.mark.parametrize(("kind", "name"), CASES, ids=[name for _, name in CASES])
def test_corpus_table_round_trips(kind: str, name: str, corpus: Path, open_target: OpenCatalog) -> None:
    catalog = open_target()
    # Glue databases are account-wide: a namespace of its own per test keeps targets apart.
    identifier = f"contract_{uuid.uuid4().hex[:8]}.{name.replace('-', '_')}"
    result = convert_table(str(corpus / kind / name / "delta"), catalog, identifier)
    assert result.status == "converted"

    expected = expected_table(kind, name)
    assert PENDING not in catalog.load_table(identifier).properties
    for reader in (catalog, open_target()):
        table = reader.load_table(identifier)
        assert table.current_snapshot() is not None
        assert_same_rows(read_snapshot(table), expected)
    again = convert_table(str(corpus / kind / name / "delta"), open_target(), identifier)
    assert again.status == "unchanged"
