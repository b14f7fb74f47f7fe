"""The per-table notebook runs headless with papermill and converts its table."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import write_deltalake

from datax_migrate.config import Config
from datax_migrate.iceberg.read import read_snapshot

papermill = pytest.importorskip("papermill")

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "migrate_table.ipynb"


def test_migrate_table_notebook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "orders"
    write_deltalake(
        source, pa.table({"id": pa.array(range(100), pa.int64()), "day": ["a", "b"] * 50}), partition_by=["day"]
    )
    write_deltalake(source, pa.table({"id": pa.array(range(100, 150), pa.int64()), "day": ["c"] * 50}), mode="append")
    monkeypatch.setenv("DATAX_HOME", str(tmp_path / "home"))

    executed = tmp_path / "out.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(executed),
        parameters={"source": str(source), "target": "shop.orders", "version": 0},
        kernel_name="python3",
        cwd=str(tmp_path),
        progress_bar=False,
    )
    output = executed.read_text()
    assert "converted: Delta version 0 -> local.shop.orders" in output
    assert "datax.source-delta-version = 0" in output
    assert ": append, 100 rows" in output and "2 data files, 100 rows" in output
    table = Config.load().catalog().load_table("shop.orders")
    assert read_snapshot(table).num_rows == 100


VALIDATE = NOTEBOOK.parent / "validate_table.ipynb"


def test_validate_table_notebook_shows_the_verdict_and_differences(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from deltalake import DeltaTable

    from datax_migrate.cli import main

    source = tmp_path / "orders"
    write_deltalake(source, pa.table({"id": pa.array(range(200), pa.int64()), "amount": [1.5] * 200}))
    monkeypatch.setenv("DATAX_HOME", str(tmp_path / "home"))
    assert main(["convert", str(source), "shop.orders"]) == 0
    DeltaTable(source).update(updates={"amount": "2.5"}, predicate="id = 42")

    executed = tmp_path / "validated.ipynb"
    papermill.execute_notebook(
        str(VALIDATE),
        str(executed),
        parameters={"source": str(source), "target": "shop.orders", "keys": "id", "report_dir": str(tmp_path / "r")},
        kernel_name="python3",
        cwd=str(tmp_path),
        progress_bar=False,
    )
    output = executed.read_text()
    assert "VERDICT: MISMATCH" in output
    assert "1 differences, 1 shown" in output and "amount" in output
    assert (tmp_path / "r" / "report.html").is_file()
