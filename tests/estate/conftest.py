"""Fixtures of the estate tests: a small real estate, planned."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.estate.support import id_table, plan_storage, write_config


@pytest.fixture
def estate(tmp_path: Path) -> dict[str, Path]:
    """Three Delta tables (one with a duplicated key), a config, and a plan of them in one wave."""
    storage = tmp_path / "storage"
    id_table(storage / "sales" / "orders", [1, 2, 3])
    id_table(storage / "sales" / "refunds", [4, 5])
    id_table(storage / "finance" / "ledger", [7, 7, 8])
    config = write_config(tmp_path)
    plan_storage(storage, tmp_path / "plan", config)
    return {"storage": storage, "config": config, "plan": tmp_path / "plan"}


def edit_plan(plan_dir: Path, table: str, **cells: str) -> None:
    path = plan_dir / "plan.csv"
    rows = list(csv.DictReader(path.open(newline="", encoding="utf-8")))
    for row in rows:
        if row["table"] == table:
            row.update(cells)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
