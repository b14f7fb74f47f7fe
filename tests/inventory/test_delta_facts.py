"""Delta facts the corpus has no table for: change data feed, CHECK constraints, generated and identity
columns, the small-file ratio, history and last write, on a table built here and read back independently."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa

from datax_migrate.assess.assessment import with_verdicts
from datax_migrate.findings import Severity
from datax_migrate.inventory.crawl import crawl
from datax_migrate.inventory.delta_facts import SMALL_FILE_BYTES
from datax_migrate.inventory.sources.storage import StorageSource
from tests.support.delta_builder import DeltaBuilder, field
from tests.support.delta_logs import replay_json_commits

IN_COMMIT_MS = 1_717_243_200_000  # 2024-06-01T12:00:00Z


def featured_table(root: Path) -> DeltaBuilder:
    """Four commits: create with every declared feature, two appends (one file declared large), a delete."""
    builder = DeltaBuilder(root)
    fields = [
        field("id", "long", **{"delta.identity.start": 1, "delta.identity.step": 1, "delta.identity.highWaterMark": 4}),
        field("ts", "timestamp"),
        field("day", "date", **{"delta.generationExpression": "CAST(ts AS DATE)"}),
        field("doubled", "long", **{"delta.generationExpression": "id * 2"}),
    ]
    configuration = {
        "delta.enableChangeDataFeed": "true",
        "delta.constraints.positive_id": "id > 0",
        "delta.constraints.recent": "ts > '2020-01-01'",
    }

    def rows(ids: list[int]) -> pa.Table:
        return pa.table(
            {
                "id": pa.array(ids, pa.int64()),
                "ts": pa.array([1_704_067_200_000_000] * len(ids), pa.timestamp("us", tz="UTC")),
                "doubled": pa.array([2 * i for i in ids], pa.int64()),
            }
        )

    first = builder.data_file(rows([1, 2]), {"day": "2024-01-01"}, "day=2024-01-01")
    builder.commit(builder.protocol(), builder.metadata(fields, ["day"], configuration), first)
    large = builder.data_file(rows([3]), {"day": "2024-01-01"}, "day=2024-01-01")
    large["add"]["size"] = 64 * 1024 * 1024  # the log's size is what the inventory reads
    builder.commit(large)
    builder.commit(builder.data_file(rows([4]), {"day": "2024-01-01"}, "day=2024-01-01"))
    builder.commit(builder.remove(first), in_commit_timestamp=IN_COMMIT_MS)
    return builder


def test_declared_features_history_and_small_files_against_the_log(tmp_path: Path) -> None:
    builder = featured_table(tmp_path / "lake" / "events")
    [table] = crawl([StorageSource(str(tmp_path / "lake"))]).tables
    facts = table.delta
    assert facts is not None
    log = replay_json_commits(builder.root)
    configuration = log["metadata"]["configuration"]
    fields = json.loads(log["metadata"]["schemaString"])["fields"]

    assert facts.change_data_feed is (configuration["delta.enableChangeDataFeed"] == "true") is True
    assert facts.check_constraints == {"positive_id": "id > 0", "recent": "ts > '2020-01-01'"}
    assert facts.generated_columns == {f["name"]: f["metadata"]["delta.generationExpression"] for f in fields[2:]}
    assert facts.identity_columns == ("id",)
    assert facts.history_length == log["commits"] == 4
    assert facts.version == 3
    assert dt.datetime.fromisoformat(facts.last_write or "") == log["last_write"]
    assert facts.last_write == "2024-06-01T12:00:00.000+00:00"
    small = [add for add in log["active"] if add["size"] < SMALL_FILE_BYTES]
    assert (len(small), len(log["active"])) == (1, 2)
    assert facts.small_file_ratio == 0.5
    assert facts.partition_columns == ("day",)


def test_findings_say_what_the_converter_does_with_them(tmp_path: Path) -> None:
    featured_table(tmp_path / "lake" / "events")
    [table] = with_verdicts(crawl([StorageSource(str(tmp_path / "lake"))])).tables
    assert table.strategy == "rewrite"
    found = {(f.code, f.original or ""): f for f in table.findings}
    assert found[("change-data-feed", "")].severity is Severity.REVIEW
    assert "latest version only" in found[("change-data-feed", "")].message
    for expression in ("id > 0", "ts > '2020-01-01'"):
        constraint = found[("check-constraint", expression)]
        assert constraint.severity is Severity.REVIEW and "not enforce" in constraint.message
    transform = found[("generated-column", "CAST(ts AS DATE)")]
    assert transform.severity is Severity.INFO and "partition transform day(ts)" in transform.message
    computed = found[("generated-column", "id * 2")]
    assert computed.severity is Severity.REVIEW and "writers on AWS must fill it" in computed.message
    assert found[("identity-column", "")].severity is Severity.REVIEW
