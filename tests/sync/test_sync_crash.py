"""A sync killed with SIGKILL leaves no partial snapshot and no changed sync state; the rerun completes."""

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
from datax_migrate.iceberg.read import read_snapshot
from datax_migrate.sync import sync_table
from tests.support.delta_builder import DeltaBuilder, field

pytestmark = pytest.mark.slow

ROWS_PER_FILE = 150_000


def chunk(first: int) -> pa.Table:
    values = np.arange(first, first + ROWS_PER_FILE)
    return pa.table({"id": pa.array(values, pa.int64()), "memo": pa.array([f"memo {v % 997}" for v in values])})


def start_sync(source: Path, home: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "datax_migrate.cli", "sync", str(source), "crash.t"],
        env={**os.environ, "DATAX_HOME": str(home)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_killed_sync_leaves_the_table_as_it_was_and_the_rerun_completes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, home = tmp_path / "source", tmp_path / "home"
    builder = DeltaBuilder(source)
    fields = [field("id", "long"), field("memo", "string")]
    builder.commit(builder.protocol(), builder.metadata(fields), builder.data_file(chunk(0)))
    monkeypatch.setenv("DATAX_HOME", str(home))
    catalog = Config.load().catalog()
    sync_table(str(source), catalog, "crash.t")
    for version in range(1, 4):
        builder.commit(*(builder.data_file(chunk((version * 4 + n) * ROWS_PER_FILE)) for n in range(4)))
    before = catalog.load_table("crash.t")
    written_before = set((home / "warehouse").rglob("*.parquet"))

    process = start_sync(source, home)
    deadline = time.monotonic() + 120
    while not set((home / "warehouse").rglob("*.parquet")) - written_before:
        assert process.poll() is None, "the sync finished before it could be killed"
        assert time.monotonic() < deadline, "no data file appeared"
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)

    after = catalog.load_table("crash.t")
    assert after.current_snapshot().snapshot_id == before.current_snapshot().snapshot_id
    assert len(after.snapshots()) == 1 and dict(after.properties) == dict(before.properties)

    rerun = start_sync(source, home)
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err.decode()
    assert out.decode().startswith("synced:")
    table = catalog.load_table("crash.t")
    assert len(table.snapshots()) == 4
    assert read_snapshot(table).num_rows == 13 * ROWS_PER_FILE
