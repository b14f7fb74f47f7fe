"""The ``reconcile`` command: compare an Iceberg table with its Delta source, or print the checksum SQL."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from typing import TYPE_CHECKING

from datax_migrate.cli import common
from datax_migrate.cli.common import (
    EXIT_DIFFERENCES,
    EXIT_OK,
    add_commit_times_option,
    add_common_options,
    add_target_options,
    exit_codes,
    open_target,
    parse_timestamp,
    print_json,
)
from datax_migrate.errors import ConfigError

if TYPE_CHECKING:
    from datax_migrate.reconcile.delta_side import DeltaSide


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the reconcile command to ``commands``."""
    reconcile = commands.add_parser(
        "reconcile",
        help="prove an Iceberg table holds the same rows as its Delta source",
        epilog=exit_codes("0 match (or --emit-sql printed)", "1 mismatch (the reports list the differences)"),
    )
    reconcile.add_argument("source", metavar="SOURCE", help="Delta table path or URI (local, file://, s3://)")
    reconcile.add_argument(
        "target",
        metavar="NAMESPACE.TABLE",
        help="the Iceberg table it was converted into (with --name-map: the Databricks name)",
    )
    add_target_options(reconcile)
    add_commit_times_option(reconcile)
    when = reconcile.add_mutually_exclusive_group()
    when.add_argument(
        "--version", type=int, metavar="N", dest="delta_version", help="Delta version to compare (default: latest)"
    )
    when.add_argument(
        "--timestamp", metavar="TS", help="compare the version current at this ISO-8601 time (UTC if no zone)"
    )
    reconcile.add_argument(
        "--key", metavar="COL[,COL]", help="key columns for the row diff (default: compare whole rows)"
    )
    reconcile.add_argument(
        "--tolerance",
        action="append",
        default=[],
        metavar="COL=abs:X|rel:Y",
        help="numeric tolerance for a column (repeatable)",
    )
    reconcile.add_argument(
        "--columns", metavar="COL[,COL]", default="", help="compare only these columns (keys are always compared)"
    )
    reconcile.add_argument(
        "--exclude", metavar="COL[,COL]", default="", help="leave these columns out; the report names them"
    )
    reconcile.add_argument(
        "--emit-sql",
        choices=["spark", "trino"],
        metavar="spark|trino",
        help="print the checksum SQL of both sides (Spark SQL or Trino/Athena) instead of comparing; "
        "see docs/reconcile-checksum.md",
    )
    reconcile.add_argument(
        "--sql-source",
        metavar="NAME",
        help="with --emit-sql: the Delta table's name in your warehouse (default: delta.`SOURCE` in Spark)",
    )
    reconcile.add_argument(
        "--sql-target",
        metavar="NAME",
        help="with --emit-sql: the Iceberg table's name in your warehouse (default: CATALOG.NAMESPACE.TABLE)",
    )
    reconcile.add_argument("--sample", type=int, default=20, metavar="N", help="differences listed (default 20)")
    reconcile.add_argument("--seed", type=int, default=42, metavar="N", help="seed of the sampled differences")
    reconcile.add_argument(
        "--report-dir", metavar="DIR", help="where the reports go (default: $DATAX_HOME/reports/TABLE/TIME)"
    )
    reconcile.add_argument(
        "--engine", choices=["local", "spark"], default="local", help="where the scans run: here, or Spark tasks"
    )
    add_common_options(reconcile)
    reconcile.set_defaults(run=run_reconcile)


def run_reconcile(args: argparse.Namespace) -> int:
    """Run ``reconcile``: compare the tables and write the reports (or print the checksum SQL)."""
    if args.sample < 0:
        raise ConfigError("--sample must be 0 or more")
    if args.emit_sql:
        return _emit_sql(args)
    if args.sql_source or args.sql_target:
        raise ConfigError("--sql-source and --sql-target go with --emit-sql")
    paused = common.pause_collector()  # until the catalog is open
    version = _delta_version(args)
    source = _source_read_ahead(args, version)
    try:
        return _reconcile(args, source, version, paused)
    finally:
        if not isinstance(source, str):
            source.close()


