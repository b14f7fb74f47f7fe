"""A conversion killed at any point leaves no visible table, and the rerun succeeds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from datax_migrate.catalogs import STAGE_CREATE
from datax_migrate.config import Config, local_catalog_properties
from datax_migrate.iceberg.read import read_snapshot
from datax_migrate.iceberg.target import PENDING
from tests.support.delta_tables import build_table
from tests.support.iceberg import files_the_table_references

pytestmark = pytest.mark.slow


def start_convert(source: Path, home: Path, config: Path | None = None) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATAX_HOME": str(home)}
    options = ["--config", str(config)] if config else []
    return subprocess.Popen(
        [sys.executable, "-m", "datax_migrate.cli", "convert", str(source), "crash.t", *options],
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
    assert read_snapshot(catalog.load_table("crash.t")).num_rows == rows


def test_killed_conversion_on_a_catalog_that_cannot_stage_leaves_an_empty_pending_table_the_rerun_replaces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, home = tmp_path / "source", tmp_path / "home"
    rows = build_table(source)
    config = tmp_path / "unstaged.yaml"
    (home / "warehouse").mkdir(parents=True)
    properties = {**local_catalog_properties(home), STAGE_CREATE: "false"}
    config.write_text(yaml.safe_dump({"catalogs": {"lake": properties}, "default_catalog": "lake"}))
    process = start_convert(source, home, config)
    wait_for_data_files(home, process)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)

    monkeypatch.setenv("DATAX_HOME", str(home))
    left = Config.load(config).catalog().load_table("crash.t")
    assert left.current_snapshot() is None and PENDING in left.properties  # visible, but holds no rows

    rerun = start_convert(source, home, config)
    _, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err.decode()
    table = Config.load(config).catalog().load_table("crash.t")
    assert read_snapshot(table).num_rows == rows
    assert PENDING not in table.properties


SIGNAL_AT_COMMIT = """
import os, sqlite3, sys
from datax_migrate.cli import main

class SignallingConnection(sqlite3.Connection):
    def execute(self, sql, *parameters):
        cursor = super().execute(sql, *parameters)
        if sql.lstrip().upper().startswith(("INSERT INTO ICEBERG_TABLES", "UPDATE ICEBERG_TABLES")):
            os.kill(os.getpid(), int(os.environ["SIGNAL_AT_COMMIT"]))
        return cursor

connect = sqlite3.connect
sqlite3.connect = lambda *args, **kwargs: connect(*args, factory=SignallingConnection, **kwargs)
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_during_a_commit_that_lands_says_so(
    sig: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, home = tmp_path / "source", tmp_path / "home"
    rows = build_table(source, partitions=3, rows_per_file=1_000)
    env = {**os.environ, "DATAX_HOME": str(home), "SIGNAL_AT_COMMIT": str(int(sig))}
    # The signal is raised by the real SQLite catalog's statement that records the table, inside the commit.
    command = [sys.executable, "-c", SIGNAL_AT_COMMIT, "convert", str(source), "crash.t"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)

    assert done.returncode == 0, done.stderr
    what = "interrupted" if sig == signal.SIGINT else "terminated"
    assert f"datax-migrate: {what} during the commit, which had landed: local.crash.t holds snapshot" in done.stderr
    assert "nothing was committed" not in done.stderr
    assert done.stdout.startswith("converted:")
    monkeypatch.setenv("DATAX_HOME", str(home))
    table = Config.load().catalog().load_table("crash.t")
    assert f"holds snapshot {table.current_snapshot().snapshot_id};" in done.stderr
    assert table.scan().to_arrow().num_rows == rows  # the data files were kept
    rerun = subprocess.run(
        [sys.executable, "-m", "datax_migrate.cli", *command[3:]],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert rerun.returncode == 0 and rerun.stdout.startswith("unchanged:"), rerun.stderr


MEET_AT_COMMIT = """
import os, sqlite3, sys, time
from pathlib import Path
from datax_migrate.cli import main

class MeetingConnection(sqlite3.Connection):
    def execute(self, sql, *parameters):
        if sql.lstrip().upper().startswith("INSERT INTO ICEBERG_TABLES"):
            meeting = Path(os.environ["MEET_AT_COMMIT"])
            (meeting / str(os.getpid())).touch()
            deadline = time.monotonic() + 120
            while len(list(meeting.iterdir())) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
        return super().execute(sql, *parameters)

connect = sqlite3.connect
sqlite3.connect = lambda *args, **kwargs: connect(*args, factory=MeetingConnection, **kwargs)
sys.exit(main(sys.argv[1:]))
"""


def test_two_concurrent_conversions_into_one_table_leave_only_the_winners_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, home, meeting = tmp_path / "source", tmp_path / "home", tmp_path / "meeting"
    rows = build_table(source, partitions=4, rows_per_file=10_000)
    meeting.mkdir()
    env = {**os.environ, "DATAX_HOME": str(home), "MEET_AT_COMMIT": str(meeting)}
    # Both commit only when both have written everything: the SQLite catalog's own statement waits.
    command = [sys.executable, "-c", MEET_AT_COMMIT, "convert", str(source), "crash.t"]
    processes = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    outcomes = [(p.wait(timeout=300), p.communicate()[1].decode()) for p in processes]

    assert sorted(code for code, _ in outcomes) == [0, 2], outcomes
    assert len(list(meeting.iterdir())) == 2  # both reached the catalog's statement before either went on
    loser = next(err for code, err in outcomes if code == 2).strip().splitlines()[-1]  # after the progress lines
    assert loser == "datax-migrate: error: local.crash.t was created by someone else during the conversion"
    monkeypatch.setenv("DATAX_HOME", str(home))
    table = Config.load().catalog().load_table("crash.t")
    assert table.scan().to_arrow().num_rows == rows
    folder = Path(table.location().removeprefix("file://"))
    assert {p for p in folder.rglob("*") if p.is_file()} == files_the_table_references(table)
