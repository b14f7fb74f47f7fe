"""One contract over every target catalog: corpus tables convert, and read back equal through the
same catalog and through a fresh client (SQL; S3 Tables ``api`` and Glue on the moto server; SQL and
Glue also without staged creates, the route the S3 Tables and Glue Iceberg REST endpoints need)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import boto3
import pytest
from pyiceberg.catalog import Catalog

from datax_migrate.catalogs import STAGE_CREATE, open_catalog
from datax_migrate.convert import convert_table
from datax_migrate.iceberg.read import read_snapshot
from datax_migrate.iceberg.target import PENDING
from tests.corpus.test_corpus_convert import expected_table
from tests.tables import assert_same_rows

pytestmark = [pytest.mark.aws, pytest.mark.corpus]

TARGETS = ["sql", "sql-unstaged", "s3tables", "glue", "glue-unstaged"]
UNSTAGED = {STAGE_CREATE: "false"}  # as on the S3 Tables / Glue Iceberg REST endpoints
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

OpenCatalog = Callable[[], Catalog]


def catalog_properties(target: str, tmp_path: Path) -> dict[str, str]:
    """Properties of a fresh, empty catalog of kind ``target`` (AWS ones on the endpoint in the env)."""
    if target.endswith("-unstaged"):
        return {**catalog_properties(target.removesuffix("-unstaged"), tmp_path), **UNSTAGED}
    if target == "sql":
        return {"type": "sql", "uri": f"sqlite:///{tmp_path / 'catalog.db'}", "warehouse": (tmp_path / "wh").as_uri()}
    suffix = uuid.uuid4().hex[:8]
    if target == "s3tables":
        arn = boto3.client("s3tables").create_table_bucket(name=f"lake-{suffix}")["arn"]
        return {"type": "s3tables", "mode": "api", "warehouse": arn}
    bucket = f"warehouse-{suffix}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    return {"type": "glue", "warehouse": f"s3://{bucket}/iceberg"}


@pytest.fixture(params=TARGETS)
def open_target(request: pytest.FixtureRequest, tmp_path: Path) -> OpenCatalog:
    """Opens a new client of one fresh catalog per call (moto through ``aws_env`` for AWS targets)."""
    if not request.param.startswith("sql"):
        request.getfixturevalue("aws_env")
    properties = catalog_properties(request.param, tmp_path)
    return lambda: open_catalog(request.param, properties)


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
