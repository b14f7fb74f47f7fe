"""The per-table notebook runs headless with papermill and converts its table."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import write_deltalake

from datax_migrate.config import Config
from datax_migrate.iceberg.read import read_snapshot

papermill = pytest.importorskip("papermill")

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "migrate_table.ipynb"


@pytest.mark.slow
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


def run_papermill(notebook: Path, output: Path, cwd: Path, *parameters: str) -> subprocess.CompletedProcess[str]:
    """The papermill command line, as a scheduler runs it."""
    pairs = [arg for name, value in zip(parameters[::2], parameters[1::2], strict=True) for arg in ("-p", name, value)]
    command = [sys.executable, "-m", "papermill", str(notebook), str(output), "-k", "python3", *pairs]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300, env=os.environ.copy())


@pytest.mark.parametrize("notebook", [NOTEBOOK, VALIDATE], ids=lambda path: path.stem)
def test_help_notebook_lists_every_parameter_with_its_type(notebook: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "papermill", "--help-notebook", str(notebook)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    listed = dict(re.findall(r"^  (\w+): (.+?) \(default ", result.stdout, re.MULTILINE))
    cell = next(c for c in json.loads(notebook.read_text())["cells"] if "parameters" in c["metadata"].get("tags", []))
    assigned = re.findall(r"^(\w+)\s*[:=]", "".join(cell["source"]), re.MULTILINE)
    assert assigned and sorted(listed) == sorted(assigned)
    assert "Unknown type" not in result.stdout
    expected = {
        "source": "str",
        "target": "str",
        "catalog": "str",
        "config": "Optional[str]",
        "version": "Optional[int]",
    }
    if notebook == VALIDATE:
        expected |= {
            "keys": "str",
            "tolerances": "str",
            "sample": "int",
            "report_dir": "str",
            "fail_on_mismatch": "bool",
        }
    assert listed == expected


@pytest.mark.slow
def test_validate_table_notebook_fails_on_a_mismatch_unless_told_not_to(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from deltalake import DeltaTable

    from datax_migrate.cli import main

    source = tmp_path / "orders"
    write_deltalake(source, pa.table({"id": pa.array(range(200), pa.int64()), "amount": [1.5] * 200}))
    monkeypatch.setenv("DATAX_HOME", str(tmp_path / "home"))
    assert main(["convert", str(source), "shop.orders"]) == 0
    common = ("source", str(source), "target", "shop.orders", "keys", "id", "tolerances", "amount=abs:0.01")

    matched = run_papermill(VALIDATE, tmp_path / "match.ipynb", tmp_path, *common, "report_dir", "r0")
    assert matched.returncode == 0, matched.stderr
    assert "VERDICT: MATCH" in (tmp_path / "match.ipynb").read_text()

    DeltaTable(source).update(updates={"amount": "2.5"}, predicate="id = 42")
    failed = run_papermill(VALIDATE, tmp_path / "mismatch.ipynb", tmp_path, *common, "report_dir", "r1")
    assert failed.returncode != 0
    assert "ReconciliationMismatch" in failed.stderr and "shop.orders: verdict MISMATCH" in failed.stderr
    output = (tmp_path / "mismatch.ipynb").read_text()
    assert "VERDICT: MISMATCH" in output
    assert "1 differences, 1 shown" in output and "amount" in output
    assert (tmp_path / "r1" / "report.html").is_file()  # the reports are written before the run fails

    reported = run_papermill(
        VALIDATE, tmp_path / "report-only.ipynb", tmp_path, *common, "report_dir", "r2", "fail_on_mismatch", "False"
    )
    assert reported.returncode == 0, reported.stderr
    assert "VERDICT: MISMATCH" in (tmp_path / "report-only.ipynb").read_text()
    assert (tmp_path / "r2" / "report.json").is_file()
