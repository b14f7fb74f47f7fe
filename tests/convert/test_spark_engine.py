"""The Spark engine writes what the local engine writes, and a failed task or a killed job leaves no
table behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from pyiceberg.catalog import Catalog
from pyiceberg.table import Table

from datax_migrate.config import Config
from datax_migrate.convert import convert_table
from datax_migrate.convert.spark_engine import convert_table as convert_on_spark
from datax_migrate.errors import DataxError
from datax_migrate.iceberg.read import read_snapshot
from tests.support.corpus import CASES, expected_table
from tests.support.delta_tables import build_table
from tests.support.tables import assert_same_rows

pytestmark = [pytest.mark.spark, pytest.mark.xdist_group("spark")]


def data_files(table: Table) -> list[tuple[Any, ...]]:
    """What describes each data file but its name: partition, counts, bounds."""
    described = []
    for task in table.scan().plan_files():
        f = task.file
        described.append(
            (
                repr(f.partition),
                f.record_count,
                sorted(f.value_counts.items()),
                sorted(f.null_value_counts.items()),
                sorted(f.lower_bounds.items()),
                sorted(f.upper_bounds.items()),
            )
        )
    return sorted(described)


@pytest.mark.corpus
@pytest.mark.parametrize(("kind", "name"), CASES, ids=[f"{k}/{n}" for k, n in CASES])
def test_spark_engine_writes_what_the_local_engine_writes(
    kind: str, name: str, corpus: Path, catalog: Catalog, spark: Any
) -> None:
    source = str(corpus / kind / name / "delta")
    local = convert_table(source, catalog, "local_engine.t")
    distributed = convert_on_spark(spark, source, catalog, "spark_engine.t")

    assert (distributed.rows, distributed.data_files) == (local.rows, local.data_files)
    ours, theirs = catalog.load_table("spark_engine.t"), catalog.load_table("local_engine.t")
    assert data_files(ours) == data_files(theirs)
    assert_same_rows(read_snapshot(ours), expected_table(kind, name))


def test_a_failing_task_leaves_no_table_and_no_files(tmp_path: Path, catalog: Catalog, spark: Any) -> None:
    source = tmp_path / "source"
    build_table(source, partitions=6, rows_per_file=2_000)
    victim = sorted(source.rglob("*.parquet"))[3]
    victim.write_bytes(b"\0" * victim.stat().st_size)  # fails while reading, in one task only

    with pytest.raises(DataxError):
        convert_on_spark(spark, str(source), catalog, "failing.t")
    assert not catalog.table_exists("failing.t")
    warehouse = Path(catalog.properties["warehouse"].removeprefix("file://"))
    assert list(warehouse.rglob("*.parquet")) == []


@pytest.mark.slow
def test_a_killed_spark_job_leaves_no_table_and_the_rerun_succeeds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, home = tmp_path / "source", tmp_path / "home"
    rows = build_table(source, partitions=8, rows_per_file=150_000)
    env = {**os.environ, "DATAX_HOME": str(home), "PYSPARK_PYTHON": sys.executable}
    command = [sys.executable, "-m", "datax_migrate.cli", "convert", str(source), "crash.t", "--engine", "spark"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 180
    while not list((home / "warehouse").rglob("*.parquet")):
        assert process.poll() is None, "the conversion ended before it could be killed"
        assert time.monotonic() < deadline, "no data file appeared"
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)  # the driver and its JVM
    process.wait(timeout=60)

    monkeypatch.setenv("DATAX_HOME", str(home))
    assert not Config.load().catalog().table_exists("crash.t")
    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert rerun.returncode == 0, rerun.stderr
    assert read_snapshot(Config.load().catalog().load_table("crash.t")).num_rows == rows
