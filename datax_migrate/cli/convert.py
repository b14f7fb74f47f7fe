"""The ``convert`` command: one Delta table into an Iceberg table."""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import asdict
from typing import TYPE_CHECKING

from datax_migrate.cli import common
from datax_migrate.cli.common import (
    EXIT_OK,
    Terminated,
    add_commit_times_option,
    add_common_options,
    add_target_options,
    exit_codes,
    open_target,
    parse_timestamp,
    print_json,
)

if TYPE_CHECKING:
    from datax_migrate.convert import ConversionResult

_SIZE = re.compile(r"^(\d+)\s*([kmgt]i?b|b)?$", re.IGNORECASE)
_UNITS = {"b": 1, "kb": 1 << 10, "mb": 1 << 20, "gb": 1 << 30, "tb": 1 << 40}


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the convert command to ``commands``."""
    convert = commands.add_parser(
        "convert",
        help="convert one Delta table into an Iceberg table",
        epilog=exit_codes(
            "0 converted, or already converted (also when Ctrl-C or SIGTERM arrived during a commit that landed)",
            "130 and 143 leave nothing committed",
        ),
    )
    convert.add_argument("source", metavar="SOURCE", help="Delta table path or URI (local, file://, s3://)")
    convert.add_argument(
        "target", metavar="NAMESPACE.TABLE", help="target Iceberg table (with --name-map: the Databricks name)"
    )
    when = convert.add_mutually_exclusive_group()
    when.add_argument("--version", type=int, metavar="N", dest="delta_version", help="Delta version to convert")
    when.add_argument(
        "--timestamp", metavar="TS", help="convert the version current at this ISO-8601 time (UTC if no zone)"
    )
    convert.add_argument(
        "--history",
        action="store_true",
        help="one Iceberg snapshot per Delta version (from --from-version to --version), in one commit",
    )
    convert.add_argument(
        "--from-version",
        type=int,
        metavar="N",
        help="with --history: the first Delta version (default: the first whose data files still exist)",
    )
    convert.add_argument("--tag-versions", action="store_true", help="with --history: tag each snapshot delta-v<N>")
    add_commit_times_option(convert)
    add_target_options(convert)
    convert.add_argument(
        "--create-bucket",
        action="store_true",
        help="create the S3 Tables table bucket the catalog's warehouse ARN names, if it is missing",
    )
    convert.add_argument(
        "--engine",
        choices=["local", "spark"],
        default="local",
        help="where file groups run: threads here, or Spark tasks (the session spark-submit or pyspark gives)",
    )
    convert.add_argument(
        "--replace",
        action="store_true",
        help="replace a target that holds anything else (as Iceberg's replace-table: schema and partitioning may "
        "change, old snapshots stay)",
    )
    convert.add_argument(
        "--lossy", action="append", default=[], metavar="NAME", help="accept a named lossy type mapping"
    )
    convert.add_argument(
        "--identity-partitions",
        action="store_true",
        help="keep generated partition columns as identity partitions instead of Iceberg time transforms",
    )
    order = convert.add_mutually_exclusive_group()
    order.add_argument(
        "--sort-by",
        type=_columns,
        metavar="COLS",
        help="comma-separated columns (dotted for nested ones) that become the Iceberg sort order; each data file is "
        "written sorted by them, within its file group (default: the Delta table's liquid clustering columns; "
        "Z-order columns are not recorded by Delta, name them here)",
    )
    order.add_argument(
        "--no-sort", action="store_const", const=(), dest="sort_by", help="leave the table unsorted, even if clustered"
    )
    convert.add_argument(
        "--target-file-size",
        type=parse_size,
        metavar="SIZE",
        help="at most this much Delta data (e.g. 256MB, 1GB) goes into one Iceberg data file (default 256MB); "
        "smaller when the table is too small to give every worker two files",
    )
    add_common_options(convert)
    convert.set_defaults(run=run_convert)


def parse_size(text: str) -> int:
    """A byte size such as ``256MB``, ``1GiB`` or ``1048576`` (KB, MB, GB are powers of 1024, as in Iceberg)."""
    match = _SIZE.match(text.strip())
    if match is None or not int(match.group(1)):
        raise argparse.ArgumentTypeError(f"{text!r} is not a size such as 256MB or 1GB")
    return int(match.group(1)) * _UNITS[(match.group(2) or "b").lower().replace("i", "")]


def _columns(text: str) -> tuple[str, ...]:
    columns = tuple(c.strip() for c in text.split(","))
    if not all(columns):
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of column names")
    return columns


def run_convert(args: argparse.Namespace) -> int:
    """Run ``convert``: one Delta table version into its Iceberg table."""
    if args.history or args.from_version is not None or args.tag_versions:
        return _run_history(args)
    paused = common.pause_collector()  # until the catalog is open (~0.15 s of CPU less)
    from datax_migrate.convert.plan import DEFAULT_TARGET_FILE_BYTES
    from datax_migrate.convert.source import ConversionSource

    timestamp = parse_timestamp(args.timestamp) if args.timestamp else None
    file_bytes = args.target_file_size or DEFAULT_TARGET_FILE_BYTES
    engine = None
    if args.engine == "spark":
        from datax_migrate.convert.spark_engine import SparkEngine
        from datax_migrate.spark.session import spark_session

        engine = SparkEngine(spark_session())
        source = ConversionSource.open(
            args.source, args.delta_version, timestamp, file_bytes, engine.parallelism, commit_times=args.commit_times
        )
    else:
        source = ConversionSource.open(
            args.source, args.delta_version, timestamp, file_bytes, commit_times=args.commit_times
        )
        # Decode the first file groups while pyiceberg loads and the catalog connects.
        source.start_read_ahead()
    interrupted: BaseException | None = None
    try:
        if common.OWN_PROCESS and engine is None:
            from datax_migrate.lazy import import_pyarrow_dataset_without_pandas

            import_pyarrow_dataset_without_pandas()
        from datax_migrate.convert.table import ConvertOptions, InterruptedAfterCommit, convert_table
        from datax_migrate.iceberg.target import SOURCE_NAME
        from datax_migrate.progress import conversion_progress

        catalog, target = open_target(args)
        common.resume_collector(paused)
        options = ConvertOptions(
            lossy=frozenset(args.lossy),
            identity_partitions=args.identity_partitions,
            replace=args.replace,
            table_properties={SOURCE_NAME: target.source} if args.name_map else {},
            target_file_bytes=file_bytes,
            sort_by=args.sort_by,
        )
        try:
            with conversion_progress(target.identifier) as progress:
                result = convert_table(
                    source, catalog, target.identifier, options=options, engine=engine, progress=progress
                )
        except InterruptedAfterCommit as landed:
            result, interrupted = landed.result, landed.interrupt
    finally:
        source.close()
    _print(args, result, interrupted)
    return EXIT_OK


def _run_history(args: argparse.Namespace) -> int:
    """``convert --history``: one snapshot per Delta version."""
    paused = common.pause_collector()  # until the catalog is open
    from datax_migrate.convert.table import ConvertOptions, InterruptedAfterCommit, convert_table
    from datax_migrate.errors import ConfigError
    from datax_migrate.iceberg.target import SOURCE_NAME
    from datax_migrate.progress import conversion_progress

    if not args.history:
        raise ConfigError("--from-version and --tag-versions go with --history")
    if args.timestamp or args.replace:
        raise ConfigError("--history takes --version, not --timestamp, and writes a new table (no --replace)")
    if args.sort_by or args.target_file_size:
        raise ConfigError("--history writes one unsorted data file per Delta file: no --sort-by or --target-file-size")
    engine = None
    if args.engine == "spark":
        from datax_migrate.convert.spark_engine import SparkEngine
        from datax_migrate.spark.session import spark_session

        engine = SparkEngine(spark_session())
    catalog, target = open_target(args)
    common.resume_collector(paused)
    options = ConvertOptions(
        lossy=frozenset(args.lossy),
        identity_partitions=args.identity_partitions,
        table_properties={SOURCE_NAME: target.source} if args.name_map else {},
    )
    interrupted: BaseException | None = None
    try:
        with conversion_progress(target.identifier) as progress:
            result = convert_table(
                args.source,
                catalog,
                target.identifier,
                version=args.delta_version,
                options=options,
                engine=engine,
                progress=progress,
                commit_times=args.commit_times,
                history=True,
                from_version=args.from_version,
                tag_versions=args.tag_versions,
            )
    except InterruptedAfterCommit as landed:
        result, interrupted = landed.result, landed.interrupt
    _print(args, result, interrupted)
    return EXIT_OK


def _print(args: argparse.Namespace, result: ConversionResult, interrupted: BaseException | None) -> None:
    if args.output == "json":
        print_json(args, {**asdict(result), "commit_time": result.commit_time.isoformat()})
    else:
        print(_describe(result))
    if interrupted is not None:
        what = "terminated" if isinstance(interrupted, Terminated) else "interrupted"
        print(
            f"datax-migrate: {what} during the commit, which had landed: {result.target} holds snapshot "
            f"{result.snapshot_id}; the conversion is complete",
            file=sys.stderr,
        )


def _describe(result: ConversionResult) -> str:
    source = f"{result.source.location} @ Delta version {result.source.delta_version}"
    if result.status == "unchanged":
        line = f"unchanged: {result.target} already holds {source} (snapshot {result.snapshot_id})"
    else:
        line = (
            f"{result.status}: {source} -> {result.target}, snapshot {result.snapshot_id}: "
            f"{result.rows:,} rows in {result.data_files} data files ({result.bytes_written / 1e6:,.1f} MB) "
            f"in {result.seconds:.1f} s"
        )
        if result.sorted_by:
            line += f"\n  sort order: {', '.join(result.sorted_by)} (each data file sorted)"
    if result.snapshot_ids:
        line += (
            f"\n  history: {len(result.snapshot_ids)} snapshots, Delta versions {result.from_version}.."
            f"{result.source.delta_version}"
        )
    for note in result.notes:
        if note != result.source.commit_time_note:
            line += f"\n  {note}"
    if result.source.commit_time_note:
        line += f"\n  Delta commit time {result.commit_time.isoformat()}: {result.source.commit_time_note}"
    return line
