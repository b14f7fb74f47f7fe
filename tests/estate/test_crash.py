"""kill -9 at random moments during `migrate` of 50 tables; reruns finish the plan with one conversion each."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from datax_migrate.estate import Ledger
from datax_migrate.iceberg.target import SOURCE_VERSION
from datax_migrate.reconcile.reports import MANIFEST
from tests.estate.support import corpus_copies, lake_catalog, plan_storage, write_config

TABLES = 50
KILLS = 5


def transitions(plan_dir: Path) -> int:
    """State changes the runs have written so far (the plan's enrolment left out), read as `status` would."""
    try:
        connection = sqlite3.connect(f"file:{plan_dir / 'ledger.sqlite'}?mode=ro", uri=True, timeout=30)
    except sqlite3.OperationalError:  # no ledger yet
        return 0
    try:
        return int(connection.execute("SELECT COUNT(*) FROM events WHERE state != 'PENDING'").fetchone()[0])
    except sqlite3.OperationalError:  # the ledger's tables are not created yet
        return 0
    finally:
        connection.close()


def migrate(plan: Path, config: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "datax_migrate.cli", "migrate", str(plan), "--config", str(config)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.mark.slow
@pytest.mark.corpus
def test_kill_9_at_random_moments_then_rerun(corpus: Path, tmp_path: Path) -> None:
    seed = int(os.environ.get("DATAX_CRASH_SEED", time.time_ns() % 100_000))
    rng = random.Random(seed)
    storage = tmp_path / "storage"
    corpus_copies(corpus, storage, TABLES)
    config = write_config(tmp_path)
    plan = plan_storage(storage, tmp_path / "plan", config)
    assert len(plan.tables) == TABLES and {t.strategy for t in plan.tables} == {"convert"}

    kills, moments = 0, []
    while kills < KILLS:
        # A random moment: during start-up, or a random number of state changes into the run plus a
        # little, so that it lands inside a conversion, a commit, a reconciliation or a report write.
        steps = rng.randint(0, 12)
        process = migrate(plan.directory, config)
        if steps == 0:
            time.sleep(rng.uniform(0.2, 2.0))
        else:
            reached = transitions(plan.directory) + steps
            while process.poll() is None and transitions(plan.directory) < reached:
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 0.3))
        assert process.poll() is None, f"the plan finished before kill {kills + 1} (seed {seed})"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        kills += 1
        moments.append(steps)

    final = migrate(plan.directory, config)
    _, stderr = final.communicate(timeout=600)
    assert final.returncode == 0, f"seed {seed}, kills after {moments} steps: {stderr.decode()[-2000:]}"

    catalog = lake_catalog(config)
    with Ledger.open(plan.directory) as ledger:
        records = ledger.records()
        resumed = sum(
            1 for r in records if [s for _, s, _ in ledger.events(r.catalog, r.target)].count("CONVERTING") > 1
        )
    assert len(records) == TABLES and {r.state for r in records} == {"MATCHED"}, f"seed {seed}"
    for record in records:
        table = catalog.load_table(record.target)
        snapshots = table.snapshots()
        assert len(snapshots) == 1, (
            f"{record.target} has {len(snapshots)} snapshots (seed {seed}, kills after {moments} steps)"
        )
        assert snapshots[0].snapshot_id == record.snapshot_id
        assert snapshots[0].summary is not None and snapshots[0].summary[SOURCE_VERSION] == str(record.delta_version)
        assert (plan.directory / str(record.report_path) / MANIFEST).exists()
    namespaces = {t.namespace for t in plan.tables}
    listed = {".".join(identifier) for ns in namespaces for identifier in catalog.list_tables(ns)}
    assert listed == {t.target for t in plan.tables}  # no table left behind by a cut-off conversion
    print(f"seed {seed}: kills after {moments} state changes; {resumed} table(s) converted again after a kill")


@pytest.mark.slow
@pytest.mark.corpus
def test_sigterm_stops_the_run_and_a_rerun_finishes_it(corpus: Path, tmp_path: Path) -> None:
    corpus_copies(corpus, tmp_path / "storage", 20)
    config = write_config(tmp_path)
    plan = plan_storage(tmp_path / "storage", tmp_path / "plan", config)
    process = migrate(plan.directory, config)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if (plan.directory / "ledger.sqlite").exists():
            with Ledger.open(plan.directory) as ledger:
                if any(r.state == "MATCHED" for r in ledger.records()):
                    break
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 143, stderr.decode()
    assert "terminated; the tables done so far are recorded in the ledger" in stderr.decode()
    with Ledger.open(plan.directory) as ledger:
        states = {r.state for r in ledger.records()}
    assert "PENDING" in states and "MATCHED" in states  # stopped part-way

    rerun = migrate(plan.directory, config)
    assert rerun.wait(timeout=600) == 0
    catalog = lake_catalog(config)
    with Ledger.open(plan.directory) as ledger:
        assert {r.state for r in ledger.records()} == {"MATCHED"}
        assert all(len(catalog.load_table(r.target).snapshots()) == 1 for r in ledger.records())
