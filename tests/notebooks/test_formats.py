"""Reading SOURCE exports, Databricks .ipynb exports and .dbc archives, including hostile input."""

from __future__ import annotations

import json
import os
import stat
import zipfile
from pathlib import Path

import pytest

from datax_migrate.errors import NotebookFormatError
from datax_migrate.notebooks.formats import iter_notebooks, parse_source, read_notebook
from datax_migrate.notebooks.limits import NotebookLimits
from datax_migrate.notebooks.model import Cell, Notebook, NotebookReadFailure

SOURCE = """# Databricks notebook source
# MAGIC %md
# MAGIC # Title
# MAGIC
# MAGIC text

# COMMAND ----------

# DBTITLE 1,Load
df = spark.table("main.sales.orders")

# COMMAND ----------

# MAGIC %sql
# MAGIC SELECT 1

# COMMAND ----------

# MAGIC %run ./helpers/common
"""


def test_source_cells_magics_and_titles() -> None:
    notebook = parse_source(SOURCE, "etl/daily.py")
    assert notebook.language == "python"
    assert notebook.cells == (
        Cell("markdown", "markdown", "# Title\n\ntext", 0),
        Cell("code", "python", 'df = spark.table("main.sales.orders")', 1),
        Cell("code", "sql", "SELECT 1", 2),
        Cell("code", "run", "%run ./helpers/common", 3),
    )


def test_sql_source_notebook_with_python_cell() -> None:
    text = "-- Databricks notebook source\nSELECT 1\n\n-- COMMAND ----------\n\n-- MAGIC %python\n-- MAGIC x = 1\n"
    notebook = parse_source(text, "q.sql")
    assert [(c.language, c.source) for c in notebook.cells] == [("sql", "SELECT 1"), ("python", "x = 1")]


def test_databricks_ipynb(tmp_path: Path) -> None:
    document = {
        "metadata": {"application/vnd.databricks.v1+notebook": {"language": "sql", "notebookName": "n"}},
        "nbformat": 4,
        "nbformat_minor": 0,
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["# Hi"]},
            {"cell_type": "code", "metadata": {}, "source": ["SELECT 1"], "outputs": [], "execution_count": 0},
            {"cell_type": "code", "metadata": {}, "source": ["%python\n", "x = 1"], "outputs": []},
        ],
    }
    path = tmp_path / "n.ipynb"
    path.write_text(json.dumps(document))
    notebook = read_notebook(path, tmp_path)
    assert notebook == Notebook(
        "n.ipynb",
        "sql",
        (
            Cell("markdown", "markdown", "# Hi", 0),
            Cell("code", "sql", "SELECT 1", 1),
            Cell("code", "python", "x = 1", 2),
        ),
    )


def _dbc(path: Path, entries: dict[str, bytes], symlink: str | None = None) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")


def _command_json(language: str, *commands: str) -> bytes:
    items = [{"command": c, "position": float(len(commands) - i)} for i, c in enumerate(commands)]
    return json.dumps({"language": language, "commands": items, "version": "NotebookV1"}).encode()


def test_dbc_archive_orders_commands_and_rejects_hostile_entries(tmp_path: Path) -> None:
    _dbc(
        tmp_path / "export.dbc",
        {
            "etl/daily.python": _command_json("python", "second = 2", "%md # first"),
            "../escape.python": _command_json("python", "x = 1"),
            "/abs.python": _command_json("python", "x = 1"),
            "etl/broken.sql": b"{not json",
            "etl/latin.python": "caf\xe9".encode("latin-1"),
            "resources/logo.png": b"\x89PNG",
        },
        symlink="etl/link.python",
    )
    results = {r.path: r for r in iter_notebooks(tmp_path)}
    daily = results["export.dbc/etl/daily.py"]
    assert isinstance(daily, Notebook)
    assert [(c.language, c.source) for c in daily.cells] == [("markdown", "# first"), ("python", "second = 2")]
    failures = {path: r.reason for path, r in results.items() if isinstance(r, NotebookReadFailure)}
    assert "escapes the archive" in failures["export.dbc/../escape.python"]
    assert "escapes the archive" in failures["export.dbc//abs.python"]
    assert "symbolic link" in failures["export.dbc/etl/link.python"]
    assert "invalid JSON" in failures["export.dbc/etl/broken.sql"]
    assert "not UTF-8" in failures["export.dbc/etl/latin.py"]
    assert len(results) == 6


