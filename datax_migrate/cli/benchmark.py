"""The ``benchmark`` commands: the same queries on the Delta source and the Iceberg target (``run``, ``tpch``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from datax_migrate.cli.common import (
    CONFIG_HELP,
    EXIT_DIFFERENCES,
    EXIT_OK,
    add_common_options,
    exit_codes,
    positive_int,
    print_json,
)

if TYPE_CHECKING:
    from datax_migrate.benchmark.model import BenchmarkReport


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``benchmark run`` and ``benchmark tpch`` to ``commands``."""
    benchmark = commands.add_parser(
        "benchmark",
        help="run the same queries on Delta sources and their Iceberg targets: answers checked, times compared",
    )
    which = benchmark.add_subparsers(dest="benchmark_command", required=True, metavar="COMMAND")
    codes = exit_codes("0 every answer equal on both sides (and to the reference answers)", "1 an answer differs")

    run = which.add_parser("run", help="benchmark queries over table pairs", epilog=codes)
    run.add_argument(
        "--pairs",
        required=True,
        metavar="PAIRS.yaml",
        help="maps each table name the queries use to a Delta source and an Iceberg target (pairs: NAME: "
        "{source: PATH|URI, target: NAMESPACE.TABLE, catalog: NAME})",
    )
    run.add_argument(
        "--queries", required=True, metavar="DIR|tpch", help="a folder of .sql files, one .sql file, or tpch"
    )
    run.add_argument("--config", metavar="FILE", help=CONFIG_HELP)
    _add_run_options(run)
    run.set_defaults(run=run_benchmark_command)

    tpch = which.add_parser(
        "tpch",
        help="generate TPC-H data, write it as Delta, convert it, and benchmark the 22 queries derived from TPC-H",
        epilog=codes,
    )
    tpch.add_argument("--scale", type=float, default=0.1, metavar="SF", help="TPC-H scale factor (default 0.1)")
    tpch.add_argument(
        "--workdir", required=True, metavar="DIR", help="where the data, the catalog and the report go (reused)"
    )
    tpch.add_argument(
        "--generator",
        choices=["dbgen", "tpchgen-cli"],
        default="dbgen",
        help="dbgen: DuckDB's tpch extension, checked against the reference answers it ships for SF 0.01, 0.1 "
        "and 1 (default); tpchgen-cli: its text columns differ from dbgen's, so answers are checked against "
        "the queries run on the generated Parquet files",
    )
    _add_run_options(tpch)
    tpch.set_defaults(run=run_tpch_command)


def _add_run_options(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--engine",
        choices=["duckdb", "spark"],
        default="duckdb",
        help="duckdb (embedded, default: its delta and iceberg extensions) or spark (local, Iceberg runtime; "
        "Delta through datax-migrate's reader)",
    )
    command.add_argument("--runs", type=positive_int, default=5, metavar="N", help="timed runs per query per side")
    command.add_argument(
        "--warmup", type=int, default=1, metavar="N", help="untimed runs per query per side first (default 1)"
    )
    command.add_argument("--threads", type=positive_int, metavar="N", help="engine threads (default: every core)")
    command.add_argument("--report-dir", metavar="DIR", help="where report.json, report.html and report.md go")
    add_common_options(command)


def run_benchmark_command(args: argparse.Namespace) -> int:
    """Run ``benchmark run``."""
    from datax_migrate.benchmark import run_benchmark

    report = run_benchmark(
        args.pairs,
        args.queries,
        engine=args.engine,
        runs=args.runs,
        warmup=args.warmup,
        report_dir=args.report_dir,
        config=args.config,
        threads=args.threads,
        progress=_progress(args),
    )
    return _finish(args, report, args.report_dir)


def run_tpch_command(args: argparse.Namespace) -> int:
    """Run ``benchmark tpch``."""
    from datax_migrate.benchmark.tpch import data_folder, run_tpch

    report_dir = args.report_dir or str(data_folder(args.workdir, args.scale, args.generator) / "report")
    report = run_tpch(
        args.scale,
        args.workdir,
        engine=args.engine,
        generator=args.generator,
        runs=args.runs,
        warmup=args.warmup,
        report_dir=report_dir,
        threads=args.threads,
        progress=_progress(args),
    )
    return _finish(args, report, report_dir)


def _progress(args: argparse.Namespace) -> Callable[[str], None] | None:
    if args.output == "json":
        return None
    return lambda line: print(line, file=sys.stderr, flush=True)


def _finish(args: argparse.Namespace, report: BenchmarkReport, report_dir: str | None) -> int:
    from datax_migrate.benchmark.reports import verdict

    if args.output == "json":
        print_json(args, {**report.to_json(), "report_dir": report_dir})
    else:
        print(verdict(report))
        if report.label:
            print(report.label)
        print(
            f"{len(report.queries)} queries, {report.runs} timed runs per side; {report.wall_seconds:.1f} s in all, "
            f"harness overhead {100 * report.harness_overhead:.1f}%"
        )
        for query in report.queries:
            if not query.passed:
                print(f"  {query.name}: {query.difference or query.reference_difference}")
        if report_dir:
            print(f"reports: {report_dir}/report.html, report.md, report.json")
    return EXIT_OK if report.passed else EXIT_DIFFERENCES
