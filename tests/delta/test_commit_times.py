"""Commit times are true times: in-commit timestamps, file times, or commitInfo.timestamp for copied logs."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from pathlib import Path

import pytest

from datax_migrate.cli import main
from datax_migrate.config import Config
from datax_migrate.delta.commit_times import COMMIT_INFO_TIMESTAMP, FILE_MTIME, IN_COMMIT_TIMESTAMP
from datax_migrate.delta.table import DeltaTable
from datax_migrate.errors import VersionNotFoundError
from tests.support.delta_builder import DeltaBuilder, field
from tests.support.delta_tables import UTC, WRITTEN_2023, ids, ms, table_of_2023


def test_a_copied_log_is_timed_by_commit_info(tmp_path: Path) -> None:
    table = DeltaTable(str(table_of_2023(tmp_path / "t").root))
    assert table.version_at(dt.datetime(2023, 7, 1, tzinfo=UTC)) == 1
    assert table.version_at(dt.datetime(2023, 1, 15, 12, tzinfo=UTC)) == 0
    assert table.version_at(dt.datetime(2024, 3, 31, tzinfo=UTC)) == 2
    with pytest.raises(VersionNotFoundError, match=r"earliest commit is 2023-01-15T12:00:00\+00:00, by its commitInfo"):
        table.version_at(dt.datetime(2022, 12, 31, tzinfo=UTC))
    snapshot = table.snapshot(timestamp=dt.datetime(2023, 7, 1, tzinfo=UTC))
    assert (snapshot.version, snapshot.commit_timestamp_ms) == (1, ms(WRITTEN_2023[1]))
    assert snapshot.commit_time_source == COMMIT_INFO_TIMESTAMP
    assert "commit 0's file is dated" in snapshot.commit_time_note
    assert "after its commitInfo.timestamp 2023-01-15T12:00:00+00:00: the log was copied" in snapshot.commit_time_note


def test_file_times_collapsed_into_a_short_window_are_detected(tmp_path: Path) -> None:
    early = dt.datetime(2022, 1, 1, tzinfo=UTC).timestamp()  # dated before the commits, within 2 seconds
    table = DeltaTable(str(table_of_2023(tmp_path / "t", [early, early + 1, early + 2]).root))
    snapshot = table.snapshot()
    assert (snapshot.commit_timestamp_ms, snapshot.commit_time_source) == (ms(WRITTEN_2023[2]), COMMIT_INFO_TIMESTAMP)
    assert "by commitInfo but their files were all dated within 2 s" in snapshot.commit_time_note


def test_file_times_within_the_skew_of_commit_info_are_kept(tmp_path: Path) -> None:
    # Written, not copied: each file dated a few seconds to four minutes after its commitInfo time.
    file_times = [moment.timestamp() + lag for moment, lag in zip(WRITTEN_2023, (3, 240, 1), strict=True)]
    table = DeltaTable(str(table_of_2023(tmp_path / "t", file_times).root))
    snapshot = table.snapshot(version=1)
    assert (snapshot.commit_timestamp_ms, snapshot.commit_time_source) == (ms(WRITTEN_2023[1]) + 240_000, FILE_MTIME)
    assert snapshot.commit_time_note == ""
    forced = DeltaTable(str(tmp_path / "t"), commit_times="commit-info").snapshot(version=1)
    assert (forced.commit_timestamp_ms, forced.commit_time_source) == (ms(WRITTEN_2023[1]), COMMIT_INFO_TIMESTAMP)
    assert forced.commit_time_note == "commitInfo.timestamp used as asked (--commit-times commit-info)"


def test_mtime_mode_keeps_the_file_times(tmp_path: Path) -> None:
    table = DeltaTable(str(table_of_2023(tmp_path / "t").root), commit_times="mtime")
    with pytest.raises(VersionNotFoundError, match="by its commit file modification time"):
        table.version_at(dt.datetime(2024, 3, 31, tzinfo=UTC))
    assert table.snapshot().commit_time_source == FILE_MTIME


def test_in_commit_timestamps_apply_from_their_enablement_version(tmp_path: Path) -> None:
    """Versions 0-1 predate in-commit timestamps (copied, so timed by commitInfo); 2-3 carry them."""
    builder = DeltaBuilder(tmp_path / "t")
    builder.commit(
        builder.protocol(),
        builder.metadata([field("id", "long")]),
        builder.data_file(ids([1])),
        timestamp=ms(WRITTEN_2023[0]),
    )
    builder.commit(builder.data_file(ids([2])), timestamp=ms(WRITTEN_2023[1]))
    enabled = ms(dt.datetime(2024, 2, 1, tzinfo=UTC))
    configuration = {
        "delta.enableInCommitTimestamps": "true",
        "delta.inCommitTimestampEnablementVersion": "2",
        "delta.inCommitTimestampEnablementTimestamp": str(enabled),
    }
    builder.commit(
        {"protocol": {"minReaderVersion": 1, "minWriterVersion": 7, "writerFeatures": ["inCommitTimestamp"]}},
        builder.metadata([field("id", "long")], configuration=configuration),
        in_commit_timestamp=enabled,
        timestamp=enabled - 5,
    )
    later = ms(dt.datetime(2024, 5, 1, tzinfo=UTC))
    builder.commit(builder.data_file(ids([3])), in_commit_timestamp=later, timestamp=later - 5)
    now = time.time()
    for version in range(4):
        os.utime(builder.log / f"{version:020d}.json", (now, now))

    table = DeltaTable(str(builder.root))
    assert table.version_at(dt.datetime(2023, 7, 1, tzinfo=UTC)) == 1  # before enablement: commitInfo (copied)
    assert table.version_at(dt.datetime(2024, 3, 1, tzinfo=UTC)) == 2
    assert table.version_at(dt.datetime(2024, 6, 1, tzinfo=UTC)) == 3
    latest = table.snapshot()
    assert (latest.commit_timestamp_ms, latest.commit_time_source) == (later, IN_COMMIT_TIMESTAMP)
    assert table.snapshot(version=1).commit_time_source == COMMIT_INFO_TIMESTAMP
    # file times before enablement: version 1's is now, so a time in 2024 finds only version 1 by file time
    by_file = DeltaTable(str(builder.root), commit_times="mtime")
    assert by_file.version_at(dt.datetime(2024, 3, 1, tzinfo=UTC)) == 2
    with pytest.raises(VersionNotFoundError):
        by_file.version_at(dt.datetime(2023, 7, 1, tzinfo=UTC))


def test_a_long_copied_log_reads_few_commits(tmp_path: Path) -> None:
    builder = DeltaBuilder(tmp_path / "t")
    start = ms(dt.datetime(2023, 1, 1, tzinfo=UTC))
    hour = 3_600_000
    builder.commit(
        builder.protocol(), builder.metadata([field("id", "long")]), builder.data_file(ids([0])), timestamp=start
    )
    for version in range(1, 300):
        builder.commit(builder.data_file(ids([version])), timestamp=start + version * hour)
    table = DeltaTable(str(builder.root))
    assert table.version_at(dt.datetime.fromtimestamp((start + 123 * hour + 1) / 1000, tz=UTC)) == 123
    read = len(table.clock._infos)  # commits parsed: two to detect the copy, a binary search to resolve
    assert read <= 2 + 10


def test_convert_and_reconcile_of_a_copied_table(
    tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = str(table_of_2023(tmp_path / "t").root)
    assert main(["convert", root, "ns.t", "--timestamp", "2023-07-01", "--output", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["source"]["delta_version"] == 1
    assert result["commit_time"] == "2023-06-15T12:00:00+00:00"
    assert result["source"]["commit_time_source"] == COMMIT_INFO_TIMESTAMP
    assert "the log was copied" in result["source"]["commit_time_note"]
    summary = Config.load().catalog().load_table("ns.t").current_snapshot().summary
    assert summary["datax.source-commit-timestamp"] == str(ms(WRITTEN_2023[1]))
    assert summary["datax.source-commit-time-source"] == COMMIT_INFO_TIMESTAMP

    assert main(["convert", root, "ns.latest"]) == 0
    out = capsys.readouterr().out
    assert "Delta commit time 2023-11-15T12:00:00+00:00: commitInfo.timestamp used: commit 0's file" in out

    reports = tmp_path / "r"
    assert main(["reconcile", root, "ns.latest", "--report-dir", str(reports)]) == 0
    out = capsys.readouterr().out
    assert "warning: Delta commit time: commitInfo.timestamp used" in out
    report = json.loads((reports / "report.json").read_text())
    assert report["source"]["commit_timestamp"] == "2023-11-15T12:00:00+00:00"
    assert report["source"]["commit_time_source"] == COMMIT_INFO_TIMESTAMP
    assert any("the log was copied" in warning for warning in report["warnings"])
    assert (
        "| Committed at | 2023-11-15T12:00:00+00:00 (from commitInfo.timestamp) |"
        in (reports / "report.md").read_text()
    )
    assert "2023-11-15T12:00:00+00:00 (from commitInfo.timestamp)" in (reports / "report.html").read_text()


def test_commit_times_mtime_reproduces_file_times(
    tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = str(table_of_2023(tmp_path / "t").root)
    assert main(["convert", root, "ns.t", "--timestamp", "2024-03-31", "--commit-times", "mtime"]) == 2
    err = capsys.readouterr().err
    assert f"earliest commit is {dt.datetime.now(UTC).year}-" in err and "by its commit file modification time" in err
    assert main(["convert", root, "ns.t", "--commit-times", "mtime", "--output", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["source"]["commit_time_source"] == FILE_MTIME and result["source"]["commit_time_note"] == ""
    reports = tmp_path / "r"
    assert main(["reconcile", root, "ns.t", "--commit-times", "mtime", "--report-dir", str(reports)]) == 0
    report = json.loads((reports / "report.json").read_text())
    assert report["source"]["commit_time_source"] == FILE_MTIME
    assert report["source"]["commit_timestamp"].startswith(str(dt.datetime.now(UTC).year))


def test_the_inventory_dates_a_copied_table_by_its_commits(tmp_path: Path) -> None:
    from datax_migrate.inventory.crawl import crawl
    from datax_migrate.inventory.sources.storage import StorageSource

    table_of_2023(tmp_path / "lake" / "events")
    [table] = crawl([StorageSource(str(tmp_path / "lake"))]).tables
    assert table.delta is not None
    assert table.delta.last_write == "2023-11-15T12:00:00.000+00:00"
