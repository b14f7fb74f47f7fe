"""The crawl: per-object failures, resuming an interrupted run, and the two commands."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from datax_migrate.assess import assess
from datax_migrate.assess.assessment import with_verdicts
from datax_migrate.cli import main
from datax_migrate.errors import InventoryError
from datax_migrate.findings import Severity
from datax_migrate.inventory.crawl import CrawlCounts, crawl
from datax_migrate.inventory.model import Inventory
from datax_migrate.inventory.sources.storage import StorageSource
from tests.support.delta_builder import DeltaBuilder, field

TABLE_FIELDS = (
    "name",
    "location",
    "format",
    "version",
    "reader_features",
    "writer_features",
    "partition_columns",
    "num_files",
    "size_bytes",
    "findings",
)
"""What the issue asks of every ``tables[]`` entry of inventory.json."""
NOTEBOOK_FIELDS = ("path", "language", "tables_referenced", "findings")


def delta_table(root: Path) -> DeltaBuilder:
    builder = DeltaBuilder(root)
    rows = pa.table({"id": pa.array([1, 2, 3], pa.int64())})
    builder.commit(builder.protocol(), builder.metadata([field("id", "long")]), builder.data_file(rows))
    return builder


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    root = tmp_path / "lake"
    for name in ("a", "b", "c"):
        delta_table(root / "sales" / name)
    broken = delta_table(root / "sales" / "broken")
    (broken.log / f"{0:020d}.json").write_text('{"commitInfo": {}}\nnot json\n')
    partitioned = root / "landing" / "events" / "day=2024-01-01"
    partitioned.mkdir(parents=True)
    pq.write_table(pa.table({"x": [1]}), partitioned / "part-0.parquet")
    (root / "_tmp" / "skipped" / "_delta_log").mkdir(parents=True)
    return root


def test_an_unreadable_log_is_a_failure_and_the_crawl_goes_on(lake: Path) -> None:
    inventory = crawl([StorageSource(str(lake))])
    found = {(Path(t.location or "").name, t.format) for t in inventory.tables}
    assert found == {("a", "delta"), ("b", "delta"), ("c", "delta"), ("events", "parquet")}
    [failure] = inventory.failures
    assert (failure.source, failure.stage) == ("storage", "read-log")
    assert failure.subject.endswith("sales/broken") and "line 2 is not valid JSON" in failure.reason
    assert {t.name for t in inventory.tables} >= {"`sales`.`a`", "`landing`.`events`"}


def test_inventory_json_entries_carry_the_required_fields_and_findings(lake: Path, tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "load.py").write_text("# Databricks notebook source\ndf = spark.table('main.sales.orders')\n")
    out = tmp_path / "inventory.json"
    assert main(["inventory", "--storage", str(lake), "--export", str(exports), "--out", str(out)]) == 1
    document = json.loads(out.read_text())
    assert document["schema_version"] == "datax-inventory/2"
    tables = {Path(entry["location"]).name: entry for entry in document["tables"]}
    for entry in document["tables"]:
        assert set(TABLE_FIELDS) <= set(entry), entry["name"]
        assert all({"code", "severity"} <= set(finding) for finding in entry["findings"])
    a = tables["a"]
    assert (a["name"], a["format"], a["version"], a["num_files"]) == ("`sales`.`a`", "delta", 0, 1)
    assert (a["reader_features"], a["writer_features"], a["partition_columns"]) == ([], [], [])
    assert a["size_bytes"] == sum(f.stat().st_size for f in (lake / "sales" / "a").glob("*.parquet"))
    assert a["strategy"] == "rewrite" and "delta" not in a  # one flat object, no nested facts
    events = tables["events"]
    assert events["format"] == "parquet" and events["version"] is None and events["num_files"] is None
    assert [(f["code"], f["severity"]) for f in events["findings"]] == [("not-delta-format", "blocker")]
    [notebook] = document["notebooks"]
    assert set(NOTEBOOK_FIELDS) <= set(notebook)
    assert (notebook["path"], notebook["language"], notebook["tables_referenced"]) == (
        "load.py",
        "python",
        ["main.sales.orders"],
    )
    # the findings are the assessment's, and reading the document back keeps them
    inventory = Inventory.from_json(out.read_text())
    assessed = {t.name: t.findings for t in assess(inventory).tables}
    assert {t.name: t.findings for t in inventory.tables} == assessed
    assert Inventory.from_json(inventory.to_json()) == inventory


def test_a_parallel_scan_finds_what_one_at_a_time_finds(lake: Path) -> None:
    for number in range(12):
        delta_table(lake / "wide" / f"t{number:02d}")
    one = crawl([StorageSource(str(lake), workers=1)])
    eight = crawl([StorageSource(str(lake), workers=8)])
    assert replace(eight, created_at="") == replace(one, created_at="")
    assert (len(one.tables), len(one.failures)) == (16, 1)  # the broken log did not stop the others


def test_parquet_inside_a_delta_table_is_part_of_it_and_beside_it_is_a_table_of_its_own(tmp_path: Path) -> None:
    case = tmp_path / "corpus" / "case"
    delta_table(case / "delta")
    (case / "delta" / "nested").mkdir()
    pq.write_table(pa.table({"x": [1]}), case / "delta" / "nested" / "stray.parquet")
    (case / "expected").mkdir()
    pq.write_table(pa.table({"id": [1, 2, 3]}), case / "expected" / "part-0.parquet")

    inventory = with_verdicts(crawl([StorageSource(str(tmp_path / "corpus"))]))
    assert sorted((Path(t.location or "").name, t.format) for t in inventory.tables) == [
        ("delta", "delta"),
        ("expected", "parquet"),
    ]
    delta, parquet = sorted(inventory.tables, key=lambda t: t.format or "")
    assert delta.strategy == "rewrite" and not [f for f in delta.findings if f.severity is Severity.BLOCKER]
    [blocker] = parquet.findings
    assert (blocker.code, blocker.severity, parquet.strategy) == ("not-delta-format", Severity.BLOCKER, "blocked")
    assert "CONVERT TO DELTA parquet.`" in blocker.message and "add_files" in blocker.message
    assert "--exclude" in blocker.message

    source = StorageSource(str(tmp_path / "corpus"), exclude=["*/expected"])
    assert source.description.endswith("(excluding */expected)")
    assert [Path(t.location or "").name for t in crawl([source]).tables] == ["delta"]


def test_an_interrupted_crawl_resumes_where_it_stopped(lake: Path, tmp_path: Path) -> None:
    checkpoint = tmp_path / "inventory.json.partial.jsonl"

    def stop_after_two(counts: CrawlCounts) -> None:
        if counts.total == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        crawl([StorageSource(str(lake))], checkpoint, stop_after_two)
    first_two = [json.loads(line) for line in checkpoint.read_text().splitlines()[1:]]
    assert len(first_two) == 2
    # what the first run recorded is not read again: remove its data, the resumed run still lists it
    done = [Path(record["location"]) for record in first_two if record["type"] == "table"]
    for location in done:
        shutil.rmtree(location)
    seen: list[CrawlCounts] = []
    inventory = crawl([StorageSource(str(lake))], checkpoint, seen.append)
    assert seen[-1].resumed == len(done)
    assert len(inventory.tables) == 4 and len(inventory.failures) == 1
    assert {Path(t.location or "") for t in inventory.tables} >= set(done)


def test_a_checkpoint_of_other_sources_is_not_resumed(lake: Path, tmp_path: Path) -> None:
    checkpoint = tmp_path / "partial.jsonl"
    crawl([StorageSource(str(lake / "sales"))], checkpoint)
    with pytest.raises(InventoryError, match="belongs to a crawl of other sources"):
        crawl([StorageSource(str(lake))], checkpoint)


def test_inventory_and_assess_commands(lake: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out" / "inventory.json"
    assert (
        main(
            [
                "inventory",
                "--storage",
                str(lake / "sales" / "a"),
                "--storage",
                str(lake / "sales" / "b"),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert not out.with_name("inventory.json.partial.jsonl").exists()
    assert main(["assess", str(out), "--report-dir", str(tmp_path / "ok")]) == 0  # nothing blocks

    command = ["inventory", "--storage", str(lake), "--out", str(out), "--parquet", "--workers", "3"]
    assert main(command) == 1  # one log unreadable
    tables = pq.read_table(out.with_name("inventory.tables.parquet"))
    assert tables.num_rows == 4 and set(TABLE_FIELDS) <= set(tables.column_names)
    rows = {Path(row["location"]).name: row for row in tables.to_pylist()}
    assert rows["a"]["reader_features"] == [] and rows["a"]["num_files"] == 1 and rows["a"]["version"] == 0
    assert [(f["code"], f["severity"]) for f in rows["events"]["findings"]] == [("not-delta-format", "blocker")]
    assert rows["events"]["version"] is None and rows["events"]["strategy"] == "blocked"
    prices = tmp_path / "prices.json"
    prices.write_text('{"region": "eu-central-1"}')
    assert main(["assess", str(out), "--report-dir", str(tmp_path / "rep"), "--prices", str(prices)]) == 1
    captured = capsys.readouterr()
    assert "log-unreadable" in captured.out and "not-delta-format" in captured.out
    assert json.loads((tmp_path / "rep" / "assessment.json").read_text())["prices"]["region"] == "eu-central-1"
    assert Inventory.from_json(out.read_text()).failures[0].stage == "read-log"

    assert main(["assess", str(tmp_path / "missing.json")]) == 2
    assert main(["inventory", "--out", str(out)]) == 2
    with pytest.raises(SystemExit) as usage:
        main(["inventory", "--storage", str(lake), "--workers", "0"])
    assert usage.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith("datax-migrate: error: cannot read the inventory")
    assert err[1] == "datax-migrate: error: give at least one of --workspace, --host, --storage or --export"
