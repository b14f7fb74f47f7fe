"""The ``sync`` command: replay the Delta commits after the last synced version onto the Iceberg table."""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import sys
from collections.abc import Callable
from dataclasses import asdict
from typing import TYPE_CHECKING

from datax_migrate.cli import common
from datax_migrate.cli.common import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TERMINATED,
    Terminated,
    add_commit_times_option,
    add_common_options,
    add_target_options,
    exit_codes,
    open_target,
    parse_timestamp,
    positive_int,
    print_json,
)
from datax_migrate.errors import ConfigError, DataxError

if TYPE_CHECKING:
    from datax_migrate.sync import SyncResult
    from datax_migrate.sync.repeat import RepeatedSync


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the sync command to ``commands``."""
    sync = commands.add_parser(
        "sync",
        help="bring an Iceberg table in step with its Delta table (one snapshot per new Delta version)",
        description="Replay the Delta commits after the last synced version onto the Iceberg table (created from "
        "the wanted version if missing). Refused, changing nothing, when the target changed since the last sync "
        "(other than maintenance: replace snapshots without data change), the Delta log no longer holds the next "
        "version, the Delta table was replaced, or a change cannot be expressed exactly.",
        epilog=exit_codes("0 in step (synced, or nothing new: a rerun adds no snapshot)"),
    )
    add_sync_arguments(sync)
    add_repeat_arguments(sync)
    add_common_options(sync)
    sync.set_defaults(run=run_sync)


def add_sync_arguments(sync: argparse.ArgumentParser) -> None:
    """The arguments of one sync: source, target, how far, where and how files are written."""
    sync.add_argument("source", metavar="SOURCE", help="Delta table path or URI (local, file://, s3://)")
    sync.add_argument(
        "target", metavar="NAMESPACE.TABLE", help="target Iceberg table (with --name-map: the Databricks name)"
    )
    until = sync.add_mutually_exclusive_group()
    until.add_argument("--to-version", type=int, metavar="N", help="sync up to this Delta version (default: latest)")
    until.add_argument(
        "--to-timestamp", metavar="TS", help="sync up to the version current at this ISO-8601 time (UTC if no zone)"
    )
    add_target_options(sync)
    add_commit_times_option(sync)
    sync.add_argument(
        "--engine",
        choices=["local", "spark"],
        default="local",
        help="where data files are written: threads here, or Spark tasks (the session spark-submit or pyspark gives)",
    )
    sync.add_argument(
        "--squash", action="store_true", help="one snapshot for all new Delta versions instead of one each"
    )


def run_sync(args: argparse.Namespace) -> int:
    """Run ``sync`` once."""
    paused = common.pause_collector()  # until the catalog is open (~0.08 s of CPU less)
    if common.OWN_PROCESS and args.engine == "local":
        from datax_migrate.lazy import import_pyarrow_dataset_without_pandas

        import_pyarrow_dataset_without_pandas()  # a sync's fixed cost is mostly imports: spare pandas
    from datax_migrate.sync.table import InterruptedAfterSync, sync_table

    engine = None
    if args.engine == "spark":
        from datax_migrate.convert.spark_engine import SparkEngine
        from datax_migrate.spark.session import spark_session

        engine = SparkEngine(spark_session())
    if args.every is not None and (args.to_version is not None or args.to_timestamp):
        raise ConfigError("--every syncs to the latest Delta version each time: give no --to-version or --to-timestamp")
    if args.every is None and args.max_runs is not None:
        raise ConfigError("--max-runs goes with --every")
    catalog, target = open_target(args)
    common.resume_collector(paused)
    once = functools.partial(
        sync_table,
        args.source,
        catalog,
        target.identifier,
        to_version=args.to_version,
        to_timestamp=parse_timestamp(args.to_timestamp) if args.to_timestamp else None,
        squash=args.squash,
        engine=engine,
        commit_times=args.commit_times,
    )
    if args.every is not None:
        return run_every(args, once)
    interrupted: BaseException | None = None
    try:
        result = once()
    except InterruptedAfterSync as landed:
        result, interrupted = landed.result, landed.interrupt
    print_result(args, result)
    if interrupted is not None:
        what = "terminated" if isinstance(interrupted, Terminated) else "interrupted"
        print(
            f"datax-migrate: {what} during the commit, which had landed: {result.target} is in step with Delta "
            f"version {result.to_version}",
            file=sys.stderr,
        )
    return EXIT_OK


def print_result(args: argparse.Namespace, result: SyncResult) -> None:
    """Print one sync's result as text or JSON."""
    if args.output == "json":
        print_json(args, asdict(result))
    else:
        print(describe(result))


