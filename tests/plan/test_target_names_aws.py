"""Names S3 Tables or Glue cannot hold are refused with exit 2 before anything is created, on moto."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
import yaml

from datax_migrate.catalogs import open_catalog
from datax_migrate.cli import main
from datax_migrate.convert import convert_table
from datax_migrate.errors import ConfigError
from tests.support.catalogs import catalog_properties
from tests.support.delta_tables import one_row_table

pytestmark = pytest.mark.aws

REFUSED = {
    "s3tables": [
        ("sales.eu.orders", "namespace 'sales.eu' has 2 levels, but Amazon S3 Tables allows single-level namespaces"),
        ("sales.a\tb", "table name 'a\\tb' is not valid in Amazon S3 Tables: it may hold only a-z, 0-9 and _"),
        ("sales.a#b", "it may hold only a-z, 0-9 and _"),
        ("aws_sales.orders", "it must not start with the reserved prefix 'aws'"),
        ("sales." + "x" * 256, "it must be 1 to 255 characters long, not 256"),
    ],
    "glue": [
        ("sales.eu.orders", "namespace 'sales.eu' has 2 levels, but AWS Glue Data Catalog allows single-level"),
        ("sales.a?b", "table name 'a?b' is not valid in AWS Glue Data Catalog: it may hold only a-z, 0-9 and _"),
        ("sales." + "x" * 256, "it must be 1 to 255 characters long, not 256"),
    ],
}
CASES = [(kind, target, rule) for kind, cases in REFUSED.items() for target, rule in cases]


def created(kind: str, properties: dict[str, str]) -> list[str]:
    """What exists in the catalog's account: namespaces (and tables) of the bucket, or Glue databases and files."""
    if kind == "s3tables":
        tables = boto3.client("s3tables")
        arn = properties["warehouse"]
        namespaces = [n["namespace"][0] for n in tables.list_namespaces(tableBucketARN=arn)["namespaces"]]
        return namespaces + [t["name"] for t in tables.list_tables(tableBucketARN=arn)["tables"]]
    bucket = properties["warehouse"].removeprefix("s3://").split("/")[0]
    keys = [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=bucket).get("Contents", [])]
    databases = [d["Name"] for d in boto3.client("glue").get_databases()["DatabaseList"]]
    return keys + [d for d in databases if d in ("sales", "aws_sales")]


@pytest.mark.parametrize(("kind", "target", "rule"), CASES, ids=[f"{k}-{t[:16]!r}" for k, t, _ in CASES])
def test_a_refused_name_creates_nothing(
    kind: str, target: str, rule: str, aws_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    properties = catalog_properties(kind, tmp_path)
    config = tmp_path / "aws.yaml"
    config.write_text(yaml.safe_dump({"catalogs": {"aws": properties}, "default_catalog": "aws"}))
    source = one_row_table(tmp_path / "t")

    assert main(["convert", str(source), target, "--config", str(config)]) == 2

    err = capsys.readouterr().err
    assert rule in err and err.count("\n") == 1, err
    assert created(kind, properties) == []
    with pytest.raises(ConfigError, match="levels|not valid"):
        convert_table(str(source), open_catalog("aws", properties), target)
    assert created(kind, properties) == []
