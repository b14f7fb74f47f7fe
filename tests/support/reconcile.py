"""A bank-accounts table converted into the local catalog, and ``reconcile`` run through the CLI."""

from __future__ import annotations

import decimal
import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

from datax_migrate.cli import main


def accounts(rows: int = 5_000, seed: int = 3) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table(
        {
            "id": pa.array(np.arange(rows, dtype=np.int64)),
            "branch": pa.array(rng.choice(["north", "south", "east"], rows)),
            "balance": pa.array(
                [decimal.Decimal(int(v)).scaleb(-2) for v in rng.integers(-(10**7), 10**7, rows)], pa.decimal128(12, 2)
            ),
            "rate": pa.array(rng.random(rows)),
            "note": pa.array([None if i % 17 == 0 else f"note {i}" for i in range(rows)]),
        }
    )


def converted(root: Path, table: pa.Table, partition_by: list[str] | None = None) -> Path:
    """A Delta table at ``root``, converted into ``bank.accounts`` of the local catalog."""
    write_deltalake(root, table, partition_by=partition_by)
    DeltaTable(root).delete("id % 97 = 5")  # deletion: the conversion must drop these rows too
    assert main(["convert", str(root), "bank.accounts"]) == 0
    return root


def reconcile(*args: str) -> tuple[int, dict[str, Any]]:
    report_dir = Path(args[args.index("--report-dir") + 1])
    code = main(["reconcile", *args])
    report = json.loads((report_dir / "report.json").read_text()) if (report_dir / "report.json").exists() else {}
    return code, report
