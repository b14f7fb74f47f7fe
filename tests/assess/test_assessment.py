"""The assessment agrees with the converter, and its findings, estimates and reports."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest
from pyiceberg.catalog import Catalog

from datax_migrate.assess import assess
from datax_migrate.assess.estimates import MEASURED_THROUGHPUT, S3TablesPrices, estimate_table
from datax_migrate.assess.report import render_html, render_markdown, write_reports
from datax_migrate.assess.rules import BLOCKED, RECREATE_VIEW, REWRITE, UNKNOWN, assess_table
from datax_migrate.convert import convert_table
from datax_migrate.errors import DataxError
from datax_migrate.findings import Severity
from datax_migrate.inventory.crawl import crawl
from datax_migrate.inventory.model import CrawlFailure, DeltaFacts, Inventory, TableRecord
from datax_migrate.inventory.sources.storage import StorageSource
from tests.support.delta_builder import field
from tests.support.delta_tables import build


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    root = tmp_path / "lake"
    build(root / "sales" / "plain")
    build(root / "sales" / "future", reader_features=["deletionVectors", "futureFeature"])
    build(root / "sales" / "variant", fields=[field("id", "long"), field("v", "variant")])
    build(
        root / "sales" / "rules",
        fields=[
            field("id", "long", **{"delta.identity.start": 1, "delta.identity.step": 1}),
            field("ts", "timestamp"),
            field("day", "date", **{"delta.generationExpression": "CAST(ts AS DATE)"}),
            field("doubled", "long", **{"delta.generationExpression": "id * 2"}),
        ],
        rows=pa.table(
            {
                "id": pa.array([1, 2], pa.int64()),
                "ts": pa.array([1_704_067_200_000_000, 1_704_070_800_000_000], pa.timestamp("us", tz="UTC")),
                "doubled": pa.array([2, 4], pa.int64()),
            }
        ),
        partition={"day": "2024-01-01"},
        partition_columns=["day"],
        configuration={"delta.enableChangeDataFeed": "true", "delta.constraints.positive": "id > 0"},
    )
    return root


def test_rewrite_is_recommended_exactly_where_the_converter_succeeds(lake: Path, catalog: Catalog) -> None:
    assessment = assess(crawl([StorageSource(str(lake))]))
    strategies = {Path(t.location or "").name: t.strategy for t in assessment.tables}
    assert strategies == {"plain": REWRITE, "future": BLOCKED, "variant": BLOCKED, "rules": REWRITE}
    for table in assessment.tables:
        name = Path(table.location or "").name
        if table.strategy == REWRITE:
            assert convert_table(str(table.location), catalog, f"ns.{name}").status == "converted"
        else:
            with pytest.raises(DataxError) as refused:
                convert_table(str(table.location), catalog, f"ns.{name}")
            blocker = next(f for f in table.findings if f.severity is Severity.BLOCKER)
            assert str(refused.value) in blocker.message


def test_findings_for_what_iceberg_does_not_carry(lake: Path) -> None:
    assessment = assess(crawl([StorageSource(str(lake / "sales"))]))
    by_table = {Path(t.location or "").name: t for t in assessment.tables}
    codes = {(f.code, f.severity) for f in by_table["rules"].findings}
    assert codes >= {
        ("change-data-feed", Severity.REVIEW),
        ("check-constraint", Severity.REVIEW),
        ("identity-column", Severity.REVIEW),
        ("generated-column", Severity.REVIEW),  # id * 2: writers must fill it
        ("generated-column", Severity.INFO),  # CAST(ts AS DATE): becomes the day transform
    }
    transform = next(
        f for f in by_table["rules"].findings if f.code == "generated-column" and f.severity is Severity.INFO
    )
    assert "day(ts)" in transform.message
    future = {f.code for f in by_table["future"].findings}
    assert {"unsupported-reader-feature", "deletion-vectors"} <= future
    assert "futureFeature" in next(
        f.message for f in by_table["future"].findings if f.code == "unsupported-reader-feature"
    )
    assert "variant-as-json" in next(f.message for f in by_table["variant"].findings if f.code == "unmappable-type")


def test_catalog_tables_views_and_unread_logs() -> None:
    view = TableRecord("main.s.v", "unity-catalog", "view", None, view_definition="SELECT 1")
    assert assess_table(view)[0] == RECREATE_VIEW
    pipeline = TableRecord("main.s.mv", "unity-catalog", "materialized-view", "delta")
    assert [f.code for f in assess_table(pipeline)[1]] == ["pipeline-table"]
    csv = TableRecord("main.s.raw", "unity-catalog", "external", "csv", "s3://landing/raw")
    assert assess_table(csv) == (BLOCKED, assess_table(csv)[1]) and assess_table(csv)[1][0].code == "not-delta-format"
    unread = TableRecord("main.s.t", "unity-catalog", "external", "delta", "s3://b/t", delta_error="Access Denied")
    strategy, findings = assess_table(unread)
    assert strategy == UNKNOWN and [f.code for f in findings] == ["external-location", "log-unreadable"]
    unknown = TableRecord("main.s.u", "unity-catalog", "managed", "delta", "s3://b/u")
    assert assess_table(unknown)[0] == UNKNOWN
    assert [f.code for f in assess_table(unknown)[1]] == ["delta-facts-missing"]


@pytest.mark.parametrize(
    ("num_files", "ratio", "size_bytes", "expected"),
    [
        (200, 0.5, 200 * 40 * 2**20, "50% of its 200 data files are under 32 MiB"),
        (200, 0.49, 200 * 8 * 2**20, None),  # most files are large enough, whatever the average
        (99, 1.0, 99 * 2**20, None),  # too few files to matter
        (200, None, 200 * 8 * 2**20, "its 200 data files average 8.0 MiB (under 32 MiB)"),  # DESCRIBE DETAIL
        (200, None, 200 * 40 * 2**20, None),
    ],
)
def test_many_small_files(num_files: int, ratio: float | None, size_bytes: int, expected: str | None) -> None:
    facts = DeltaFacts(0, 1, 2, num_files=num_files, size_bytes=size_bytes, small_file_ratio=ratio)
    table = TableRecord("s.t", "storage", "external", "delta", "/lake/s/t", delta=facts)
    messages = [f.message for f in assess_table(table)[1] if f.code == "many-small-files"]
    assert [m.split(": the rewrite bin-packs")[0] for m in messages] == ([] if expected is None else [expected])


def test_failures_and_name_collisions_become_findings() -> None:
    inventory = Inventory(
        created_at="2026-11-29T00:00:00+00:00",
        sources=("storage /x",),
        tables=(
            TableRecord("a.b-c.t", "unity-catalog", "view", None),
            TableRecord("a.b_c.t", "unity-catalog", "view", None),
        ),
        failures=(
            CrawlFailure("storage", "/x/broken", "read-log", "the Delta log cannot be read: line 1 is not JSON"),
            CrawlFailure("workspace", "main.s", "list-tables", "PERMISSION_DENIED"),
        ),
    )
    assessment = assess(inventory)
    assert [(f.code, f.severity) for f in assessment.findings] == [
        ("log-unreadable", Severity.BLOCKER),
        ("crawl-failed", Severity.REVIEW),
    ]
    names = [t.target or "" for t in assessment.tables]
    assert names[1] == "b_c.t" and names[0].startswith("b_c_") and names[0].endswith(".t")
    assert "target-name-changed" in {f.code for f in assessment.tables[0].findings}
    clash = Inventory(
        created_at="2026-11-29T00:00:00+00:00",
        sources=(),
        tables=(
            TableRecord("x.s.t", "unity-catalog", "view", None),
            TableRecord("y.s.t", "unity-catalog", "view", None),
        ),
    )
    assert [f.code for f in assess(clash).findings] == ["target-name-collision"]


def test_estimates_follow_the_measured_runs_and_the_price_tiers(tmp_path: Path) -> None:
    # the three 2-core convert runs of docs/benchmarks.md the throughput model was fitted through
    for megabytes, files, seconds in ((178.4, 1050, 4.19), (713.7, 4200, 9.42), (508.7, 20, 4.83)):
        estimate = estimate_table(int(megabytes * 1e6), files, MEASURED_THROUGHPUT)
        assert estimate.seconds == pytest.approx(seconds, rel=0.05)
    prices = S3TablesPrices()
    assert prices.storage_per_month(1024) == pytest.approx(1024 * 0.0265)
    tiered = 50 * 1024 * 0.0265 + 450 * 1024 * 0.0253 + 100 * 1024 * 0.0242
    assert prices.storage_per_month(600 * 1024) == pytest.approx(tiered)
    override = tmp_path / "prices.yaml"
    override.write_text("region: eu-west-1\nstorage_tiers: [[null, 0.03]]\n")
    assert S3TablesPrices.load(override).storage_per_month(10) == pytest.approx(0.3)
    override.write_text("storage: 1\n")
    with pytest.raises(DataxError, match="unknown prices: storage"):
        S3TablesPrices.load(override)


def test_reports_from_a_round_tripped_inventory(lake: Path, tmp_path: Path) -> None:
    inventory = crawl([StorageSource(str(lake))])
    assert Inventory.from_json(inventory.to_json()) == inventory
    assessment = assess(Inventory.from_json(inventory.to_json()))
    paths = write_reports(assessment, tmp_path / "reports")
    assert [p.name for p in paths] == ["assessment.json", "assessment.md", "assessment.html"]
    document = json.loads(paths[0].read_text())
    assert document["summary"]["strategies"] == {"rewrite": 2, "recreate-view": 0, "blocked": 2, "unknown": 0}
    assert document["summary"]["blockers"] == assessment.blockers == 2
    markdown = render_markdown(assessment)
    assert "| rewrite | 2 |" in markdown and "`unsupported-reader-feature` | blocker | 1 |" in markdown
    html = render_html(assessment)
    assert html.count("<tr>") > len(assessment.tables) and "<script" not in html
