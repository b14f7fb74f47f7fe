"""Storage scan over the Delta corpus: recorded facts against the logs, read here independently."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from datax_migrate.cli import main
from datax_migrate.inventory.crawl import crawl
from datax_migrate.inventory.delta_facts import SMALL_FILE_BYTES
from datax_migrate.inventory.model import TableRecord
from datax_migrate.inventory.sources.storage import StorageSource
from tests.support.delta_logs import replay_json_commits

pytestmark = pytest.mark.corpus


@pytest.fixture
def golden(corpus: Path) -> dict[str, TableRecord]:
    inventory = crawl([StorageSource(str(corpus / "golden"))])
    assert not inventory.failures
    return {Path(t.location or "").parent.name: t for t in inventory.tables if t.format == "delta"}


def test_every_golden_table_is_found_with_the_facts_its_log_holds(corpus: Path, golden: dict[str, TableRecord]) -> None:
    cases = sorted(p.name for p in (corpus / "golden").iterdir() if (p / "delta" / "_delta_log").is_dir())
    assert sorted(golden) == cases
    for case, record in golden.items():
        log = replay_json_commits(corpus / "golden" / case / "delta")
        facts = record.delta
        assert facts is not None, case
        protocol, metadata = log["protocol"], log["metadata"]
        assert facts.min_reader_version == protocol["minReaderVersion"], case
        assert facts.min_writer_version == protocol["minWriterVersion"], case
        assert set(facts.reader_features) == set(protocol.get("readerFeatures", ())), case
        assert set(facts.writer_features) == set(protocol.get("writerFeatures", ())), case
        assert list(facts.partition_columns) == metadata["partitionColumns"], case
        assert facts.column_mapping_mode == metadata.get("configuration", {}).get("delta.columnMapping.mode", "none")
        assert json.loads(record.schema_json or "") == json.loads(metadata["schemaString"]), case
        assert facts.num_files == len(log["active"]), case
        assert facts.size_bytes == sum(add["size"] for add in log["active"]), case
        with_dv = [add for add in log["active"] if add.get("deletionVector")]
        assert facts.files_with_deletion_vectors == len(with_dv), case
        assert facts.deleted_rows == sum(add["deletionVector"]["cardinality"] for add in with_dv), case
        small = [add for add in log["active"] if add["size"] < SMALL_FILE_BYTES]
        assert facts.small_file_ratio == (round(len(small) / len(log["active"]), 4) if log["active"] else None), case
        configuration = metadata.get("configuration", {})
        assert facts.change_data_feed == (configuration.get("delta.enableChangeDataFeed") == "true"), case
        assert facts.check_constraints == {
            key.removeprefix("delta.constraints."): value
            for key, value in configuration.items()
            if key.startswith("delta.constraints.")
        }, case
        fields = json.loads(metadata["schemaString"])["fields"]
        assert facts.generated_columns == {
            f["name"]: f["metadata"]["delta.generationExpression"]
            for f in fields
            if "delta.generationExpression" in f["metadata"]
        }, case
        assert facts.identity_columns == tuple(f["name"] for f in fields if "delta.identity.start" in f["metadata"])
        assert facts.history_length == log["commits"], case
        assert dt.datetime.fromisoformat(facts.last_write or "") == log["last_write"], case
        if facts.row_count is not None:
            assert facts.row_count == pq.read_table(corpus / "golden" / case / "expected").num_rows, case


def test_the_features_the_corpus_readme_names(golden: dict[str, TableRecord]) -> None:
    def facts(case: str) -> Any:
        return golden[case].delta

    assert "deletionVectors" in facts("dv-partitioned-with-checkpoint").reader_features
    assert facts("dv-partitioned-with-checkpoint").files_with_deletion_vectors > 0
    assert facts("dv-partitioned-with-checkpoint").partition_columns
    assert facts("table-with-columnmapping-mode-name").column_mapping_mode == "name"
    assert "timestampNtz" in facts("data-reader-timestamp_ntz").reader_features
    assert "v2Checkpoint" in facts("v2-checkpoint-json").reader_features
    assert facts("time-travel-start-start20-start40").history_length == 3
    assert facts("basic-with-inserts-deletes-checkpoint").history_length == 14


def test_dat_tables_and_their_expected_parquet_folders(corpus: Path) -> None:
    inventory = crawl([StorageSource(str(corpus / "dat"))])
    delta = {Path(t.location or "").parent.name: t for t in inventory.tables if t.format == "delta"}
    assert sorted(delta) == ["basic_append", "basic_partitioned", "multi_partitioned", "with_schema_change"]
    assert delta["multi_partitioned"].delta is not None
    assert delta["multi_partitioned"].delta.partition_columns == ("letter", "date", "data")
    others = {t.format for t in inventory.tables if t.format != "delta"}
    assert others == {"parquet"}
    assert len({t.name for t in inventory.tables}) == len(inventory.tables)  # names stay distinct


def test_the_inventory_command_lists_every_corpus_table_with_its_features(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "inventory.json"
    assert main(["inventory", "--storage", str(corpus), "--out", str(out)]) == 0
    entries = {entry["location"]: entry for entry in json.loads(out.read_text())["tables"]}
    logs = sorted(log.parent for log in corpus.glob("*/*/delta/_delta_log"))
    assert sorted(location for location, entry in entries.items() if entry["format"] == "delta") == sorted(
        str(table) for table in logs
    )
    for table in logs:
        entry, log = entries[str(table)], replay_json_commits(table)
        protocol = log["protocol"]
        assert entry["version"] == log["commits"] - 1, table  # the corpus keeps every commit
        assert set(entry["reader_features"]) == set(protocol.get("readerFeatures", ())), table
        assert set(entry["writer_features"]) == set(protocol.get("writerFeatures", ())), table
        assert entry["partition_columns"] == log["metadata"]["partitionColumns"], table
        assert entry["num_files"] == len(log["active"]), table
        assert entry["size_bytes"] == sum(add["size"] for add in log["active"]), table
        assert entry["strategy"] == "rewrite", table
    # everything else is a folder of expected results in plain Parquet, each a table of its own
    others = [entry for entry in entries.values() if entry["format"] != "delta"]
    assert {entry["format"] for entry in others} == {"parquet"}
    assert all("expected" in Path(entry["location"]).parts for entry in others)
    assert {f["code"] for entry in others for f in entry["findings"] if f["severity"] == "blocker"} == {
        "not-delta-format"
    }
