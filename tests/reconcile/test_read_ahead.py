"""A Delta side that reads ahead (as the program's own process starts it) gives the same report as a URI."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from deltalake import DeltaTable

from datax_migrate.config import Config
from datax_migrate.reconcile import ReconcileOptions, reconcile_table
from datax_migrate.reconcile.delta_side import DeltaSide
from tests.support.reconcile import accounts, converted


def read_ahead_threads() -> set[str]:
    return {t.name for t in threading.enumerate() if t.name.startswith("datax-read-")}


def test_a_side_read_ahead_gives_the_report_of_the_uri(tmp_path: Path, datax_home: Path) -> None:
    source = converted(tmp_path / "accounts", accounts(20_000), partition_by=["branch"])
    DeltaTable(source).update(updates={"note": "'edited'"}, predicate="id = 1234")
    catalog = Config.load().catalog()
    options = ReconcileOptions(keys=("id",))
    from_uri = reconcile_table(str(source), catalog, "bank.accounts", options)
    side = DeltaSide.open(str(source), None).read_ahead(budget_bytes=64 * 1024)  # far less than the table
    ahead = reconcile_table(side, catalog, "bank.accounts", options)
    assert ahead.verdict == from_uri.verdict == "mismatch"
    assert ahead.source == from_uri.source and ahead.source.rows == 19_793  # every live row, read once
    assert [d.key for d in ahead.differences] == [d.key for d in from_uri.differences] == [{"id": 1234}]
    assert ahead.recompute == from_uri.recompute  # the same checksums on both sides
    assert read_ahead_threads() == set()


def run_reconcile(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "datax_migrate.cli", "reconcile", *args]
    env = {**os.environ, "DATAX_HOME": str(home)}
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)


@pytest.mark.slow
def test_the_program_reads_the_delta_side_ahead_and_stops_on_a_refusal(tmp_path: Path, datax_home: Path) -> None:
    source = converted(tmp_path / "accounts", accounts(50_000))
    done = run_reconcile(str(source), "bank.accounts", "--key", "id", "--output", "json", home=datax_home)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["verdict"] == "match"

    refused = run_reconcile(str(source), "bank.missing", "--key", "id", home=datax_home)
    assert refused.returncode == 2
    assert refused.stderr.splitlines()[-1] == (
        "datax-migrate: error: Iceberg table bank.missing does not exist in catalog 'local'"
    )
    missing = run_reconcile(str(tmp_path / "nothing"), "bank.accounts", home=datax_home)
    assert missing.returncode == 2 and missing.stderr.splitlines()[-1].startswith("datax-migrate: error:")

    data_file = Path(DeltaTable(str(source)).file_uris()[0].removeprefix("file://"))
    data_file.unlink()  # the read-ahead meets it on its own thread: the error is the program's, in its place
    gone = run_reconcile(str(source), "bank.accounts", "--key", "id", home=datax_home)
    assert gone.returncode == 2
    assert gone.stderr.splitlines()[-1].startswith("datax-migrate: error: data file ")
    assert f"{data_file.name} is missing" in gone.stderr.splitlines()[-1]


def test_only_the_programs_own_process_on_the_local_engine_reads_ahead(
    tmp_path: Path, datax_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datax_migrate.cli import common
    from datax_migrate.cli import reconcile as command

    source = converted(tmp_path / "accounts", accounts(1_000))
    local, spark = (
        argparse.Namespace(source=str(source), engine=engine, commit_times="auto") for engine in ("local", "spark")
    )
    assert command._source_read_ahead(local, None) == str(source)  # a caller of main(): its threads stay its own
    monkeypatch.setattr(common, "OWN_PROCESS", True)
    assert command._source_read_ahead(spark, None) == str(source)
    side = command._source_read_ahead(local, 1)
    assert isinstance(side, DeltaSide) and side.snapshot.version == 1 and side.prefetch is not None
    assert sum(batch.num_rows for batch in side.batches()) == 1_000 - 11  # ids 5, 102, ... 975 were deleted
    side.close()
