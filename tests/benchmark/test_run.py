"""``benchmark run`` end to end: real Delta tables, their conversions, DuckDB reading both sides."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from datax_migrate.benchmark import run_benchmark
from datax_migrate.cli import main
from tests.benchmark.conftest import Lake, orders, write_delta

pytestmark = pytest.mark.slow


def cli(lake: Lake, pairs: Path, report_dir: Path, *extra: str) -> int:
    return main(
        [
            "benchmark", "run", "--pairs", str(pairs), "--queries", str(lake.queries), "--config", str(lake.config),
            "--runs", "3", "--warmup", "1", "--report-dir", str(report_dir), *extra,
        ]
    )  # fmt: skip


def test_equal_answers_pass_and_every_report_is_written(lake: Lake, capsys: pytest.CaptureFixture[str]) -> None:
    report_dir = lake.root / "report"

    code = cli(lake, lake.pairs, report_dir)

    out = capsys.readouterr().out
    assert code == 0, out
    assert out.startswith("Answers equal: yes. Geometric-mean ratio Iceberg/Delta: ")
    document = json.loads((report_dir / "report.json").read_text())
    assert document["schema_version"] == 1
    assert [q["name"] for q in document["queries"]] == ["by_customer", "by_region", "regions"]
    assert [q["ordered"] for q in document["queries"]] == [False, True, True]
    by_customer = document["queries"][0]
    assert by_customer["answers_equal"] and by_customer["rows"] == 50
    assert len(by_customer["source"]["runs"]) == len(by_customer["target"]["runs"]) == 3
    for side in ("source", "target"):
        timing = by_customer[side]
        assert timing["min_s"] <= timing["median_s"] <= timing["p95_s"]
    assert by_customer["ratio"] == pytest.approx(by_customer["target"]["median_s"] / by_customer["source"]["median_s"])
    assert document["geomean_ratio"] > 0 and document["passed"] is True
    assert document["reference_equal"] is None  # no reference answers for these queries
    assert document["engine"]["name"] == "duckdb" and document["engine"]["settings"]["threads"]
    assert document["machine"]["cores"] >= 1 and document["machine"]["memory_bytes"] > 0
    layouts = {(t["name"], t["side"]): t for t in document["layouts"]}
    assert layouts[("orders", "source")]["rows"] == layouts[("orders", "target")]["rows"] == 2_000
    assert layouts[("orders", "target")]["codecs"] and layouts[("orders", "target")]["row_groups"] >= 1
    assert layouts[("orders", "target")]["sort_order"] == "none"
    assert 0 < document["query_seconds"] < document["wall_seconds"]
    assert 0 < document["harness_overhead"] < 1
    html = (report_dir / "report.html").read_text()
    assert "<svg" in html and "Answers equal: yes" in html and "by_region" in html
    markdown = (report_dir / "report.md").read_text()
    assert "| by_customer | yes |" in markdown


def test_a_changed_row_fails_the_answer_check(lake: Lake, capsys: pytest.CaptureFixture[str]) -> None:
    original = orders()
    changed = original.set_column(
        2, "amount", pc.if_else(pc.equal(original["id"], 7), pa.scalar(999.0), original["amount"])
    )
    pairs = lake.pairs_with_source("orders", write_delta(lake.root / "delta" / "orders_changed", changed))
    report_dir = lake.root / "changed"

    code = cli(lake, pairs, report_dir)

    out = capsys.readouterr().out
    assert code == 1, out
    assert out.startswith("Answers equal: NO.")
    document = json.loads((report_dir / "report.json").read_text())
    verdicts = {q["name"]: q["answers_equal"] for q in document["queries"]}
    assert verdicts == {"by_customer": False, "by_region": False, "regions": True}
    assert "differs" in document["queries"][0]["difference"]
    assert document["passed"] is False
    assert "FAIL" in (report_dir / "report.html").read_text()
    assert "## Answers that differ" in (report_dir / "report.md").read_text()


def test_a_target_that_does_not_exist_is_refused_in_one_line(lake: Lake, capsys: pytest.CaptureFixture[str]) -> None:
    pairs = lake.root / "missing.yaml"
    pairs.write_text(lake.pairs.read_text().replace("sales.customers", "sales.nothing"))

    code = cli(lake, pairs, lake.root / "r")

    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().splitlines() == [
        "datax-migrate: error: pair 'customers': Iceberg table sales.nothing does not exist in catalog lake "
        "(convert it first)"
    ]


def test_the_library_call_returns_the_report_and_writes_nothing_without_a_folder(lake: Lake) -> None:
    lines: list[str] = []

    report = run_benchmark(
        lake.pairs, str(lake.queries), config=str(lake.config), runs=1, warmup=0, progress=lines.append
    )

    assert report.passed and len(report.queries) == 3
    assert all(len(q.source.runs) == 1 for q in report.queries)
    assert lines[0].startswith("[1/3] by_customer: source ") and lines[0].endswith("answers equal")
    assert not (lake.root / "report").exists()


def plan_csv(lake: Lake, rows: list[tuple[str, str, str, str]]) -> Path:
    """A plan folder whose plan.csv maps (namespace, table, location, strategy) rows into catalog lake."""
    plan_dir = lake.root / "plan"
    plan_dir.mkdir(exist_ok=True)
    lines = ["databricks_name,location,catalog,namespace,table,strategy,wave,key_columns,tolerances,owner,notes"]
    lines += [f"main.{ns}.{name},{where},lake,{ns},{name},{strategy},1,,,," for ns, name, where, strategy in rows]
    (plan_dir / "plan.csv").write_text("\n".join(lines) + "\n")
    return plan_dir


def test_an_estate_plan_supplies_the_pairs(lake: Lake, capsys: pytest.CaptureFixture[str]) -> None:
    delta = lake.root / "delta"
    plan_dir = plan_csv(
        lake,
        [
            ("sales", "orders", str(delta / "orders"), "convert"),
            ("sales", "customers", str(delta / "customers"), "convert"),
            ("sales", "skipped", str(delta / "nowhere"), "skip"),  # not a pair: never opened
        ],
    )
    args = ["benchmark", "run", "--plan", str(plan_dir), "--queries", str(lake.queries), "--config", str(lake.config)]

    code = main([*args, "--runs", "1", "--warmup", "0", "--report-dir", str(lake.root / "from-plan")])

    assert code == 0, capsys.readouterr()
    document = json.loads((lake.root / "from-plan" / "report.json").read_text())
    assert {t["name"] for t in document["layouts"]} == {"orders", "customers"}
    assert all(q["answers_equal"] for q in document["queries"]) and document["title"].endswith(str(plan_dir))


def test_a_plan_naming_two_tables_alike_is_refused(lake: Lake, capsys: pytest.CaptureFixture[str]) -> None:
    delta = lake.root / "delta"
    plan_dir = plan_csv(
        lake, [("sales", "orders", str(delta / "orders"), "convert"), ("eu", "orders", str(delta / "orders"), "sync")]
    )

    code = main(["benchmark", "run", "--plan", str(plan_dir), "--queries", str(lake.queries)])

    assert code == 2
    assert capsys.readouterr().err.strip() == (
        f"datax-migrate: error: plan {plan_dir}, line 3 (eu.orders): the name 'orders' is also sales.orders; "
        "use --pairs to name them apart"
    )
