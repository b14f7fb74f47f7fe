"""A plan folder with two waves over two catalogs, for the orchestrator emitters."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import yaml

HEADER = "databricks_name,location,catalog,namespace,table,strategy,wave,key_columns,tolerances,owner,notes".split(",")
ROOT = Path(__file__).resolve().parents[2]


def write_plan(plan_dir: Path, rows: list[dict[str, str]]) -> Path:
    """Write ``plan.csv`` (the columns of the plan contract) into ``plan_dir``."""
    plan_dir.mkdir(parents=True, exist_ok=True)
    with open(plan_dir / "plan.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=HEADER)
        writer.writeheader()
        for row in rows:
            writer.writerow({name: row.get(name, "") for name in HEADER})
    return plan_dir


def row(catalog: str, namespace: str, table: str, wave: int, strategy: str = "convert", **extra: str) -> dict[str, str]:
    """One plan row for the Delta table ``s3://lake/<namespace>/<table>``."""
    return {
        "databricks_name": f"main.{namespace}.{table}",
        "location": f"s3://lake/{namespace}/{table}",
        "catalog": catalog,
        "namespace": namespace,
        "table": table,
        "strategy": strategy,
        "wave": str(wave),
        "owner": "ana",
        **extra,
    }


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """Two catalogs: an S3 Tables bucket and Glue (no credentials: EMR jobs use their role)."""
    path = tmp_path / "aws.yaml"
    catalogs = {
        "lake": {"type": "s3tables", "warehouse": "arn:aws:s3tables:us-east-1:123456789012:bucket/lakehouse"},
        "glue": {"type": "glue", "warehouse": "s3://warehouse/glue"},
    }
    path.write_text(yaml.safe_dump({"catalogs": catalogs, "default_catalog": "lake"}))
    return path


@pytest.fixture
def plan_dir(tmp_path: Path) -> Path:
    """Wave 1: two convert tables (one per catalog) and a skipped one; wave 2: one table."""
    return write_plan(
        tmp_path / "plan",
        [
            row("lake", "sales", "orders", 1, key_columns="id;line"),
            row("glue", "crm", "customers", 1),
            row("lake", "sales", "legacy", 1, strategy="skip", notes="DX101: deletion vectors of an unknown kind"),
            row("lake", "finance", "ledger", 2),
        ],
    )
