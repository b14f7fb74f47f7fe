"""The ``datax-migrate`` program as a process of its own: output, exit codes and what it loads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from tests.support.delta_builder import DeltaBuilder, field


def run_cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-X", "importtime", "-m", "datax_migrate.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, env={**os.environ, "DATAX_HOME": str(home)})


def imported(stderr: str) -> set[str]:
    return {line.rsplit("|", 1)[1].strip() for line in stderr.splitlines() if line.startswith("import time:")}


@pytest.mark.slow
def test_convert_process_output_exit_code_and_no_pandas(tmp_path: Path) -> None:
    builder = DeltaBuilder(tmp_path / "t")
    data = pa.table({"id": pa.array([1, 2, 3], pa.int64())})
    builder.commit(builder.protocol(), builder.metadata([field("id", "long")]), builder.data_file(data))

    done = run_cli("convert", str(builder.root), "ns.t", "--output", "json", home=tmp_path / "home")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert (result["status"], result["rows"]) == ("converted", 3)
    assert "pyarrow._dataset" in imported(done.stderr)
    assert "pandas.core.frame" not in imported(done.stderr)  # pyarrow's pandas probe is deferred in this process

    again = run_cli("convert", str(builder.root), "ns.t", home=tmp_path / "home")
    assert again.returncode == 0 and again.stdout.startswith("unchanged: local.ns.t already holds")

    refused = run_cli("convert", str(tmp_path / "missing"), "ns.t", home=tmp_path / "home")
    assert refused.returncode == 2
    assert refused.stderr.splitlines()[-1].startswith("datax-migrate: error:")
