"""A conversion killed at any point leaves no visible table, and the rerun succeeds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from datax_migrate.config import Config
from tests.delta_builder import DeltaBuilder, field

pytestmark = pytest.mark.slow


def build_table(root: Path, partitions: int = 8, rows_per_file: int = 150_000) -> int:
    builder = DeltaBuilder(root)
    rng = np.random.default_rng(7)
    adds = []
    for p in range(partitions):
        data = pa.table(
            {
                "id": pa.array(np.arange(p * rows_per_file, (p + 1) * rows_per_file), pa.int64()),
                "amount": pa.array(rng.normal(size=rows_per_file)),
                "memo": pa.array([f"memo {i % 997}" for i in range(rows_per_file)]),
            }
        )
        adds.append(builder.data_file(data, {"part": str(p)}, folder=f"part={p}"))
    fields = [field("id", "long"), field("amount", "double"), field("memo", "string"), field("part", "integer")]
    builder.commit(builder.protocol(), builder.metadata(fields, ["part"]), *adds)
    return partitions * rows_per_file


def start_convert(source: Path, home: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATAX_HOME": str(home)}
    return subprocess.Popen(
        [sys.executable, "-m", "datax_migrate.cli", "convert", str(source), "crash.t"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def wait_for_data_files(home: Path, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if list((home / "warehouse").rglob("*.parquet")):
            return
        if process.poll() is not None:
            pytest.fail("the conversion finished before it could be interrupted")
        time.sleep(0.01)
    pytest.fail("no data file appeared")


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_killed_conversion_leaves_no_table_and_rerun_succeeds(
    sig: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, home = tmp_path / "source", tmp_path / "home"
    rows = build_table(source)
    process = start_convert(source, home)
    wait_for_data_files(home, process)
    process.send_signal(sig)
    process.wait(timeout=60)
    assert process.returncode != 0

    monkeypatch.setenv("DATAX_HOME", str(home))
    catalog = Config.load().catalog()
    assert not catalog.table_exists("crash.t")
    if sig == signal.SIGTERM:
        assert process.returncode == 143
        assert not list((home / "warehouse").rglob("*.parquet")), "SIGTERM must clean up what was written"

    rerun = start_convert(source, home)
    _, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err.decode()
    assert catalog.load_table("crash.t").scan().to_arrow().num_rows == rows
