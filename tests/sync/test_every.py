"""``sync --every``: repeated runs follow the Delta table; Ctrl-C and SIGTERM stop it cleanly, in a real process."""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from deltalake import write_deltalake

from datax_migrate.cli import main
from datax_migrate.config import Config
from datax_migrate.convert.history import SYNC_LAST_VERSION
from datax_migrate.iceberg.read import read_snapshot
from datax_migrate.sync.repeat import SyncStopped, parse_duration, sync_every
from datax_migrate.sync.table import SyncResult, sync_table


def ids(start: int, count: int) -> pa.Table:
    return pa.table({"id": pa.array(range(start, start + count), pa.int64())})


def start_sync(source: Path, home: Path, *options: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "datax_migrate.cli", "sync", str(source), "dual.t", *options],
        env={**os.environ, "DATAX_HOME": str(home)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def next_line(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        pytest.fail(f"the sync loop ended early: {process.wait(timeout=30)}, {process.stderr.read()}")  # type: ignore[union-attr]
    return line


def current_rows(home: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("DATAX_HOME", str(home))
    return int(read_snapshot(Config.load().catalog().load_table("dual.t")).num_rows)


def test_max_runs_stops_in_step_and_json_lists_every_run(
    tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "t"
    write_deltalake(source, ids(0, 10))
    code = main(["sync", str(source), "dual.t", "--every", "0.05", "--max-runs", "3", "--output", "json"])
    document = json.loads(capsys.readouterr().out)
    assert code == 0
    assert (document["command"], document["stopped_by"], document["rolled_back"]) == ("sync", "max-runs", False)
    assert [run["status"] for run in document["runs"]] == ["synced", "in-step", "in-step"]
    assert {run["to_version"] for run in document["runs"]} == {0}
    assert len({run["snapshot_id"] for run in document["runs"]}) == 1  # reruns add no snapshot


def test_a_refusal_mid_loop_still_prints_the_json_of_the_runs_before_it(
    tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "t"
    write_deltalake(source, ids(0, 10))

    def another_writer() -> None:  # appends to the Iceberg table once the first run has committed it
        catalog = Config.load().catalog()
        while not catalog.table_exists("dual.t") or SYNC_LAST_VERSION not in catalog.load_table("dual.t").properties:
            time.sleep(0.01)
        catalog.load_table("dual.t").append(ids(99, 1))

    writer = threading.Thread(target=another_writer)
    writer.start()
    code = main(["sync", str(source), "dual.t", "--every", "1", "--max-runs", "5", "--output", "json"])
    writer.join(timeout=60)
    captured = capsys.readouterr()
    assert code == 2
    assert "changed since the last sync" in captured.err
    document = json.loads(captured.out)
    assert document["stopped_by"] == "error"
    statuses = [(run["status"], run["to_version"]) for run in document["runs"]]  # a busy machine: in-step runs
    assert 1 <= len(statuses) < 5 and statuses[0] == ("synced", 0) and set(statuses[1:]) <= {("in-step", 0)}


@pytest.mark.slow
def test_sigterm_between_runs_stops_with_the_table_in_step(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source, home = tmp_path / "t", tmp_path / "home"
    write_deltalake(source, ids(0, 10))
    process = start_sync(source, home, "--every", "2")
    try:
        assert "created to 0:" in next_line(process)
        write_deltalake(source, ids(10, 5), mode="append")  # Databricks writes on during the dual run
        while "to 1:" not in next_line(process):
            pass
        process.send_signal(signal.SIGTERM)  # the loop waits for the next run now
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 143
    assert "terminated: stopped between runs after" in err
    assert "dual.t is in step with Delta version 1" in err
    assert current_rows(home, monkeypatch) == 15


@pytest.mark.slow
def test_ctrl_c_during_a_run_rolls_it_back_and_the_next_sync_completes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, home = tmp_path / "t", tmp_path / "home"
    rows = write_parts(source, start=0)
    process = start_sync(source, home, "--every", "1")
    try:
        next_line(process)  # run 1 created the table from Delta version 0
        data = home / "warehouse"
        written = set(data.rglob("*.parquet"))
        write_parts(source, start=rows)
        deadline = time.monotonic() + 120
        while not set(data.rglob("*.parquet")) - written:  # the run that syncs version 1 is writing
            assert time.monotonic() < deadline and process.poll() is None, "no run started writing"
            time.sleep(0.005)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert "interrupted: stopped during a run, which was rolled back (nothing of it committed)" in err, err
    assert "is in step with Delta version 0" in err, err
    assert current_rows(home, monkeypatch) == rows
    assert set(data.rglob("*.parquet")) == written, f"the rolled-back run's files must be gone: {err}"

    rerun = start_sync(source, home)
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    assert "to 1:" in out, out
    assert current_rows(home, monkeypatch) == 2 * rows


def write_parts(source: Path, start: int, parts: int = 4, rows: int = 200_000) -> int:
    """One Delta version of ``parts`` files of ``rows`` rows (a run of seconds to sync); return its rows."""
    ids = np.arange(start, start + parts * rows, dtype=np.int64)
    data = pa.table(
        {"id": ids, "amount": ids * 0.5, "memo": pa.array([f"memo {i % 997}" for i in ids]), "part": ids % parts}
    )
    write_deltalake(source, data, partition_by=["part"], mode="append")
    return parts * rows


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90.0), ("30s", 30.0), ("15m", 900.0), ("1h30m", 5400.0), ("1d", 86400.0), ("0.5s", 0.5)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--every", "0"], "must be longer than zero"),
        (["--every", "15x"], "is not a duration"),
        (["--every", "1m", "--to-version", "3"], "--every syncs to the latest Delta version each time"),
        (["--max-runs", "0"], "must be 1 or more"),
        (["--max-runs", "3"], "--max-runs goes with --every"),
    ],
)
def test_bad_repeat_options_exit_2_naming_them(
    tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    try:
        code = main(["sync", str(tmp_path / "t"), "dual.t", *args])
    except SystemExit as exit_:  # argparse refuses a bad value itself
        code = int(exit_.code or 0)
    assert code == 2
    assert message in capsys.readouterr().err


def test_a_signal_while_a_run_s_result_is_shown_counts_that_run_as_done(tmp_path: Path, datax_home: Path) -> None:
    """Ctrl-C or SIGTERM landing just after a run committed (as its line is printed) is a stop between runs."""
    source = tmp_path / "t"
    write_deltalake(source, ids(0, 10))
    catalog = Config.load().catalog()

    def interrupted_while_printing(result: SyncResult) -> None:
        raise KeyboardInterrupt  # what the SIGINT handler raises at that moment

    with pytest.raises(SyncStopped) as stopped:
        sync_every(
            60, functools.partial(sync_table, str(source), catalog, "dual.t"), on_result=interrupted_while_printing
        )
    summary = stopped.value.summary
    assert (len(summary.runs), summary.stopped_by, summary.rolled_back) == (1, "signal", False)
    assert str(stopped.value).startswith("stopped between runs after 1 completed run(s)")
    assert catalog.load_table("dual.t").properties[SYNC_LAST_VERSION] == "0"