def _source_read_ahead(args: argparse.Namespace, version: int | None) -> str | DeltaSide:
    """The Delta side at ``version``, already decoding its rows while the rest loads.

    Only in a process of the command's own, on the local engine; otherwise the URI.
    """
    if not (common.OWN_PROCESS and args.engine == "local"):
        return args.source  # type: ignore[no-any-return]
    from datax_migrate.reconcile.delta_side import DeltaSide

    return DeltaSide.open(args.source, version, args.commit_times).read_ahead()


def _reconcile(args: argparse.Namespace, source: str | DeltaSide, version: int | None, paused: bool) -> int:
    """Compare ``source`` at ``version`` with the target, write the reports, print the summary; the exit code."""
    from pathlib import Path

    if common.OWN_PROCESS and args.engine == "local":
        from datax_migrate.lazy import import_pyarrow_dataset_without_pandas, load_numba_without_cffi

        import_pyarrow_dataset_without_pandas()  # before pyiceberg imports it (with pandas)
        load_numba_without_cffi()  # before the kernels' first call imports cffi
    from datax_migrate.config import datax_home
    from datax_migrate.progress import reconcile_progress
    from datax_migrate.reconcile import ReconcileOptions, reconcile_table
    from datax_migrate.reconcile.reports import write_reports
    from datax_migrate.reconcile.reports.text import console_summary
    from datax_migrate.reconcile.tolerance import parse_tolerances

    options = ReconcileOptions(
        version=version,
        keys=_keys(args.key),
        columns=_names(args.columns),
        exclude=_names(args.exclude),
        tolerances=parse_tolerances(args.tolerance),
        sample=args.sample,
        seed=args.seed,
        commit_times=args.commit_times,
    )
    catalog, target = open_target(args)
    engine = None
    if args.engine == "spark":
        from datax_migrate.reconcile.spark_engine import SparkScanEngine
        from datax_migrate.spark.session import spark_session

        engine = SparkScanEngine(spark_session())
    common.resume_collector(paused)
    with reconcile_progress(target.identifier) as progress:
        report = reconcile_table(source, catalog, target.identifier, options, progress, engine)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    report_dir = Path(args.report_dir) if args.report_dir else datax_home() / "reports" / target.identifier / stamp
    write_reports(report, report_dir)
    if args.output == "json":
        print_json(args, json.loads(report.to_json()))
    else:
        print(console_summary(report, report_dir))
    return EXIT_OK if report.matches else EXIT_DIFFERENCES


def _delta_version(args: argparse.Namespace) -> int | None:
    """The Delta version ``--version`` names, or the one current at ``--timestamp`` (as ``convert`` resolves it)."""
    if not args.timestamp:
        return args.delta_version  # type: ignore[no-any-return]
    from datax_migrate.delta.table import DeltaTable

    return DeltaTable(args.source, commit_times=args.commit_times).version_at(parse_timestamp(args.timestamp))


def _names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


def _keys(text: str | None) -> tuple[str, ...]:
    keys = tuple(k.strip() for k in text.split(",")) if text is not None else ()
    if not all(keys):
        raise ConfigError(f"--key {text!r} names no column: expected COL[,COL] (omit --key to compare whole rows)")
    return keys


def _emit_sql(args: argparse.Namespace) -> int:
    from datax_migrate.reconcile.checksum.warehouse_sql import reconcile_sql

    catalog, target = open_target(args)
    keys, columns, exclude = _keys(args.key), _names(args.columns), _names(args.exclude)
    statements = reconcile_sql(
        args.source,
        catalog,
        target.identifier,
        args.emit_sql,
        _delta_version(args),
        columns,
        exclude,
        keys,
        source_name=args.sql_source,
        target_name=args.sql_target,
    )
    if args.output == "json":
        print_json(args, {"dialect": args.emit_sql, "sql": statements})
    else:
        print("\n\n".join(f"-- {name}\n{sql};" for name, sql in statements.items()))
    return EXIT_OK
