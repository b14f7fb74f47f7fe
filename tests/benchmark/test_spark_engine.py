"""The spark engine: local Spark with the Iceberg runtime; the Delta source through our reader as a DataFrame."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pytest

from datax_migrate.benchmark import run_benchmark
from datax_migrate.benchmark.pairs import load_pairs, open_pairs
from datax_migrate.benchmark.spark_engine import SparkEngine
from tests.benchmark.conftest import Lake, orders, write_delta

pytestmark = pytest.mark.spark
ROOT = Path(__file__).resolve().parents[2]


def test_both_sides_answer_the_same_on_spark(spark: Any, lake: Lake) -> None:
    engine = SparkEngine(open_pairs(load_pairs(lake.pairs), str(lake.config)), spark)

    report = run_benchmark(lake.pairs, str(lake.queries), engine=engine, config=str(lake.config), runs=1, warmup=0)

    assert report.passed, [q.difference for q in report.queries]
    assert report.engine.name == "spark" and report.engine.version.startswith("3.5")
    assert "own Delta reader, as a DataFrame" in report.engine.source_reader
    assert "orders: metadata file" in report.engine.target_reader
    by_customer = next(q for q in report.queries if q.name == "by_customer")
    assert by_customer.rows == 50


def test_a_changed_row_fails_on_spark_too(spark: Any, lake: Lake) -> None:
    original = orders()
    changed = original.set_column(3, "price", pc.if_else(pc.equal(original["id"], 5), original["price"][6],
                                                          original["price"]))  # fmt: skip
    pairs = lake.pairs_with_source("orders", write_delta(lake.root / "delta" / "orders_changed", changed))
    engine = SparkEngine(open_pairs(load_pairs(pairs), str(lake.config)), spark)

    report = run_benchmark(pairs, str(lake.queries), engine=engine, config=str(lake.config), runs=1, warmup=0)

    verdicts = {q.name: q.answers_equal for q in report.queries}
    assert verdicts == {"by_customer": False, "by_region": True, "regions": True}
    assert not report.passed


@pytest.mark.slow
def test_the_cli_spark_engine_starts_a_local_session_with_the_iceberg_runtime(lake: Lake, tmp_path: Path) -> None:
    jars = ROOT / ".venv" / "spark-jars"
    if not (jars / "jars.txt").is_file():
        pytest.skip("Iceberg jars for Spark not found: run scripts/spark-jars.sh (make test does)")
    report_dir = tmp_path / "report"
    command = [sys.executable, "-m", "datax_migrate.cli", "benchmark", "run", "--pairs", str(lake.pairs),
               "--queries", str(lake.queries), "--config", str(lake.config), "--engine", "spark", "--runs", "1",
               "--warmup", "0", "--report-dir", str(report_dir)]  # fmt: skip
    environment = {**os.environ, "DATAX_SPARK_JARS": str(jars), "PYTHONPATH": str(ROOT)}

    done = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=600)

    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith("Answers equal: yes.")
    report = json.loads((report_dir / "report.json").read_text())
    assert report["engine"]["name"] == "spark" and report["engine"]["settings"]["master"].startswith("local")
