"""Run a query benchmark: the same queries on the Delta source and the Iceberg target, answers checked, timed.

    >>> from datax_migrate.benchmark import run_benchmark
    >>> report = run_benchmark("pairs.yaml", "queries/", runs=5, warmup=1, report_dir="bench-report")
    >>> report.passed, report.geomean_ratio

Per query: ``warmup`` untimed runs on each side, then ``runs`` timed rounds, each running the query on
both sides, the side that goes first alternating from round to round. The answer each side gave
first is compared (source against target, and each against a reference answer when one is given).
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from datax_migrate.benchmark.answers import TOLERANCE_NOTE, compare, compare_to_reference, rows_of
from datax_migrate.benchmark.engine import QueryEngine
from datax_migrate.benchmark.layout import table_layouts
from datax_migrate.benchmark.model import (
    SIDES,
    SOURCE,
    TARGET,
    BenchmarkError,
    BenchmarkReport,
    Machine,
    QueryOutcome,
    Timing,
    geometric_mean,
)
from datax_migrate.benchmark.pairs import OpenedPair, TablePair, load_pairs, open_pairs
from datax_migrate.benchmark.queries import Query, load_queries

ENGINES = ("duckdb", "spark")
TPCH = "tpch"
"""The ``queries`` value that names the 22 built-in queries derived from TPC-H."""
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Reference:
    """Reference answers: the answer text of each query by name, and where they came from."""

    answers: Mapping[str, str]
    source: str


def run_benchmark(
    pairs: str | Path | Sequence[TablePair],
    queries: str | Sequence[Query],
    *,
    engine: str | QueryEngine = "duckdb",
    runs: int = 5,
    warmup: int = 1,
    report_dir: str | Path | None = None,
    config: str | None = None,
    reference: Reference | None = None,
    title: str | None = None,
    label: str = "",
    notes: Sequence[str] = (),
    threads: int | None = None,
    progress: Progress | None = None,
) -> BenchmarkReport:
    """Run ``queries`` on both sides of ``pairs``; check the answers; time them; write the reports.

    Args:
        pairs: A pairs file (``PAIRS.yaml``) or the pairs themselves.
        queries: A folder of ``.sql`` files, one ``.sql`` file, ``tpch``, or the queries themselves.
        engine: ``duckdb`` (embedded, the default), ``spark`` (local Spark with the Iceberg runtime),
            or an engine object (:class:`~datax_migrate.benchmark.engine.QueryEngine`).
        runs: Timed runs per query per side.
        warmup: Untimed runs per query per side before the timed ones.
        report_dir: Where to write report.json, report.html and report.md (none written when ``None``).
        config: The YAML catalog config the pairs' catalogs come from (as ``convert --config``).
        reference: Reference answers to check both sides against.
        title: The report's title (default: the pairs file's name).
        label: A notice every rendering of the report shows.
        notes: Notes the report carries.
        threads: Engine threads (default: the engine's own default).
        progress: Called with one line per query as it finishes.

    Returns:
        The report. ``report.passed`` is false when an answer differs (the CLI exits 1).

    Raises:
        BenchmarkError: the pairs, queries or an engine are unusable, or a query fails on a side.
    """
    started = time.perf_counter()
    started_at = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
    if runs < 1 or warmup < 0:
        raise BenchmarkError(f"runs must be 1 or more and warmup 0 or more, not {runs} and {warmup}")
    listed = load_pairs(pairs) if isinstance(pairs, (str, Path)) else tuple(pairs)
    statements = load_benchmark_queries(queries)
    opened = open_pairs(listed, config)
    runner = _engine(engine, opened, threads)
    try:
        layouts = table_layouts(opened)
        info = runner.info()
        timer = _Timer(runner)
        outcomes = []
        for statement in statements:
            outcome = _run_query(timer, statement, runs, warmup, reference)
            outcomes.append(outcome)
            if progress:
                progress(_progress_line(outcome, len(outcomes), len(statements)))
    finally:
        runner.close()
    report_notes = list(notes)
    if isinstance(pairs, (str, Path)):
        report_notes.insert(0, f"pairs: {pairs}")
    charts = None
    if report_dir is not None:
        from datax_migrate.benchmark.charts import render_charts

        charts = render_charts(outcomes)
    report = BenchmarkReport(
        title=title or _title(pairs),
        label=label,
        started_at=started_at,
        engine=info,
        machine=machine(),
        runs=runs,
        warmup=warmup,
        tolerance=TOLERANCE_NOTE,
        queries=tuple(outcomes),
        layouts=layouts,
        geomean_ratio=geometric_mean([outcome.ratio for outcome in outcomes]),
        query_seconds=timer.seconds,
        wall_seconds=time.perf_counter() - started,
        reference=reference.source if reference else "",
        notes=tuple(report_notes),
    )
    if report_dir is not None:
        from datax_migrate.benchmark.reports import write_reports

        write_reports(report, Path(report_dir), charts)
    return report


def machine() -> Machine:
    """The cores, memory and platform of this machine."""
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        memory = 0
    return Machine(
        cores=os.cpu_count() or 1,
        memory_bytes=memory,
        platform=platform.platform(),
        python=platform.python_version(),
    )


class _Timer:
    """Runs queries through the engine and adds up the seconds spent in them."""

    def __init__(self, engine: QueryEngine) -> None:
        self.engine = engine
        self.seconds = 0.0

    def run(self, name: str, side: str, sql: str) -> tuple[float, pa.Table]:
        began = time.perf_counter()
        try:
            answer = self.engine.run(side, sql)
        except Exception as exc:  # noqa: BLE001 - the engine's own error types vary; name the query and side
            raise BenchmarkError(f"query {name} failed on the {side}: {' '.join(str(exc).split())[:400]}") from exc
        took = time.perf_counter() - began
        self.seconds += took
        return took, answer


def _run_query(timer: _Timer, statement: Query, runs: int, warmup: int, reference: Reference | None) -> QueryOutcome:
    answers: dict[str, pa.Table] = {}
    for _ in range(warmup):
        for side in SIDES:
            _, answer = timer.run(statement.name, side, statement.sql)
            answers.setdefault(side, answer)
    seconds: dict[str, list[float]] = {SOURCE: [], TARGET: []}
    for round_number in range(runs):
        for side in SIDES if round_number % 2 == 0 else SIDES[::-1]:
            took, answer = timer.run(statement.name, side, statement.sql)
            seconds[side].append(took)
            answers.setdefault(side, answer)
    rows = {side: rows_of(answers[side]) for side in SIDES}
    difference = compare(rows[SOURCE], rows[TARGET], statement.ordered)
    checked: dict[str, bool] = {}
    reference_difference = None
    expected = reference.answers.get(statement.name) if reference else None
    if expected is not None:
        for side in SIDES:
            found = compare_to_reference(rows[side], expected, statement.ordered)
            checked[side] = found is None
            if found and reference_difference is None:
                reference_difference = f"{side}: {found}"
    source, target = Timing.of(seconds[SOURCE]), Timing.of(seconds[TARGET])
    return QueryOutcome(
        name=statement.name,
        ordered=statement.ordered,
        rows=len(rows[SOURCE]),
        answers_equal=difference is None,
        difference=difference,
        source=source,
        target=target,
        ratio=target.median_s / source.median_s if source.median_s > 0 else float("nan"),
        reference=checked,
        reference_difference=reference_difference,
    )


def _engine(engine: str | QueryEngine, pairs: tuple[OpenedPair, ...], threads: int | None) -> QueryEngine:
    if not isinstance(engine, str):
        return engine
    if engine == "duckdb":
        from datax_migrate.benchmark.duckdb_engine import DuckDBEngine

        return DuckDBEngine(pairs, threads)
    if engine == "spark":
        from datax_migrate.benchmark.spark_engine import SparkEngine

        return SparkEngine(pairs)
    raise BenchmarkError(f"engine {engine!r} is not one of {', '.join(ENGINES)}")


def load_benchmark_queries(queries: str | Sequence[Query]) -> tuple[Query, ...]:
    """The queries ``queries`` names: a folder of ``.sql`` files, one file, or ``tpch`` (or the queries themselves)."""
    if not isinstance(queries, str):
        return tuple(queries)
    if queries == TPCH:
        from datax_migrate.benchmark.duckdb_engine import tpch_queries

        return tpch_queries()
    return load_queries(queries)


def _title(pairs: str | Path | Sequence[TablePair]) -> str:
    return f"Query benchmark: {Path(pairs).name}" if isinstance(pairs, (str, Path)) else "Query benchmark"


def _progress_line(outcome: QueryOutcome, done: int, total: int) -> str:
    check = "answers equal" if outcome.passed else "ANSWERS DIFFER"
    return (
        f"[{done}/{total}] {outcome.name}: source {outcome.source.median_s:.3f} s, target "
        f"{outcome.target.median_s:.3f} s, ratio {outcome.ratio:.2f}, {check}"
    )
