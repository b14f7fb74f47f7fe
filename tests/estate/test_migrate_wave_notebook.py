"""The wave notebook runs headless with papermill, drives run_plan, and fails on a mismatch unless told not to."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from datax_migrate.estate import Ledger
from tests.estate.conftest import edit_plan

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "migrate_wave.ipynb"


def run_papermill(output: Path, *parameters: str) -> subprocess.CompletedProcess[str]:
    pairs = [arg for name, value in zip(parameters[::2], parameters[1::2], strict=True) for arg in ("-p", name, value)]
    command = [sys.executable, "-m", "papermill", str(NOTEBOOK), str(output), "-k", "python3", *pairs]
    return subprocess.run(command, capture_output=True, text=True, timeout=600)


def test_help_notebook_lists_every_parameter_with_its_type() -> None:
    pytest.importorskip("papermill")
    result = subprocess.run(
        [sys.executable, "-m", "papermill", "--help-notebook", str(NOTEBOOK)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert dict(re.findall(r"^  (\w+): (.+?) \(default ", result.stdout, re.MULTILINE)) == {
        "plan_dir": "str",
        "wave": "Optional[int]",
        "workers": "int",
        "engine": "str",
        "config": "Optional[str]",
        "retry_failed": "bool",
        "fail_on_mismatch": "bool",
    }


@pytest.mark.slow
def test_the_notebook_runs_a_wave(estate: dict[str, Path], tmp_path: Path) -> None:
    pytest.importorskip("papermill")
    edit_plan(estate["plan"], "ledger", key_columns="id", wave="2")  # id 7 twice: a mismatch, in wave 2
    common = ("plan_dir", str(estate["plan"]), "config", str(estate["config"]))

    first = run_papermill(tmp_path / "wave1.ipynb", *common, "wave", "1")
    assert first.returncode == 0, first.stderr
    output = (tmp_path / "wave1.ipynb").read_text()
    assert "2/2 tables done" in output and "MATCHED     lake:sales.orders" in output
    with Ledger.open(estate["plan"]) as ledger:
        assert {r.target: r.state for r in ledger.records()} == {
            "sales.orders": "MATCHED",
            "sales.refunds": "MATCHED",
            "finance.ledger": "PENDING",
        }

    second = run_papermill(tmp_path / "wave2.ipynb", *common, "wave", "2")
    assert second.returncode != 0 and "WaveNotMatched" in second.stderr
    assert "lake:finance.ledger MISMATCHED" in second.stderr
    reported = run_papermill(tmp_path / "again.ipynb", *common, "wave", "2", "fail_on_mismatch", "False")
    assert reported.returncode == 0, reported.stderr
    assert "ran 0 table(s)" in (tmp_path / "again.ipynb").read_text()
