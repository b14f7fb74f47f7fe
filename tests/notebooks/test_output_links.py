"""`translate` never writes through a symbolic link inside --out: every output file and the folders above it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from datax_migrate.cli import main

NOTEBOOK = '# Databricks notebook source\nspark.table("main.sales.orders")\n'


def outside_files(tmp_path: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted((tmp_path / "outside").rglob("*")) if p.is_file()}


@pytest.fixture
def layout(tmp_path: Path) -> Path:
    (tmp_path / "src" / "etl").mkdir(parents=True)
    (tmp_path / "src" / "etl" / "daily.py").write_text(NOTEBOOK)
    (tmp_path / "src" / "etl" / "other.py").write_text(NOTEBOOK)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "victim").write_text("precious\n")
    (tmp_path / "out" / "etl").mkdir(parents=True)
    return tmp_path


@pytest.mark.parametrize("name", ["daily.ipynb", "daily.report.json", "daily.report.md"])
def test_a_link_at_a_notebook_output_refuses_that_notebook_only(layout: Path, name: str) -> None:
    link = layout / "out" / "etl" / name
    link.symlink_to(layout / "outside" / "victim")
    assert main(["translate", str(layout / "src"), "--out", str(layout / "out")]) == 1
    assert outside_files(layout) == {"victim": "precious\n"}
    assert link.is_symlink()
    summary = json.loads((layout / "out" / "translation-summary.json").read_text())
    outcomes = {o["source"]: o["status"] for o in summary["outcomes"]}
    assert outcomes == {"etl/daily.py": "unreadable", "etl/other.py": "translated"}
    assert summary["findings"]["output-refused"] == 1
    assert (layout / "out" / "etl" / "other.ipynb").is_file()


def test_a_link_at_a_folder_above_the_outputs_is_not_followed(layout: Path) -> None:
    (layout / "out" / "etl").rmdir()
    (layout / "out" / "etl").symlink_to(layout / "outside", target_is_directory=True)
    assert main(["translate", str(layout / "src"), "--out", str(layout / "out")]) == 1
    assert outside_files(layout) == {"victim": "precious\n"}
    summary = json.loads((layout / "out" / "translation-summary.json").read_text())
    assert summary["status"] == {"unreadable": 2} and summary["findings"] == {"output-refused": 2}


def test_a_link_to_a_missing_file_outside_is_not_created(layout: Path) -> None:
    (layout / "out" / "etl" / "daily.report.md").symlink_to(layout / "outside" / "new")
    assert main(["translate", str(layout / "src"), "--out", str(layout / "out")]) == 1
    assert not (layout / "outside" / "new").exists()


@pytest.mark.parametrize("name", ["translation-summary.json", "translation-summary.md"])
def test_a_link_at_the_run_summary_stops_the_run_with_one_line(
    layout: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (layout / "out" / name).symlink_to(layout / "outside" / "victim")
    assert main(["translate", str(layout / "src"), "--out", str(layout / "out")]) == 2
    assert outside_files(layout) == {"victim": "precious\n"}
    assert not list((layout / "out" / "etl").iterdir())
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and name in error[0] and "symbolic link" in error[0]


def test_a_folder_where_a_report_goes_refuses_that_notebook_only(layout: Path) -> None:
    (layout / "out" / "etl" / "daily.report.json").mkdir()
    assert main(["translate", str(layout / "src"), "--out", str(layout / "out")]) == 1
    summary = json.loads((layout / "out" / "translation-summary.json").read_text())
    assert {o["source"]: o["status"] for o in summary["outcomes"]} == {
        "etl/daily.py": "unreadable",
        "etl/other.py": "translated",
    }
    assert summary["findings"]["output-refused"] == 1
