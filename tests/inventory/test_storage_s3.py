"""The storage scan over an s3:// prefix (moto server) finds what it finds on a local disk."""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path

import boto3
import pytest

from datax_migrate.inventory.crawl import crawl
from datax_migrate.inventory.sources.storage import StorageSource
from tests.support.s3 import upload_folder

pytestmark = [pytest.mark.aws, pytest.mark.corpus]

CASES = ("dv-partitioned-with-checkpoint", "table-with-columnmapping-mode-name", "v2-checkpoint-json")


def test_scan_an_s3_prefix(corpus: Path, aws_env: str) -> None:
    bucket = f"lake-{uuid.uuid4().hex[:8]}"
    client = boto3.client("s3")
    client.create_bucket(Bucket=bucket)
    for name in CASES:
        upload_folder(client, corpus / "golden" / name / "delta", bucket, f"lake/{name}")
    client.put_object(Bucket=bucket, Key="lake/broken/_delta_log/00000000000000000000.json", Body=b"not json\n")

    inventory = crawl([StorageSource(f"s3://{bucket}/lake")])

    assert inventory.sources == (f"storage s3://{bucket}/lake",)
    found = {t.location: t for t in inventory.tables}
    assert sorted(found) == sorted(f"s3://{bucket}/lake/{name}" for name in CASES)
    [failure] = inventory.failures
    assert (failure.subject, failure.stage) == (f"s3://{bucket}/lake/broken", "read-log")
    for name in CASES:
        local = crawl([StorageSource(str(corpus / "golden" / name))]).tables
        here = next(t for t in local if t.format == "delta")
        # everything but the commit time, which without in-commit timestamps is the upload's mtime
        assert replace(found[f"s3://{bucket}/lake/{name}"].delta, last_write=None) == replace(
            here.delta, last_write=None
        )
