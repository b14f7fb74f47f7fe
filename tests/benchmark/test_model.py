import json
import math

import pytest

from datax_migrate.benchmark.model import (
    REPORT_SCHEMA_VERSION,
    BenchmarkError,
    BenchmarkReport,
    EngineInfo,
    Machine,
    QueryOutcome,
    TableLayout,
    Timing,
    geometric_mean,
)


def test_timing_statistics() -> None:
    timing = Timing.of([0.5, 0.1, 0.3, 0.2, 0.4])
    assert (timing.median_s, timing.p95_s, timing.min_s, timing.max_s) == (0.3, 0.5, 0.1, 0.5)
    assert timing.runs == (0.5, 0.1, 0.3, 0.2, 0.4)
    assert Timing.of([0.2]).p95_s == 0.2


def test_geometric_mean() -> None:
    assert geometric_mean([0.5, 2.0]) == pytest.approx(1.0)
    assert geometric_mean([0.25, 1.0, 4.0, 1.0]) == pytest.approx(1.0)
    assert math.isnan(geometric_mean([]))


def sample_report(equal: bool = True) -> BenchmarkReport:
    outcome = QueryOutcome(
        name="q1",
        ordered=True,
        rows=3,
        answers_equal=equal,
        difference=None if equal else "row 1 differs",
        source=Timing.of([0.2, 0.4]),
        target=Timing.of([0.1, 0.2]),
        ratio=0.5,
        reference={"source": True, "target": equal},
    )
    layout = TableLayout(
        "orders", "target", "n.orders (m.json)", 1, 2, 100, 10, ("ZSTD",), 2, (4, 5, 6), 50, "none", "none", 2
    )
    return BenchmarkReport(
        title="t",
        label="",
        started_at="2026-01-01T00:00:00+00:00",
        engine=EngineInfo("duckdb", "1.5.5", {"threads": "2"}, "delta_scan", "iceberg_scan"),
        machine=Machine(2, 1 << 30, "Linux", "3.11"),
        runs=2,
        warmup=1,
        tolerance="floats 1e-9",
        queries=(outcome,),
        layouts=(layout,),
        geomean_ratio=0.5,
        query_seconds=9.0,
        wall_seconds=10.0,
    )


def test_report_json_round_trip_carries_the_derived_figures() -> None:
    report = sample_report(equal=False)
    document = json.loads(json.dumps(report.to_json()))

    assert document["schema_version"] == REPORT_SCHEMA_VERSION
    assert document["queries"][0]["source"]["median_s"] == pytest.approx(0.3)
    assert document["queries"][0]["ratio"] == 0.5
    assert document["geomean_ratio"] == 0.5
    assert (document["answers_equal"], document["reference_equal"], document["passed"]) == (False, False, False)
    assert document["harness_overhead"] == pytest.approx(0.1)
    assert BenchmarkReport.from_json(document) == report


def test_report_of_another_schema_version_is_refused() -> None:
    document = sample_report().to_json()
    document["schema_version"] = 99
    with pytest.raises(BenchmarkError, match="schema version 99"):
        BenchmarkReport.from_json(document)
