"""The per-table sync notebook runs headless with papermill: syncs, lists the history, cuts over."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from datax_migrate.config import Config
from datax_migrate.iceberg.read import read_snapshot

papermill = pytest.importorskip("papermill")

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "sync_table.ipynb"


def run(output: Path, cwd: Path, **parameters: object) -> str:
    papermill.execute_notebook(
        str(NOTEBOOK), str(output), parameters=parameters, kernel_name="python3", cwd=str(cwd), progress_bar=False
    )
    cells = json.loads(output.read_text())["cells"]
    return "".join(
        o.get("text", "") if isinstance(o.get("text"), str) else "".join(o.get("text", []))
        for c in cells
        for o in c.get("outputs", [])
    )


@pytest.mark.slow
def test_sync_table_notebook_syncs_lists_the_history_and_cuts_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "orders"
    write_deltalake(source, pa.table({"id": pa.array(range(100), pa.int64())}))
    write_deltalake(source, pa.table({"id": pa.array(range(100, 150), pa.int64())}), mode="append")
    monkeypatch.setenv("DATAX_HOME", str(tmp_path / "home"))
    common = {"source": str(source), "target": "shop.orders"}

    first = run(tmp_path / "first.ipynb", tmp_path, **common, to_version=0)
    assert "synced: " in first and "created to 0:" in first
    DeltaTable(source).delete("id < 10")  # version 2
    second = run(tmp_path / "second.ipynb", tmp_path, **common)
    assert "from Delta version 0 to 2: 2 snapshot(s)" in second
    history = re.findall(r"^(\d+)\s+(\w+)\s+.* UTC  Delta version (\d+)", second, re.MULTILINE)
    assert [(operation, int(version)) for _, operation, version in history] == [
        ("overwrite", 2),  # deltalake rewrites the file: a remove and an add
        ("append", 1),
        ("append", 0),
    ]
    table = Config.load().catalog().load_table("shop.orders")
    assert [int(snapshot_id) for snapshot_id, _, _ in history] == [
        s.snapshot_id for s in sorted(table.snapshots(), key=lambda s: s.sequence_number, reverse=True)
    ]

    cut = run(tmp_path / "cut.ipynb", tmp_path, **common, cutover=True, by="ana", report_dir="cut")
    assert "in step: " in cut and "cut-over: verdict MATCH" in cut and "Left to do:" in cut
    assert "[cutover]" in cut  # the history shows the tag
    table = table.refresh()
    assert table.metadata.refs["cutover"].snapshot_id == table.metadata.current_snapshot_id
    assert read_snapshot(table).num_rows == 140
    assert (tmp_path / "cut" / "report.json").is_file()


def test_help_notebook_lists_every_parameter_with_its_type() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "papermill", "--help-notebook", str(NOTEBOOK)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    listed = dict(re.findall(r"^  (\w+): (.+?) \(default ", result.stdout, re.MULTILINE))
    assert listed == {
        "source": "str",
        "target": "str",
        "catalog": "str",
        "config": "Optional[str]",
        "to_version": "Optional[int]",
        "squash": "bool",
        "cutover": "bool",
        "report_dir": "str",
        "by": "str",
    }
