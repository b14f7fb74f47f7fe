"""A missing table bucket: refused with a clear message, or created with --create-bucket."""

from __future__ import annotations

import uuid
from pathlib import Path

import boto3
import pyarrow as pa
import pytest
import yaml

from datax_migrate.cli import main
from datax_migrate.config import Config
from datax_migrate.iceberg.read import read_snapshot
from tests.support.delta_builder import DeltaBuilder, field

pytestmark = pytest.mark.aws

MOTO_ACCOUNT = "123456789012"


def config_for(tmp_path: Path, bucket: str, account: str = MOTO_ACCOUNT) -> Path:
    arn = f"arn:aws:s3tables:us-east-1:{account}:bucket/{bucket}"
    path = tmp_path / "aws.yaml"
    path.write_text(yaml.safe_dump({"catalogs": {"lake": {"type": "s3tables", "warehouse": arn}}}))
    return path


def small_table(root: Path) -> str:
    builder = DeltaBuilder(root)
    data = pa.table({"id": pa.array([1, 2, 3], pa.int64())})
    builder.commit(builder.protocol(), builder.metadata([field("id", "long")]), builder.data_file(data))
    return str(builder.root)


def bucket_names() -> set[str]:
    return {b["name"] for b in boto3.client("s3tables").list_table_buckets()["tableBuckets"]}


def test_a_missing_bucket_is_refused_without_the_flag_and_created_with_it(
    tmp_path: Path, aws_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    bucket = f"new-{uuid.uuid4().hex[:8]}"
    config = config_for(tmp_path, bucket)
    source = small_table(tmp_path / "t")
    args = ["convert", source, "sales.orders", "--config", str(config), "--catalog", "lake"]

    assert main(args) == 2
    err = capsys.readouterr().err
    assert f"table bucket arn:aws:s3tables:us-east-1:{MOTO_ACCOUNT}:bucket/{bucket} does not exist" in err
    assert "--create-bucket" in err
    assert bucket not in bucket_names()

    assert main([*args, "--create-bucket"]) == 0
    captured = capsys.readouterr()
    assert f"created table bucket arn:aws:s3tables:us-east-1:{MOTO_ACCOUNT}:bucket/{bucket}" in captured.err
    table = Config.load(config).catalog("lake").load_table("sales.orders")
    assert read_snapshot(table).column("id").to_pylist() == [1, 2, 3]

    # The bucket exists now: the flag is a no-op, the rerun unchanged.
    assert main([*args, "--create-bucket"]) == 0
    assert "created table bucket" not in capsys.readouterr().err


def test_a_bucket_of_another_account_is_not_mistaken_for_ours(
    tmp_path: Path, aws_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    bucket = f"theirs-{uuid.uuid4().hex[:8]}"
    config = config_for(tmp_path, bucket, account="111122223333")
    source = small_table(tmp_path / "t")
    assert (
        main(["convert", source, "sales.orders", "--config", str(config), "--catalog", "lake", "--create-bucket"]) == 2
    )
    assert "the credentials in use belong to another account or region than the ARN's" in capsys.readouterr().err
