"""Fresh, empty target catalogs of every kind: SQL on disk, S3 Tables and Glue on the moto server."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import boto3
from pyiceberg.catalog import Catalog

from datax_migrate.catalogs import STAGE_CREATE

TARGETS = ["sql", "sql-unstaged", "s3tables", "glue", "glue-unstaged"]
UNSTAGED = {STAGE_CREATE: "false"}  # as on the S3 Tables / Glue Iceberg REST endpoints

OpenCatalog = Callable[[], Catalog]


def new_bucket() -> dict[str, str]:
    """Properties of a new S3 Tables table bucket (``mode: api``) on the endpoint in the env."""
    arn = boto3.client("s3tables").create_table_bucket(name=f"lake-{uuid.uuid4().hex[:8]}")["arn"]
    return {"type": "s3tables", "mode": "api", "warehouse": arn}


def catalog_properties(target: str, tmp_path: Path) -> dict[str, str]:
    """Properties of a fresh, empty catalog of kind ``target`` (AWS ones on the endpoint in the env)."""
    if target.endswith("-unstaged"):
        return {**catalog_properties(target.removesuffix("-unstaged"), tmp_path), **UNSTAGED}
    if target == "sql":
        return {"type": "sql", "uri": f"sqlite:///{tmp_path / 'catalog.db'}", "warehouse": (tmp_path / "wh").as_uri()}
    if target == "s3tables":
        return new_bucket()
    bucket = f"warehouse-{uuid.uuid4().hex[:8]}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    return {"type": "glue", "warehouse": f"s3://{bucket}/iceberg"}
