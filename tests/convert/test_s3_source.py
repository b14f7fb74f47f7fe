"""Delta tables read from s3:// (moto server) convert like local ones."""

from __future__ import annotations

import uuid
from pathlib import Path

import boto3
import pytest
from pyiceberg.catalog import Catalog

from datax_migrate.convert import convert_table
from datax_migrate.iceberg.read import read_snapshot
from tests.support.corpus import expected_table
from tests.support.s3 import upload_folder
from tests.support.tables import assert_same_rows

pytestmark = [pytest.mark.aws, pytest.mark.corpus]


@pytest.mark.parametrize(
    "name",
    ["dv-partitioned-with-checkpoint", "data-reader-escaped-chars", "v2-checkpoint-json", "multi-part-checkpoint"],
)
def test_convert_from_s3(name: str, corpus: Path, catalog: Catalog, aws_env: str) -> None:
    bucket = f"lake-{uuid.uuid4().hex[:8]}"
    client = boto3.client("s3")
    client.create_bucket(Bucket=bucket)
    upload_folder(client, corpus / "golden" / name / "delta", bucket, f"tables/{name}")

    source = f"s3://{bucket}/tables/{name}"
    result = convert_table(source, catalog, f"s3.{name.replace('-', '_')}")
    assert result.source.location == source
    table = catalog.load_table(f"s3.{name.replace('-', '_')}")
    assert_same_rows(read_snapshot(table), expected_table("golden", name))
