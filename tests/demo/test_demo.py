"""`datax-migrate demo` builds the lake, converts it and proves every table."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from deltalake import DeltaTable as DeltaLakeReader

import datax_migrate.demo.run as demo_run
from datax_migrate.config import Config
from datax_migrate.demo import run_demo
from datax_migrate.iceberg.read import read_snapshot
from tests.support.tables import assert_same_rows

TABLES = ["accounts", "card_transactions", "customers"]


@pytest.fixture(scope="module")
def demo_workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workdir after one `datax-migrate demo` run in a fresh process, with DATAX_HOME unset."""
    workdir = tmp_path_factory.mktemp("demo") / "demo"
    env = {k: v for k, v in os.environ.items() if k != "DATAX_HOME"}
    run = subprocess.run(
        [sys.executable, "-m", "datax_migrate.cli", "demo", "--workdir", str(workdir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "All tables match." in run.stdout
    return workdir


def report_digests(workdir: Path) -> list[str]:
    return re.findall(r"`([0-9a-f]{16})`", (workdir / "report.md").read_text())


def test_demo_converts_every_table_exactly(demo_workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    report = (demo_workdir / "report.md").read_text()
    lake = demo_workdir / "lake"
    assert sorted(p.name for p in lake.iterdir()) == TABLES
    monkeypatch.setenv("DATAX_HOME", str(demo_workdir / ".datax"))
    catalog = Config.load().catalog()
    for name in TABLES:
        assert f"bank.{name}" in report
        # deltalake's reader is an independent oracle for these tables (no deletion vectors).
        expected = DeltaLakeReader(str(lake / name)).to_pyarrow_table()
        assert_same_rows(read_snapshot(catalog.load_table(f"bank.{name}")), expected)
    assert "**all tables match**" in report and "differ" not in report
    assert len(report_digests(demo_workdir)) == len(TABLES)
    for name in TABLES:
        reconciled = json.loads((demo_workdir / "reports" / name / "report.json").read_text())
        assert reconciled["verdict"] == "match" and reconciled["keys"]


def test_rerun_starts_afresh_and_builds_the_same_lake(demo_workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATAX_HOME", raising=False)
    first = report_digests(demo_workdir)

    assert run_demo(str(demo_workdir)) is True

    assert report_digests(demo_workdir) == first
    monkeypatch.setenv("DATAX_HOME", str(demo_workdir / ".datax"))
    catalog = Config.load().catalog()
    assert sorted(name for _, name in catalog.list_tables("bank")) == TABLES
    for name in TABLES:
        assert len(catalog.load_table(f"bank.{name}").snapshots()) == 1


def test_a_table_that_differs_fails_the_demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    convert_table = demo_run.convert_table

    def convert_a_stale_version(source: str, catalog: Any, target: str, **kwargs: Any) -> Any:
        if target == "bank.accounts":  # the version before the last: the reconciliation must notice
            kwargs["version"] = DeltaLakeReader(source).version() - 1
        return convert_table(source, catalog, target, **kwargs)

    monkeypatch.setenv("DATAX_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(demo_run, "convert_table", convert_a_stale_version)

    assert run_demo(str(tmp_path / "demo")) is False

    report = (tmp_path / "demo" / "report.md").read_text()
    assert "DIFFERENCES FOUND" in report
    assert "| differs: " in report and report.count("| match |") == 2
    stale = json.loads((tmp_path / "demo" / "reports" / "accounts" / "report.json").read_text())
    assert stale["verdict"] == "mismatch" and "comparing the current snapshot" in stale["warnings"][0]
    assert not (tmp_path / "demo" / ".datax").exists()


@pytest.mark.slow
def test_progress_and_summary_count_the_same_delta_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DATAX_HOME", raising=False)
    assert run_demo(str(tmp_path / "demo")) is True
    out = capsys.readouterr().out
    progress = {
        name: (int(done), int(total))
        for name, done, total in re.findall(r"^bank\.(\w+): ([\d,]+)/([\d,]+) Delta files \(100 %\)", out, re.MULTILINE)
    }
    header = next(line for line in out.splitlines() if "Delta files" in line and "┃" in line)
    columns = [cell.strip() for cell in header.strip("┃").split("┃")]
    summary = {}
    for line in out.splitlines():
        cells = [cell.strip() for cell in line.strip("│").split("│")]
        if len(cells) == len(columns) and cells[0] in TABLES:
            summary[cells[0]] = int(cells[columns.index("Delta files")].replace(",", ""))
    assert sorted(summary) == sorted(progress) == TABLES
    for name, (done, total) in progress.items():
        assert done == total == summary[name] > 0