def test_folder_tree_skips_plain_files_and_reports_bad_ones(tmp_path: Path) -> None:
    (tmp_path / "etl").mkdir()
    (tmp_path / "etl" / "daily.py").write_text(SOURCE)
    (tmp_path / "lib.py").write_text("def helper():\n    return 1\n")
    (tmp_path / "latin.sql").write_bytes("-- Databricks notebook source\nSELECT 'caf\xe9'".encode("latin-1"))
    (tmp_path / "bad.ipynb").write_text("{")
    outside = tmp_path.parent / f"{tmp_path.name}-outside.py"
    outside.write_text(SOURCE)
    os.symlink(outside, tmp_path / "link.py")
    results = list(iter_notebooks(tmp_path))
    assert [r.path for r in results] == ["bad.ipynb", "etl/daily.py", "latin.sql", "link.py"]
    assert isinstance(results[1], Notebook)
    reasons = [r.reason for r in results if isinstance(r, NotebookReadFailure)]
    assert "invalid JSON" in reasons[0] and "not UTF-8" in reasons[1] and "leading out of the folder" in reasons[2]


def test_read_notebook_refuses_a_plain_script(tmp_path: Path) -> None:
    (tmp_path / "lib.py").write_text("x = 1\n")
    with pytest.raises(NotebookFormatError, match="not a Databricks notebook"):
        read_notebook(tmp_path / "lib.py")


def test_huge_notebook_is_read(tmp_path: Path) -> None:
    cells = "\n\n# COMMAND ----------\n\n".join(f"x{i} = {i}" for i in range(5000))
    notebook = parse_source("# Databricks notebook source\n" + cells, "big.py")
    assert len(notebook.cells) == 5000 and notebook.cells[-1].source == "x4999 = 4999"


def test_source_zip_export_is_read_like_a_dbc_with_the_same_protections(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "workspace.zip", "w") as archive:
        archive.writestr("etl/daily.py", SOURCE)
        archive.writestr("etl/report.sql", "-- Databricks notebook source\nSELECT 1")
        archive.writestr("etl/lib.py", "def helper():\n    return 1\n")
        archive.writestr("../escape.py", SOURCE)
        archive.writestr("etl/latin.sql", "-- Databricks notebook source\nSELECT 'caf\xe9'".encode("latin-1"))
        archive.writestr("etl/big.py", "# Databricks notebook source\n" + "x = 1\n" * 400)
        archive.writestr("README.md", "# exported")
    skipped: list[str] = []
    limits = NotebookLimits(file_bytes=1000)
    results = {r.path: r for r in iter_notebooks(tmp_path, limits, lambda path, _: skipped.append(path))}
    daily = results["workspace.zip/etl/daily.py"]
    assert isinstance(daily, Notebook)
    (tmp_path / "daily.py").write_text(SOURCE)
    assert daily.cells == read_notebook(tmp_path / "daily.py", tmp_path, limits).cells
    report = results["workspace.zip/etl/report.sql"]
    assert isinstance(report, Notebook) and report.language == "sql"
    failures = {path: r for path, r in results.items() if isinstance(r, NotebookReadFailure)}
    assert "escapes the archive" in failures["workspace.zip/../escape.py"].reason
    assert "not UTF-8" in failures["workspace.zip/etl/latin.sql"].reason
    assert failures["workspace.zip/etl/big.py"].code == "notebook-over-limit"  # counted as decompressed
    assert sorted(skipped) == ["workspace.zip/README.md", "workspace.zip/etl/lib.py"]
    assert len(results) == 5
