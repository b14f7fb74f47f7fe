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
    tables = run.add_mutually_exclusive_group(required=True)
    tables.add_argument(
        "--pairs",
        metavar="PAIRS.yaml",
        help="maps each table name the queries use to a Delta source and an Iceberg target (pairs: NAME: "
        "{source: PATH|URI, target: NAMESPACE.TABLE, catalog: NAME})",
    )
    tables.add_argument(
        "--plan",
        metavar="PLAN_DIR",
        help="take the pairs from an estate plan (datax-migrate plan): every planned table, named in the queries "
        "by its target table name",
    )
    run.add_argument("--wave", type=int, metavar="N", help="with --plan: only this wave's tables")
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

    emr = which.add_parser(
        "emr",
        help="run the queries as an EMR job: Delta read by delta-spark, Iceberg through the catalog (reports on S3)",
        epilog=exit_codes("0 the job was started"),
    )
    emr.add_argument("--pairs", required=True, metavar="PAIRS.yaml", help="as for benchmark run; one catalog")
    emr.add_argument("--queries", required=True, metavar="DIR|tpch", help="a folder of .sql files, a file, or tpch")
    emr.add_argument("--config", metavar="FILE", help=CONFIG_HELP)
    emr.add_argument("--staging", required=True, metavar="S3_PREFIX", help="where the code, job and reports go")
    where = emr.add_mutually_exclusive_group(required=True)
    where.add_argument("--application-id", metavar="ID", help="EMR Serverless application (with --role)")
    where.add_argument("--cluster-id", metavar="ID", help="running EMR-on-EC2 cluster: one spark-submit step")
    emr.add_argument("--role", metavar="ARN", help="execution role of the EMR Serverless job run")
    emr.add_argument("--archive", metavar="S3_URI", help="Python environment archive (docs/emr.md)")
    emr.add_argument("--runs", type=positive_int, default=5, metavar="N", help="timed runs per query per side")
    emr.add_argument("--warmup", type=int, default=1, metavar="N", help="untimed runs per query per side first")
    add_common_options(emr)
    emr.set_defaults(run=run_emr_command)


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
    from datax_migrate.benchmark.pairs import pairs_from_plan
    from datax_migrate.errors import ConfigError

    if args.wave is not None and not args.plan:
        raise ConfigError("--wave goes with --plan")
    report = run_benchmark(
        args.pairs or pairs_from_plan(args.plan, args.wave),
        args.queries,
        title=None if args.pairs else f"Query benchmark: plan {args.plan}",
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


def run_emr_command(args: argparse.Namespace) -> int:
    """Run ``benchmark emr``: stage the job and start it."""
    from dataclasses import asdict

    from datax_migrate.benchmark.emr import plan_benchmark_job, stage_benchmark, submit_benchmark
    from datax_migrate.benchmark.run import load_benchmark_queries

    job = plan_benchmark_job(args.pairs, load_benchmark_queries(args.queries), args.config, args.runs, args.warmup)
    staged = stage_benchmark(job, args.staging)
    started = submit_benchmark(
        job,
        staged,
        application_id=args.application_id,
        role_arn=args.role,
        cluster_id=args.cluster_id,
        archive=args.archive,
    )
    if args.output == "json":
        _print_json(args, {"staged": asdict(staged), "id": started})
    else:
        kind = "step" if args.cluster_id else "job run"
        print(f"started EMR {kind} {started}: {len(job.queries)} queries over {len(job.pairs)} table pairs")
        print(f"reports will be written to {staged.reports}/ (report.html, report.md, report.json)")
    return EXIT_OK


def _print_json(args: argparse.Namespace, document: dict[str, object]) -> None:
    """The JSON output, its 'command' naming the subcommand too (``benchmark run``)."""
    print_json(argparse.Namespace(**{**vars(args), "command": f"benchmark {args.benchmark_command}"}), document)


def _progress(args: argparse.Namespace) -> Callable[[str], None] | None:
    if args.output == "json":
        return None
    return lambda line: print(line, file=sys.stderr, flush=True)


def _finish(args: argparse.Namespace, report: BenchmarkReport, report_dir: str | None) -> int:
    from datax_migrate.benchmark.reports import verdict

    if args.output == "json":
        _print_json(args, {**report.to_json(), "report_dir": report_dir})
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
