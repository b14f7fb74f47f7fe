"""Reconciliation reports built by hand, with the values renderers get wrong: markup, NULL, NaN, bytes, pipes."""

from __future__ import annotations

import dataclasses
import math

from datax_migrate.reconcile.model import Check, ColumnSummary, Difference, Report, Side, Status

SCRIPT = "<script>alert(1)</script>"
LONG_VALUE = "a-very-long-value-without-spaces-" * 20


def sides() -> tuple[Side, Side]:
    return (
        Side(
            "delta", "s3://lake/finance/sales", version=7, commit_timestamp="2024-05-01T10:00:00+00:00", rows=5_000_000
        ),
        Side(
            "iceberg",
            "local:finance.sales",
            snapshot_id=4_811_223_344_556_677_889,
            commit_timestamp="2024-05-02T08:30:00+00:00",
            rows=5_000_000,
        ),
    )


def match_report() -> Report:
    source, target = sides()
    aggregates = {
        "columns": [
            {
                "column": "amount",
                "kind": "decimal",
                "source": {"nulls": 0, "min": "0.01", "max": "9999.99", "sum": "123456789.10"},
                "target": {"nulls": 0, "min": "0.01", "max": "9999.99", "sum": "123456789.10"},
                "status": "pass",
            },
            {
                "column": "region",
                "kind": "string",
                "source": {"nulls": 3, "min": "AMER", "max": "EMEA", "sum": None},
                "target": {"nulls": 3, "min": "AMER", "max": "EMEA", "sum": None},
                "status": "pass",
            },
        ]
    }
    checksum = {"source": {"rows": 5_000_000, "digest": "9f2c41aa"}, "buckets": 64, "differing_bucket_ids": []}
    return Report(
        table="finance.sales",
        source=source,
        target=target,
        verdict="match",
        checks=[
            Check("schema", Status.EXPECTED, "12 columns match; some types differ exactly as the type map says", {}),
            Check("row_count", Status.PASS, "5,000,000 rows on both sides", {"scanned": {"source": 5_000_000}}, 0.4),
            Check("aggregates", Status.PASS, "NULL counts, min and max of 12 columns agree", aggregates, 3.2),
            Check("checksum", Status.PASS, "table checksum 9f2c41aa on both sides", checksum, 3.2),
            Check("row_diff", Status.SKIPPED, "not needed: every bucket checksum is equal"),
        ],
        differences=[],
        differences_total=0,
        keys=["id"],
        tolerances={},
        sample_limit=100,
        sample_seed=42,
        started_at="2024-05-02T09:00:00+00:00",
        seconds=7.25,
        tool_version="0.1.0",
    )


def mismatch_report() -> Report:
    source, target = sides()
    target = dataclasses.replace(target, rows=4_999_998, converted_from_version=6)
    differences = [
        Difference("cell", {"id": 1, "name": SCRIPT}, "note", SCRIPT, "safe"),
        Difference("cell", {"id": 2, "name": "a|b"}, "amount", None, "NULL"),
        Difference("cell", {"id": 3, "name": "nan"}, "ratio", math.nan, 0.5),
        Difference("cell", {"id": 4, "name": "blob"}, "payload", b"\x00\xff", b"\x01"),
        Difference("cell", {"id": 5, "name": "long"}, "comment", LONG_VALUE, "short"),
        Difference("source_only", {"id": 6, "name": "gone"}),
        Difference("duplicate_key", {"id": 7, "name": "twice"}, None, 1, 2),
    ]
    return Report(
        table="finance.sales",
        source=source,
        target=target,
        verdict="mismatch",
        checks=[
            Check("schema", Status.PASS, "12 columns with the same names, types and nullability", {}, 0.01),
            Check(
                "row_count",
                Status.FAIL,
                "scanned 5,000,000 rows in Delta, 4,999,998 in Iceberg",
                {"scanned": {"source": 5_000_000, "target": 4_999_998}},
                0.4,
            ),
            Check("aggregates", Status.TOLERATED, "aggregates agree within the given tolerances", {}, 3.2),
            Check("checksum", Status.FAIL, f"checksums differ in 3 of 64 buckets {SCRIPT}", {"buckets": 64}, 3.2),
            Check(
                "row_diff",
                Status.FAIL,
                "1,234 differences",
                {"differences": 1234, "examined": "2 of 3 differing buckets"},
                12.5,
            ),
        ],
        differences=differences,
        differences_total=1234,
        keys=["id", "name"],
        tolerances={"amount": "abs:0.01"},
        sample_limit=7,
        sample_seed=42,
        started_at="2024-05-02T09:00:00+00:00",
        seconds=19.4,
        tool_version="0.1.0",
        warnings=[f"target snapshot chosen by fallback {SCRIPT}"],
        column_summaries=[
            ColumnSummary("note", 4_096, 1, 0),
            ColumnSummary("amount", 4_096, 1_200, 1, "0.5", 0.25),
            ColumnSummary("ratio", 4_096, 1, 0, 0.0, 0.0),
            ColumnSummary("region", 4_096, 0, 0),
        ],
    )
