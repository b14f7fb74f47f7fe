"""Log replay edge cases on copies of corpus tables."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from datax_migrate.delta.log import LogSegment
from datax_migrate.delta.scan import FileReader
from datax_migrate.delta.table import DeltaTable
from datax_migrate.errors import VersionNotFoundError

pytestmark = pytest.mark.corpus


def copy_case(corpus: Path, name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copytree(corpus / "golden" / name / "delta", target)
    return target


def live_rows(table: DeltaTable, version: int | None = None) -> int:
    snapshot = table.snapshot(version=version)
    reader = FileReader(snapshot)
    return sum(batch.num_rows for add in snapshot.files for batch in reader.batches(add))


def test_time_travel_to_each_version(corpus: Path) -> None:
    table = DeltaTable(str(corpus / "golden" / "time-travel-start-start20-start40" / "delta"))
    assert [live_rows(table, v) for v in (0, 1, 2)] == [10, 20, 30]


@pytest.mark.parametrize("name", ["basic-with-inserts-deletes-checkpoint", "dv-partitioned-with-checkpoint"])
def test_checkpoint_replay_equals_replaying_every_commit(corpus: Path, name: str) -> None:
    table = DeltaTable(str(corpus / "golden" / name / "delta"))
    for version in range(table.latest_version + 1):
        segment = table.log.segment(version)
        from_json = LogSegment(version, None, tuple(table.log.commits[v] for v in range(version + 1)))
        assert set(table.log.replay(segment).active) == set(table.log.replay(from_json).active)
    assert table.log.segment(table.latest_version).checkpoint is not None


def test_checkpoint_named_by_last_checkpoint_may_be_missing(corpus: Path, tmp_path: Path) -> None:
    source = copy_case(corpus, "125-iterator-bug", tmp_path)
    expected = live_rows(DeltaTable(str(source)))
    (source / "_delta_log" / "00000000000000000010.checkpoint.parquet").unlink()
    table = DeltaTable(str(source))
    assert table.log.segment().checkpoint is None
    assert live_rows(table) == expected


def test_incomplete_multipart_checkpoint_without_hint_falls_back_to_commits(corpus: Path, tmp_path: Path) -> None:
    source = copy_case(corpus, "multi-part-checkpoint", tmp_path)
    expected = live_rows(DeltaTable(str(source)))
    (source / "_delta_log" / "_last_checkpoint").unlink()
    (source / "_delta_log" / "00000000000000000001.checkpoint.0000000002.0000000002.parquet").unlink()
    table = DeltaTable(str(source))
    assert table.log.segment().checkpoint is None
    assert live_rows(table) == expected


def test_cleaned_up_log_reads_from_checkpoint_only(corpus: Path, tmp_path: Path) -> None:
    source = copy_case(corpus, "basic-with-inserts-deletes-checkpoint", tmp_path)
    expected = live_rows(DeltaTable(str(source)))
    for version in range(11):
        (source / "_delta_log" / f"{version:020d}.json").unlink()
    os.utime(source / "_delta_log" / "00000000000000000010.checkpoint.parquet", (1_700_000_000, 1_700_000_000))
    table = DeltaTable(str(source))
    assert live_rows(table) == expected
    assert table.snapshot(version=10).commit_timestamp_ms == 1_700_000_000_000
    with pytest.raises(VersionNotFoundError, match="version 5 cannot be reconstructed"):
        table.snapshot(version=5)


def test_v2_checkpoint_with_sidecars(corpus: Path) -> None:
    table = DeltaTable(str(corpus / "golden" / "v2-checkpoint-json" / "delta"))
    segment = table.log.segment()
    assert segment.checkpoint is not None and segment.checkpoint.kind == "v2"
    assert len(table.snapshot().files) > 0


def test_v2_checkpoint_in_parquet_with_sidecars(corpus: Path, tmp_path: Path) -> None:
    source = copy_case(corpus, "v2-checkpoint-json", tmp_path)
    log = source / "_delta_log"
    (json_checkpoint,) = log.glob("*.checkpoint.*.json")
    expected = {f.path for f in DeltaTable(str(source)).snapshot().files}

    actions = [json.loads(line) for line in json_checkpoint.read_text().splitlines() if line.strip()]
    for action in actions:
        if "metaData" in action:
            action["metaData"]["format"].pop("options", None)
    parquet_checkpoint = log / json_checkpoint.name.replace(".json", ".parquet")
    pq.write_table(pa.Table.from_struct_array(pa.array(actions)), parquet_checkpoint)
    json_checkpoint.unlink()
    hint = json.loads((log / "_last_checkpoint").read_text())
    hint["v2Checkpoint"]["path"] = parquet_checkpoint.name
    (log / "_last_checkpoint").write_text(json.dumps(hint))

    table = DeltaTable(str(source))
    assert table.log.segment().checkpoint.files == (parquet_checkpoint.name,)
    assert {f.path for f in table.snapshot().files} == expected
