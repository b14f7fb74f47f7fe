"""Notebook export folders: records from the notebooks package, failures for what it refuses."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from datax_migrate.assess import assess
from datax_migrate.assess.rules import ASSISTED, AUTOMATIC
from datax_migrate.findings import Severity
from datax_migrate.inventory.crawl import crawl
from datax_migrate.inventory.sources.exports import ExportSource

ETL = """# Databricks notebook source
df = spark.table("main.sales.orders")
dbutils.fs.ls("dbfs:/mnt/raw")

# COMMAND ----------

# MAGIC %run ./helpers
"""

REPORT = """-- Databricks notebook source
SELECT * FROM main.sales.orders
"""


def _commands(language: str, *commands: str) -> bytes:
    items = [{"command": c, "position": float(i)} for i, c in enumerate(commands)]
    return json.dumps({"language": language, "commands": items, "version": "NotebookV1"}).encode()


def test_an_export_folder_with_source_files_and_a_dbc(tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    (exports / "etl").mkdir(parents=True)
    (exports / "etl" / "daily.py").write_text(ETL)
    (exports / "report.sql").write_text(REPORT)
    with zipfile.ZipFile(exports / "archive.dbc", "w") as archive:
        archive.writestr("team/clean.python", _commands("python", "x = spark.range(3)"))
        archive.writestr("../../escape.python", _commands("python", "x = 1"))
    before = sorted(p for p in tmp_path.rglob("*"))

    inventory = crawl([ExportSource(exports)])

    assert sorted(p for p in tmp_path.rglob("*")) == before  # nothing extracted or written
    notebooks = {n.path: n for n in inventory.notebooks}
    assert sorted(notebooks) == ["archive.dbc/team/clean.py", "etl/daily.py", "report.sql"]
    daily = notebooks["etl/daily.py"]
    assert daily.origin == "export" and daily.language == "python" and daily.cell_count == 2
    assert "main.sales.orders" in daily.tables_referenced
    assert daily.run_dependencies == ("./helpers",) and daily.paths_referenced == ("dbfs:/mnt/raw",)
    assert notebooks["report.sql"].language == "sql"
    [failure] = inventory.failures
    assert (failure.source, failure.stage) == ("export", "read-notebook")
    assert "escapes the archive" in failure.reason

    assessment = assess(inventory)
    verdicts = {n.path: n.translatability for n in assessment.notebooks}
    assert verdicts["archive.dbc/team/clean.py"] == AUTOMATIC
    assert "path-not-mapped" in {f.code for f in daily.findings}  # a review finding
    assert verdicts["etl/daily.py"] == ASSISTED
    assert [(f.code, f.severity) for f in assessment.findings] == [("crawl-failed", Severity.REVIEW)]


def test_skipped_files_and_an_empty_export_are_reported(tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "lib.py").write_text("def helper():\n    return 1\n")
    with zipfile.ZipFile(exports / "workspace.zip", "w") as archive:
        archive.writestr("etl/daily.py", ETL)
        archive.writestr("notes.txt", "kept aside")
    (tmp_path / "empty").mkdir()

    inventory = crawl([ExportSource(exports), ExportSource(tmp_path / "empty")])

    assert [n.path for n in inventory.notebooks] == ["workspace.zip/etl/daily.py"]
    failures = {(f.stage, f.subject) for f in inventory.failures}
    assert failures == {
        ("skipped", "lib.py"),
        ("skipped", "workspace.zip/notes.txt"),
        ("no-notebooks", str(tmp_path / "empty")),
    }


def test_the_inventory_command_prints_what_it_skipped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from datax_migrate.cli import main

    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "daily.py").write_text(ETL)
    (exports / "notes.txt").write_text("kept aside")
    out = tmp_path / "inventory.json"
    assert main(["inventory", "--export", str(exports), "--out", str(out)]) == 0  # listed, not a failure
    printed = capsys.readouterr().out
    assert "skipped notes.txt: not a notebook file" in printed
    assert json.loads(out.read_text())["failures"] == [
        {
            "source": "export",
            "subject": "notes.txt",
            "stage": "skipped",
            "reason": "not a notebook file (.py, .sql, .scala, .r, .ipynb, .dbc or .zip)",
        }
    ]


def test_an_export_folder_without_notebooks_fails_the_inventory(tmp_path: Path) -> None:
    from datax_migrate.cli import main

    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "README.md").write_text("nothing to translate")
    assert main(["inventory", "--export", str(tmp_path / "empty"), "--out", str(tmp_path / "inv.json")]) == 1


def test_assess_names_an_inventory_that_is_not_utf8(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from datax_migrate.cli import main

    inventory = tmp_path / "inventory.json"
    inventory.write_bytes(b"\xff\xfe{}")
    assert main(["assess", str(inventory), "--report-dir", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert f"cannot read the inventory {inventory}" in error
    assert "unexpected" not in error
