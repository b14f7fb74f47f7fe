"""Query benchmarks: the same queries on the Delta source and the Iceberg target, answers checked, timed.

The names below load on first use, so that importing the package stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from datax_migrate.lazy import lazy_exports

if TYPE_CHECKING:
    from datax_migrate.benchmark.model import BenchmarkError, BenchmarkReport, QueryOutcome, TableLayout, Timing
    from datax_migrate.benchmark.pairs import TablePair, load_pairs
    from datax_migrate.benchmark.queries import Query, load_queries
    from datax_migrate.benchmark.reports import write_reports
    from datax_migrate.benchmark.run import Reference, run_benchmark
    from datax_migrate.benchmark.tpch import run_tpch

_EXPORTS = {
    "BenchmarkError": "datax_migrate.benchmark.model",
    "BenchmarkReport": "datax_migrate.benchmark.model",
    "QueryOutcome": "datax_migrate.benchmark.model",
    "TableLayout": "datax_migrate.benchmark.model",
    "Timing": "datax_migrate.benchmark.model",
    "TablePair": "datax_migrate.benchmark.pairs",
    "load_pairs": "datax_migrate.benchmark.pairs",
    "Query": "datax_migrate.benchmark.queries",
    "load_queries": "datax_migrate.benchmark.queries",
    "write_reports": "datax_migrate.benchmark.reports",
    "Reference": "datax_migrate.benchmark.run",
    "run_benchmark": "datax_migrate.benchmark.run",
    "run_tpch": "datax_migrate.benchmark.tpch",
}

__all__ = [
    "BenchmarkError",
    "BenchmarkReport",
    "Query",
    "QueryOutcome",
    "Reference",
    "TableLayout",
    "TablePair",
    "Timing",
    "load_pairs",
    "load_queries",
    "run_benchmark",
    "run_tpch",
    "write_reports",
]

__getattr__ = lazy_exports(__name__, _EXPORTS)
