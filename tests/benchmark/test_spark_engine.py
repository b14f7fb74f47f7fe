"""The spark engine: local Spark with the Iceberg runtime; the Delta source through our reader as a DataFrame."""

from __future__ import annotations

from typing import Any

import pyarrow.compute as pc
import pytest

from datax_migrate.benchmark import run_benchmark
from datax_migrate.benchmark.pairs import load_pairs, open_pairs
from datax_migrate.benchmark.spark_engine import SparkEngine
from tests.benchmark.conftest import Lake, orders, write_delta

pytestmark = pytest.mark.spark


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
