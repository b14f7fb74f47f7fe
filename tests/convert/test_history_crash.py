"""A history conversion killed with SIGKILL leaves no table (no partial history), and the rerun completes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from datax_migrate.config import Config
from datax_migrate.iceberg.read import read_snapshot
from tests.support.delta_builder import DeltaBuilder, field
from tests.sync.test_sync_crash import ROWS_PER_FILE, chunk

pytestmark = pytest.mark.slow


def start_history(source: Path, home: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "datax_migrate.cli", "convert", str(source), "crash.h", "--history"],
        env={**os.environ, "DATAX_HOME": str(home)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_killed_history_leaves_no_table_and_the_rerun_writes_every_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, home = tmp_path / "source", tmp_path / "home"
    builder = DeltaBuilder(source)
    builder.commit(builder.protocol(), builder.metadata([field("id", "long"), field("memo", "string")]))
    for version in range(4):
        builder.commit(*(builder.data_file(chunk((version * 3 + n) * ROWS_PER_FILE)) for n in range(3)))

    process = start_history(source, home)
    deadline = time.monotonic() + 120
    while not list((home / "warehouse").rglob("*.parquet")):
        assert process.poll() is None, "the conversion finished before it could be killed"
        assert time.monotonic() < deadline, "no data file appeared"
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    monkeypatch.setenv("DATAX_HOME", str(home))
    assert not Config.load().catalog().table_exists("crash.h")

    rerun = start_history(source, home)
    _, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err.decode()
    table = Config.load().catalog().load_table("crash.h")
    assert len(table.snapshots()) == 5
    assert read_snapshot(table).num_rows == 12 * ROWS_PER_FILE