def describe(result: SyncResult) -> str:
    """One sync in a few lines of text."""
    if result.status == "in-step":
        line = (
            f"in step: {result.target} already holds Delta version {result.to_version} of {result.source_location} "
            f"(snapshot {result.snapshot_id})"
        )
    else:
        since = "created" if result.from_version is None else f"from Delta version {result.from_version}"
        line = (
            f"synced: {result.source_location} -> {result.target}, {since} to {result.to_version}: "
            f"{len(result.snapshot_ids)} snapshot(s), {result.data_files_written} data files "
            f"({result.bytes_written / 1e6:,.1f} MB, +{result.rows_added:,} / -{result.rows_removed:,} rows) "
            f"in {result.seconds:.1f} s; snapshot {result.snapshot_id}"
        )
    return "\n  ".join([line, *result.notes])


def add_repeat_arguments(sync: argparse.ArgumentParser) -> None:
    """``--every`` and ``--max-runs``: repeat the sync for a dual-run period."""
    sync.add_argument(
        "--every",
        type=_duration,
        metavar="DURATION",
        help="repeat the sync every DURATION (90 = seconds, 30s, 15m, 1h30m, 1d), counted from the start of each "
        "run, until Ctrl-C or SIGTERM (between runs; a run in flight is rolled back) or --max-runs",
    )
    sync.add_argument("--max-runs", type=positive_int, metavar="N", help="with --every: stop after N runs")


def _duration(text: str) -> float:
    from datax_migrate.sync.repeat import parse_duration

    try:
        return parse_duration(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def run_every(args: argparse.Namespace, once: Callable[[], SyncResult]) -> int:
    """Run ``sync --every``: each run's result as it lands (text), or all of them at the end (JSON)."""
    from datax_migrate.sync.repeat import RepeatedSync, SyncStopped, sync_every

    runs: list[SyncResult] = []

    def landed(result: SyncResult) -> None:
        runs.append(result)
        if args.output != "json":
            print(f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M:%S} UTC  {describe(result)}", flush=True)

    try:
        summary = sync_every(args.every, once, max_runs=args.max_runs, on_result=landed)
    except DataxError:  # a run was refused or failed: the runs before it are committed, and the document says so
        _print_runs(args, RepeatedSync(tuple(runs), "error"))
        raise
    except SyncStopped as stopped:
        _print_runs(args, stopped.summary)
        terminated = isinstance(stopped.interrupt, Terminated)
        print(
            f"datax-migrate: {'terminated' if terminated else 'interrupted'}: {_stop(stopped.summary)}", file=sys.stderr
        )
        return EXIT_TERMINATED if terminated else EXIT_INTERRUPTED
    _print_runs(args, summary)
    return EXIT_OK


def _print_runs(args: argparse.Namespace, summary: RepeatedSync) -> None:
    if args.output == "json":
        runs = [asdict(result) for result in summary.runs]
        print_json(args, {"runs": runs, "stopped_by": summary.stopped_by, "rolled_back": summary.rolled_back})


def _stop(summary: RepeatedSync) -> str:
    """Where a repeated sync that a signal stopped left the table."""
    when = "during a run, which was rolled back (nothing of it committed)" if summary.rolled_back else "between runs"
    if not summary.runs:
        return f"stopped {when}; no run completed"
    last = summary.runs[-1]
    return (
        f"stopped {when} after {len(summary.runs)} completed run(s): {last.target} is in step with Delta version "
        f"{last.to_version} (snapshot {last.snapshot_id}); the next sync continues from there"
    )
