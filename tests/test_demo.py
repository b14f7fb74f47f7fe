"""`datax-migrate demo` builds the lake, converts it and proves every table."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from deltalake import DeltaTable as DeltaLakeReader

from datax_migrate.config import Config
from tests.tables import assert_same_rows

pytestmark = pytest.mark.slow


def test_demo_converts_every_table_exactly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATAX_HOME"}
    run = subprocess.run(
        [sys.executable, "-m", "datax_migrate.cli", "demo", "--workdir", str(tmp_path / "demo")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert "All tables match." in run.stdout

    report = (tmp_path / "demo" / "report.md").read_text()
    lake = tmp_path / "demo" / "lake"
    monkeypatch.setenv("DATAX_HOME", str(tmp_path / "demo" / ".datax"))
    catalog = Config.load().catalog()
    tables = sorted(p.name for p in lake.iterdir())
    assert tables == ["accounts", "card_transactions", "customers"]
    for name in tables:
        assert f"bank.{name}" in report
        # deltalake's reader is an independent oracle for these tables (no deletion vectors).
        expected = DeltaLakeReader(str(lake / name)).to_pyarrow_table()
        assert_same_rows(catalog.load_table(f"bank.{name}").scan().to_arrow(), expected)
    assert report.count("match") >= 1 and "DIFFERENCES" not in report
