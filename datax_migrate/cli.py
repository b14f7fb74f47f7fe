"""The ``datax-migrate`` command line: a thin layer over the library.

Exit codes: 0 success, 1 a check found differences (or translated notebooks need a person), 2 refusal
or error (one line on stderr), 130 interrupted, 141 standard output closed early (``| head``: the
output was cut; the work was done up to that write), 143 terminated (nothing committed; an interrupt that
arrives during a commit that lands is reported, and the exit code is 0).
"""

from __future__ import annotations

import argparse
import atexit
import datetime as dt
import gc
import json
import os
import select
import signal
import sys
import threading
import traceback
from collections.abc import Sequence
from dataclasses import asdict
from types import FrameType
from typing import TYPE_CHECKING, Any

from datax_migrate import __version__
from datax_migrate.errors import ConfigError, DataxError

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog

    from datax_migrate.catalogs.names import TargetName
    from datax_migrate.inventory.model import CrawlFailure

EXIT_OK, EXIT_DIFFERENCES, EXIT_ERROR, EXIT_INTERRUPTED, EXIT_TERMINATED = 0, 1, 2, 130, 143
EXIT_BROKEN_PIPE = 141
"""128 + SIGPIPE, as a shell reports a program that a closed pipe stopped (``set -o pipefail``)."""
_OWN_PROCESS = False
"""Set by :func:`run`: the command owns the process (not a caller of :func:`main`, such as a test)."""


class Terminated(BaseException):
    """SIGTERM arrived; raised in the main thread so clean-up code runs."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        code = int(args.run(args))
        sys.stdout.flush()
        return code
    except SystemExit as exc:
        if isinstance(exc.__context__, BrokenPipeError):  # rich's Console met the closed pipe and discarded stdout
            return EXIT_BROKEN_PIPE
        raise
    except DataxError as exc:
        _fail(str(exc), args.debug)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("datax-migrate: interrupted; nothing was committed", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Terminated:
        print("datax-migrate: terminated; nothing was committed", file=sys.stderr)
        return EXIT_TERMINATED
    except Exception as exc:  # noqa: BLE001 - the one place that turns surprises into exit 2
        if isinstance(exc, BrokenPipeError) and _stdout_closed():  # `| head` has read what it wanted
            _discard_stdout()
            return EXIT_BROKEN_PIPE
        _fail(f"unexpected {type(exc).__name__}: {exc} (rerun with --debug for the traceback)", args.debug)
        return EXIT_ERROR
    finally:
        signal.signal(signal.SIGTERM, previous)


def run() -> None:
    """The ``datax-migrate`` program: :func:`main`, then exit without tearing the modules down.

    Python's clean-up of the modules a conversion loads (pyiceberg, pyarrow, sqlalchemy, pydantic)
    takes a few tenths of a second of CPU at exit, and the process needs none of it: once exit
    handlers have run and stdout/stderr are flushed, every file is closed and every commit made.
    Daemon threads (Spark's py4j) end with the process, as they do at any Python exit.
    """
    global _OWN_PROCESS
    _OWN_PROCESS = True
    code = main()
    # What Python's exit does before the module clean-up, in its order: wait for non-daemon
    # threads (idle executor workers are told to stop), exit handlers, flush stdout/stderr.
    getattr(threading, "_shutdown")()  # noqa: B009 - private, as the interpreter itself calls it
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError as exc:
        if not (isinstance(exc, BrokenPipeError) and _stdout_closed()):
            sys.exit(code)  # let Python report it as it always does
        _discard_stdout()
        code = EXIT_BROKEN_PIPE
    os._exit(code)


def _stdout_closed() -> bool:
    """Whether standard output is a pipe whose reader has gone (``| head`` has read enough)."""
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & select.POLLERR for _, events in poller.poll(0))
    except (AttributeError, OSError, ValueError):  # no poll() on this system, or stdout is not a file
        return False


def _discard_stdout() -> None:
    """Point standard output at the null device, so what is still buffered cannot fail again at exit."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated()


def _fail(message: str, debug: bool) -> None:
    if debug:
        traceback.print_exc()
    print(f"datax-migrate: error: {' '.join(message.split())}", file=sys.stderr)


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, not {text}")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    from datax_migrate.inventory.sources.base import DEFAULT_WORKERS

    parser = argparse.ArgumentParser(
        prog="datax-migrate",
        description="Move a Databricks lakehouse to AWS: Delta tables to Apache Iceberg.",
        epilog=_exit_codes("0 done", "1 a check found differences (each command's --help says which)"),
    )
    parser.add_argument("--version", action="version", version=f"datax-migrate {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    convert = commands.add_parser(
        "convert",
        help="convert one Delta table into an Iceberg table",
        epilog=_exit_codes(
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
    _add_commit_times_option(convert)
    _add_target_options(convert)
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
    _add_output_option(convert)
    convert.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    convert.set_defaults(run=_run_convert)

    reconcile = commands.add_parser(
        "reconcile",
        help="prove an Iceberg table holds the same rows as its Delta source",
        epilog=_exit_codes("0 match (or --emit-sql printed)", "1 mismatch (the reports list the differences)"),
    )
    reconcile.add_argument("source", metavar="SOURCE", help="Delta table path or URI (local, file://, s3://)")
    reconcile.add_argument(
        "target",
        metavar="NAMESPACE.TABLE",
        help="the Iceberg table it was converted into (with --name-map: the Databricks name)",
    )
    _add_target_options(reconcile)
    _add_commit_times_option(reconcile)
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
    _add_output_option(reconcile)
    reconcile.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    reconcile.set_defaults(run=_run_reconcile)

    signoff = commands.add_parser(
        "signoff",
        help="sign off a reconciliation report in the append-only ledger, or --verify the ledger",
        epilog=_exit_codes(
            "0 signed off, key pair written, or every sign-off verified",
            "1 --verify found a changed report, an edited ledger or a wrong signature",
        ),
    )
    signoff.add_argument("report_dir", metavar="REPORT_DIR", nargs="?", help="the folder `reconcile` wrote")
    signoff.add_argument("--by", metavar="NAME", help="who signs off")
    signoff.add_argument("--note", metavar="TEXT", help="a free-text note kept with the sign-off")
    signoff.add_argument(
        "--accept-differences", metavar="REASON", help="sign off a mismatch, saying why its differences are acceptable"
    )
    signoff.add_argument("--ledger", metavar="FILE", help="the ledger (default: $DATAX_HOME/signoffs.jsonl)")
    signoff.add_argument(
        "--again", action="store_true", help="sign off a report the ledger holds a sign-off of already"
    )
    signoff.add_argument(
        "--verify", action="store_true", help="check every sign-off: the ledger's hash chain and the signed reports"
    )
    signoff.add_argument("--key", metavar="FILE", help="sign the entry with this Ed25519 private key (PEM)")
    signoff.add_argument(
        "--new-key", metavar="FILE", help="write a new Ed25519 key pair: FILE (private) and FILE.pub, mode 0600"
    )
    signoff.add_argument(
        "--expect-pub",
        metavar="FILE",
        help="with --verify: every entry must be signed by this public key (FILE.pub of --new-key)",
    )
    _add_output_option(signoff)
    signoff.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    signoff.set_defaults(run=_run_signoff)

    names = commands.add_parser(
        "names",
        help="map Databricks table names onto a target catalog's names, refusing collisions",
        epilog=_exit_codes("0 every name mapped"),
    )
    names.add_argument("sources", metavar="NAME", nargs="*", help="catalog.schema.table or schema.table")
    names.add_argument("--from", dest="from_file", metavar="FILE", help="more names, one per line ('#' comments)")
    names.add_argument("--config", metavar="FILE", help=_CONFIG_HELP)
    names.add_argument("--catalog", metavar="NAME", help="take the naming rules of this catalog's type")
    names.add_argument(
        "--rules", choices=["glue", "s3tables"], help="naming rules (default: the catalog's, else s3tables)"
    )
    names.add_argument(
        "--namespace-from",
        choices=["schema", "catalog_schema"],
        default="schema",
        help="namespace = the schema (default), or catalog_schema to keep Unity Catalog catalogs apart",
    )
    names.add_argument("--out", metavar="FILE", help="write the mapping as JSON (for convert --name-map)")
    _add_output_option(names)
    names.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    names.set_defaults(run=_run_names)

    pending = commands.add_parser(
        "pending",
        help="list S3 Tables entries reserved by conversions that never committed; --purge the stale ones",
        epilog=_exit_codes("0 listed (and with --purge, the stale ones purged)"),
    )
    pending.add_argument("--config", metavar="FILE", help="YAML config with a 'catalogs:' section")
    pending.add_argument("--catalog", metavar="NAME", help="an s3tables catalog (mode: api)")
    pending.add_argument("--namespace", metavar="NS", help="only this namespace (default: the whole table bucket)")
    pending.add_argument(
        "--older-than",
        metavar="AGE",
        help="also count reservations older than AGE (30m, 12h, 2d) as stale, from any host",
    )
    pending.add_argument(
        "--include-unmarked",
        action="store_true",
        help="with --older-than, also entries without a datax marker (another tool's, or cut off before marking)",
    )
    pending.add_argument("--purge", action="store_true", help="delete the stale entries (default: only list)")
    _add_output_option(pending)
    pending.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    pending.set_defaults(run=_run_pending)

    emr = commands.add_parser("emr", help="run conversions on Amazon EMR (Serverless job runs or EC2 cluster steps)")
    emr_commands = emr.add_subparsers(dest="emr_command", required=True, metavar="COMMAND")
    submit = emr_commands.add_parser(
        "submit",
        help="stage the code and one job per table, and start them",
        epilog=_exit_codes("0 every job run or step started (their own results are EMR's)"),
    )
    submit.add_argument("tables", metavar="TABLES_YAML", help="'tables:' list of source, target[, version, key]")
    submit.add_argument("--staging", metavar="S3_PREFIX", required=True, help="where the code and job specs go")
    where = submit.add_mutually_exclusive_group(required=True)
    where.add_argument("--application-id", metavar="ID", help="EMR Serverless application (Spark, EMR 7.x)")
    where.add_argument("--cluster-id", metavar="ID", help="running EMR-on-EC2 cluster: one step per table")
    submit.add_argument("--role", metavar="ARN", help="execution role of the job runs (EMR Serverless)")
    submit.add_argument("--archive", metavar="S3_URI", help="virtualenv archive with the dependencies (docs/emr.md)")
    submit.add_argument("--no-reconcile", action="store_true", help="convert only; do not reconcile each table")
    _add_target_options(submit)
    _add_output_option(submit)
    submit.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    submit.set_defaults(run=_run_emr_submit)

    inventory = commands.add_parser(
        "inventory",
        help="crawl a workspace, storage or notebook exports into inventory.json",
        description="Crawl Databricks workspaces, storage prefixes and notebook export folders into one "
        "inventory file. An interrupted crawl resumes from OUT.partial.jsonl when run again with the same "
        "sources.",
        epilog=_exit_codes("0 every object crawled", "1 crawled, but some objects failed (listed in the inventory)"),
    )
    inventory.add_argument(
        "--workspace",
        action="append",
        nargs="?",
        const="DEFAULT",
        default=[],
        metavar="PROFILE",
        help="a Databricks workspace from a ~/.databrickscfg profile (default profile without a name)",
    )
    inventory.add_argument(
        "--host",
        action="append",
        default=[],
        metavar="URL",
        help="a Databricks workspace by URL (token from DATABRICKS_TOKEN or the SDK's usual sources)",
    )
    inventory.add_argument(
        "--timeout",
        type=_positive_float,
        default=None,
        metavar="SECONDS",
        help="how long one request to a workspace may take, retries included; an unreachable workspace "
        "stops the crawl after it (default 60, or DATAX_DATABRICKS_TIMEOUT)",
    )
    inventory.add_argument(
        "--warehouse", metavar="ID", help="SQL warehouse for hive_metastore tables and DESCRIBE DETAIL"
    )
    inventory.add_argument(
        "--read-logs", action="store_true", help="also read each workspace table's Delta log from its location"
    )
    inventory.add_argument(
        "--storage", action="append", default=[], metavar="PATH", help="a folder or s3:// prefix to scan for tables"
    )
    inventory.add_argument(
        "--export", action="append", default=[], metavar="DIR", help="a folder of exported notebooks and .dbc archives"
    )
    inventory.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="PATTERN",
        help="leave out folders of --storage matching this pattern, relative to the scanned path (e.g. '*/expected')",
    )
    inventory.add_argument(
        "--workers",
        type=_positive_int,
        default=DEFAULT_WORKERS,
        metavar="N",
        help=f"objects read at once: tables, Delta logs, notebook exports, folders (default {DEFAULT_WORKERS})",
    )
    inventory.add_argument("--out", metavar="FILE", default="inventory.json", help="where the inventory goes")
    inventory.add_argument("--parquet", action="store_true", help="also write the records as Parquet beside --out")
    _add_output_option(inventory)
    inventory.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    inventory.set_defaults(run=_run_inventory)

    assess = commands.add_parser(
        "assess",
        help="assess an inventory: findings, strategy and estimates per object, as reports",
        description="Assess an inventory and write assessment.json, assessment.md and assessment.html.",
        epilog=_exit_codes("0 no blocker found", "1 blockers found (the reports list them)"),
    )
    assess.add_argument("inventory", metavar="INVENTORY", help="inventory.json from `datax-migrate inventory`")
    assess.add_argument("--report-dir", metavar="DIR", default="assessment", help="where the reports go")
    assess.add_argument("--prices", metavar="FILE", help="YAML/JSON overriding the S3 Tables prices used")
    _add_output_option(assess)
    assess.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    assess.set_defaults(run=_run_assess)

    translate = commands.add_parser(
        "translate",
        help="translate Databricks notebooks into Jupyter notebooks for EMR / SageMaker Unified Studio",
        epilog=_exit_codes(
            "0 every notebook translated", "1 some notebook has a finding a person must look at (see the reports)"
        ),
    )
    translate.add_argument("sources", metavar="SRC", nargs="+", help="notebook files, folders or .dbc archives")
    translate.add_argument("--out", metavar="DIR", required=True, help="where translated notebooks and reports go")
    translate.add_argument("--name-map", metavar="FILE", help="the migration name map (NameMapping JSON)")
    translate.add_argument(
        "--path-map", metavar="FILE", help='JSON {"prefixes": {"dbfs:/mnt/x": "s3://b/x"}, "tables": {path: name}}'
    )
    translate.add_argument(
        "--inventory",
        metavar="FILE",
        help="inventory.json from `datax-migrate inventory`: Delta reads and writes by a table's location "
        "become reads and writes by its name (mapped through --name-map or the default rule)",
    )
    translate.add_argument("--dialect", choices=["spark", "athena"], default="spark", help="SQL dialect of SQL cells")
    translate.add_argument(
        "--catalog", metavar="NAME", default="s3tablesbucket", help="Spark catalog of the migrated tables on AWS"
    )
    translate.add_argument(
        "--default-catalog", metavar="NAME", default="hive_metastore", help="Databricks catalog of two-level names"
    )
    translate.add_argument(
        "--managed-maintenance", action="store_true", help="the target (S3 Tables) maintains tables: drop VACUUM"
    )
    _add_output_option(translate)
    translate.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    translate.set_defaults(run=_run_translate)

    demo = commands.add_parser(
        "demo",
        help="build a small banking lake and convert it into the local catalog",
        epilog=_exit_codes("0 every demo table matches its Delta source", "1 some table differs (see the report)"),
    )
    demo.add_argument("--workdir", metavar="DIR", default="demo", help="where the demo lake, catalog and report go")
    _add_output_option(demo)
    demo.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    demo.set_defaults(run=_run_demo)
    return parser


_CONFIG_HELP = (
    "YAML catalog config, ours ('catalogs:') or pyiceberg's .pyiceberg.yaml ('catalog:'); "
    "default: the catalogs pyiceberg finds (.pyiceberg.yaml, PYICEBERG_CATALOG__* variables) and 'local'"
)


def _exit_codes(*own: str) -> str:
    """The epilog of a ``--help``: the command's own exit codes, then the ones every command shares."""
    shared = (
        "2 refused or failed (one line on stderr naming the feature, file or value)",
        "130 interrupted (Ctrl-C)",
        "141 standard output closed before everything was written (e.g. | head)",
        "143 terminated (SIGTERM)",
    )
    return f"Exit codes: {', '.join((*own, *shared))}."


def _add_output_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--output",
        choices=["text", "json"],
        default="text",
        help="text for people (default), or one JSON document on stdout whose 'command' and 'version' keys name "
        "the command and the datax-migrate version",
    )


def _print_json(args: argparse.Namespace, document: dict[str, Any]) -> None:
    """Print a command's JSON output: ``document`` after the command's name and the package version."""
    command = " ".join(filter(None, (args.command, getattr(args, "emr_command", None))))
    print(
        json.dumps({"command": command, "version": __version__, **document}, indent=2, default=str, ensure_ascii=False)
    )


def _add_target_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--config", metavar="FILE", help=_CONFIG_HELP)
    command.add_argument(
        "--catalog", metavar="NAME", help="target catalog (default: the config's default, else 'local')"
    )
    command.add_argument(
        "--name-map", metavar="FILE", help="name mapping from `datax-migrate names`: the target is a Databricks name"
    )


def _add_commit_times_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--commit-times",
        choices=["auto", "mtime", "commit-info"],
        default="auto",
        help="Delta commit times: in-commit timestamps, else commit file times, or commitInfo.timestamp when "
        "the log was evidently copied (auto, the default); force file times (mtime) or commitInfo.timestamp",
    )


def _target(args: argparse.Namespace) -> tuple[Catalog, TargetName]:
    """The target catalog and table of a convert or reconcile command; names checked before any write."""
    from datax_migrate.catalogs.names import NameMapping, resolve_target, rules_for_catalog
    from datax_migrate.config import Config

    config = Config.load(args.config)
    properties = config.properties(args.catalog)
    mapping = NameMapping.load(args.name_map) if args.name_map else None
    target = resolve_target(args.target, rules_for_catalog(properties), mapping)
    if getattr(args, "create_bucket", False):
        from datax_migrate.catalogs.s3tables import create_table_bucket_if_missing

        if properties.get("type") != "s3tables":
            raise ConfigError("--create-bucket needs an s3tables catalog")
        if create_table_bucket_if_missing(args.catalog or config.default_catalog, properties):
            print(f"created table bucket {properties['warehouse']}", file=sys.stderr)
    return config.catalog(args.catalog), target


def _run_convert(args: argparse.Namespace) -> int:
    # Start-up (imports, log replay, catalog) creates objects that live on; in a process of its
    # own, the cyclic GC pauses until then rather than scan them over and over (~0.15 s of CPU).
    paused = _OWN_PROCESS and gc.isenabled()
    if paused:
        gc.disable()
    from datax_migrate.convert.source import ConversionSource

    timestamp = _parse_timestamp(args.timestamp) if args.timestamp else None
    engine = None
    if args.engine == "spark":
        from datax_migrate.convert.spark_engine import SparkEngine
        from datax_migrate.spark import spark_session

        engine = SparkEngine(spark_session())
        source = ConversionSource.open(
            args.source, args.delta_version, timestamp, workers=engine.parallelism, commit_times=args.commit_times
        )
    else:
        source = ConversionSource.open(args.source, args.delta_version, timestamp, commit_times=args.commit_times)
        # Decode the first file groups while pyiceberg loads and the catalog connects.
        source.start_read_ahead()
    interrupted: BaseException | None = None
    try:
        if _OWN_PROCESS and engine is None:
            from datax_migrate.lazy import import_pyarrow_dataset_without_pandas

            import_pyarrow_dataset_without_pandas()
        from datax_migrate.convert.table import ConvertOptions, InterruptedAfterCommit, convert_table
        from datax_migrate.iceberg.target import SOURCE_NAME
        from datax_migrate.progress import conversion_progress

        catalog, target = _target(args)
        if paused:
            gc.enable()
        options = ConvertOptions(
            lossy=frozenset(args.lossy),
            identity_partitions=args.identity_partitions,
            replace=args.replace,
            table_properties={SOURCE_NAME: target.source} if args.name_map else {},
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
    if args.output == "json":
        _print_json(args, {**asdict(result), "commit_time": result.commit_time.isoformat()})
    else:
        print(_describe(result))
    if interrupted is not None:
        what = "terminated" if isinstance(interrupted, Terminated) else "interrupted"
        print(
            f"datax-migrate: {what} during the commit, which had landed: {result.target} holds snapshot "
            f"{result.snapshot_id}; the conversion is complete",
            file=sys.stderr,
        )
    return EXIT_OK


def _describe(result: object) -> str:
    from datax_migrate.convert import ConversionResult

    assert isinstance(result, ConversionResult)
    source = f"{result.source.location} @ Delta version {result.source.delta_version}"
    if result.status == "unchanged":
        line = f"unchanged: {result.target} already holds {source} (snapshot {result.snapshot_id})"
    else:
        line = (
            f"{result.status}: {source} -> {result.target}, snapshot {result.snapshot_id}: "
            f"{result.rows:,} rows in {result.data_files} data files ({result.bytes_written / 1e6:,.1f} MB) "
            f"in {result.seconds:.1f} s"
        )
    if result.source.commit_time_note:
        line += f"\n  Delta commit time {result.commit_time.isoformat()}: {result.source.commit_time_note}"
    return line


def _run_reconcile(args: argparse.Namespace) -> int:
    from pathlib import Path

    from datax_migrate.config import datax_home
    from datax_migrate.progress import reconcile_progress
    from datax_migrate.reconcile import ReconcileOptions, reconcile_table
    from datax_migrate.reconcile.reports import write_reports
    from datax_migrate.reconcile.reports.text import console_summary
    from datax_migrate.reconcile.tolerance import parse_tolerances

    if args.sample < 0:
        raise ConfigError("--sample must be 0 or more")
    if args.emit_sql:
        return _emit_sql(args)
    if args.sql_source or args.sql_target:
        raise ConfigError("--sql-source and --sql-target go with --emit-sql")
    options = ReconcileOptions(
        version=_delta_version(args),
        keys=_keys(args.key),
        columns=_names(args.columns),
        exclude=_names(args.exclude),
        tolerances=parse_tolerances(args.tolerance),
        sample=args.sample,
        seed=args.seed,
        commit_times=args.commit_times,
    )
    catalog, target = _target(args)
    engine = None
    if args.engine == "spark":
        from datax_migrate.reconcile.spark_engine import SparkScanEngine
        from datax_migrate.spark import spark_session

        engine = SparkScanEngine(spark_session())
    with reconcile_progress(target.identifier) as progress:
        report = reconcile_table(args.source, catalog, target.identifier, options, progress, engine)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    report_dir = Path(args.report_dir) if args.report_dir else datax_home() / "reports" / target.identifier / stamp
    write_reports(report, report_dir)
    if args.output == "json":
        _print_json(args, json.loads(report.to_json()))
    else:
        print(console_summary(report, report_dir))
    return EXIT_OK if report.matches else EXIT_DIFFERENCES


def _delta_version(args: argparse.Namespace) -> int | None:
    """The Delta version ``--version`` names, or the one current at ``--timestamp`` (as ``convert`` resolves it)."""
    if not args.timestamp:
        return args.delta_version  # type: ignore[no-any-return]
    from datax_migrate.delta.table import DeltaTable

    return DeltaTable(args.source, commit_times=args.commit_times).version_at(_parse_timestamp(args.timestamp))


def _names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


def _keys(text: str | None) -> tuple[str, ...]:
    keys = tuple(k.strip() for k in text.split(",")) if text is not None else ()
    if not all(keys):
        raise ConfigError(f"--key {text!r} names no column: expected COL[,COL] (omit --key to compare whole rows)")
    return keys


def _emit_sql(args: argparse.Namespace) -> int:
    from datax_migrate.reconcile.warehouse_sql import reconcile_sql

    catalog, target = _target(args)
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
        _print_json(args, {"dialect": args.emit_sql, "sql": statements})
    else:
        print("\n\n".join(f"-- {name}\n{sql};" for name, sql in statements.items()))
    return EXIT_OK


def _run_signoff(args: argparse.Namespace) -> int:
    from pathlib import Path

    from datax_migrate.reconcile.signoff import describe_sign_off, new_key, sign_off, signed_off_before, verify
    from datax_migrate.words import plural

    ledger = Path(args.ledger) if args.ledger else None
    if args.new_key:
        if args.report_dir or args.by or args.verify:
            raise ConfigError("--new-key only writes a key pair: give no REPORT_DIR, --by or --verify with it")
        signer = new_key(Path(args.new_key))
        if args.output == "json":
            _print_json(args, {"private_key": args.new_key, "public_key": f"{args.new_key}.pub", "signer": signer})
        else:
            print(f"wrote the private key {args.new_key} and the public key {args.new_key}.pub (key {signer})")
        return EXIT_OK
    if args.expect_pub and not args.verify:
        raise ConfigError("--expect-pub goes with --verify")
    if args.verify:
        if args.report_dir or args.by or args.key:
            raise ConfigError("--verify checks the whole ledger: give no REPORT_DIR, --by or --key with it")
        results = verify(ledger, Path(args.expect_pub) if args.expect_pub else None)
        broken = sum(not r.ok for r in results)
        if args.output == "json":
            lines = [{**asdict(r), "status": r.status.value} for r in results]
            _print_json(args, {"sign_offs": len(results), "problems": broken, "lines": lines})
            return EXIT_DIFFERENCES if broken else EXIT_OK
        for result in results:
            table = result.entry.table if result.entry else "?"
            by = f" signed by {result.entry.by} at {result.entry.at}" if result.entry else ""
            if result.entry and result.entry.signer and not args.expect_pub:
                by += f" (key {result.entry.signer}, not checked: give --expect-pub)"
            detail = f": {result.detail}" if result.detail else ""
            print(f"line {result.line}: {result.status.value:<14} {table}{by}{detail}")
        last = f"; last line sha256 {results[-1].line_sha256}" if results else ""
        print(f"{plural(len(results), 'sign-off')}, {broken} with problems{last}")
        return EXIT_DIFFERENCES if broken else EXIT_OK
    if not args.report_dir or not args.by:
        raise ConfigError("signoff needs REPORT_DIR and --by NAME (or --verify)")
    key = Path(args.key) if args.key else None
    earlier = signed_off_before(Path(args.report_dir), ledger) if args.again else None
    if earlier is not None:
        print(f"warning: signing off again: signed off before ({describe_sign_off(*earlier, ledger)})", file=sys.stderr)
    entry = sign_off(Path(args.report_dir), args.by, args.note, args.accept_differences, ledger, key, args.again)
    if args.output == "json":
        _print_json(args, asdict(entry))
        return EXIT_OK
    signed = f"; signed with key {entry.signer}" if entry.signer else ""
    print(
        f"signed off: {entry.table} ({entry.verdict}, Delta version {entry.delta_version}, "
        f"snapshot {entry.snapshot_id}) by {entry.by} at {entry.at}; report sha256 {entry.report_sha256}{signed}"
    )
    return EXIT_OK


def _run_names(args: argparse.Namespace) -> int:
    from pathlib import Path

    from datax_migrate.catalogs.names import RULES, S3_TABLES, plan_names, rules_for_catalog
    from datax_migrate.config import Config

    sources = list(args.sources)
    if args.from_file:
        try:
            lines = Path(args.from_file).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"--from {args.from_file} cannot be read: {exc}") from None
        sources += [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not sources:
        raise ConfigError("give table names, or --from FILE")
    if args.rules:
        rules = RULES[args.rules]
    elif args.catalog or args.config:
        rules = rules_for_catalog(Config.load(args.config).properties(args.catalog)) or S3_TABLES
    else:
        rules = S3_TABLES
    mapping = plan_names(sources, rules, args.namespace_from)
    if args.out:
        Path(args.out).write_text(mapping.to_json(), encoding="utf-8")
    if args.output == "json":
        entries = [{"source": e.source, "namespace": e.namespace, "table": e.table} for e in mapping.entries]
        _print_json(args, {"rules": rules.label, "entries": entries, "out": args.out})
        return EXIT_OK
    width = max(len(entry.source) for entry in mapping.entries)
    for entry in mapping.entries:
        print(f"{entry.source:<{width}}  ->  {entry.identifier}")
    written = f"; written to {args.out}" if args.out else ""
    print(f"{len(mapping.entries)} table(s) mapped for {rules.label}{written}")
    return EXIT_OK


def _run_pending(args: argparse.Namespace) -> int:
    from datax_migrate.catalogs.pending import parse_duration
    from datax_migrate.catalogs.s3tables import S3TablesCatalog
    from datax_migrate.config import Config

    try:
        older_than = parse_duration(args.older_than) if args.older_than else None
    except ValueError as exc:
        raise ConfigError(f"--older-than: {exc}") from None
    if args.include_unmarked and older_than is None:
        raise ConfigError("--include-unmarked needs --older-than: an unmarked entry is stale only by its age")
    catalog = Config.load(args.config).catalog(args.catalog)
    if not isinstance(catalog, S3TablesCatalog):
        raise ConfigError(
            f"catalog {catalog.name!r} is not an s3tables catalog in mode api: only there does a conversion reserve"
            " an entry without metadata (elsewhere a pending table is an empty table marked datax.conversion-pending,"
            " purged by the rerun)"
        )
    entries = catalog.pending_entries(args.namespace)
    stale = purged = 0
    listed = []
    for entry in entries:
        reason = entry.staleness(older_than, args.include_unmarked)
        verdict = f"stale: {reason}" if reason else "kept: not shown to be stale"
        if reason and args.purge:
            released = catalog.release(entry.identifier)
            verdict = f"purged: {reason}" if released else "kept: committed or deleted meanwhile"
            purged += released
        stale += reason is not None
        listed.append({"identifier": entry.identifier, "description": entry.describe(), "verdict": verdict})
        if args.output == "text":
            print(f"{entry.identifier}  {entry.describe()}  {verdict}")
    if args.output == "json":
        _print_json(args, {"entries": listed, "stale": stale, "purged": purged if args.purge else None})
        return EXIT_OK
    done = f"{purged} purged" if args.purge else "purge them with --purge"
    print(f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'} without metadata, {stale} stale; {done}")
    return EXIT_OK


def _run_emr_submit(args: argparse.Namespace) -> int:
    from datax_migrate.catalogs.names import NameMapping, resolve_target, rules_for_catalog
    from datax_migrate.config import Config
    from datax_migrate.emr.job import JobSpec, TableJob, load_tables
    from datax_migrate.emr.submit import stage, submit_serverless, submit_steps

    if args.application_id and not args.role:
        raise ConfigError("--application-id needs --role (the job runs' execution role ARN)")
    config = Config.load(args.config)
    name = args.catalog or config.default_catalog
    properties = config.properties(name)
    mapping = NameMapping.load(args.name_map) if args.name_map else None
    rules = rules_for_catalog(properties)
    tables = tuple(
        TableJob(t.source, resolve_target(t.target, rules, mapping).identifier, t.version, t.key)
        for t in load_tables(args.tables)
    )
    spec = JobSpec(name, properties, tables, reconcile=not args.no_reconcile)
    staged = stage(spec, args.staging)
    if args.application_id:
        submitted = submit_serverless(staged, spec, args.application_id, args.role, args.archive)
    else:
        submitted = submit_steps(staged, spec, args.cluster_id, args.archive)
    if args.output == "json":
        _print_json(args, {"staged": asdict(staged), "submitted": [asdict(s) for s in submitted]})
    else:
        kind = "job run" if args.application_id else "step"
        for item in submitted:
            print(f"{item.target}: {kind} {item.id}")
        print(f"{len(submitted)} {kind}(s) started; code and specs under {staged.prefix}")
    return EXIT_OK


def _run_inventory(args: argparse.Namespace) -> int:
    from pathlib import Path

    from datax_migrate.files import write_atomically
    from datax_migrate.inventory.crawl import crawl
    from datax_migrate.inventory.sources.storage import StorageSource
    from datax_migrate.progress import crawl_progress

    sources: list = []
    for profile in args.workspace:
        sources.append(_workspace_source(args, profile=profile))
    for host in args.host:
        sources.append(_workspace_source(args, host=host))
    sources += [StorageSource(path, workers=args.workers, exclude=args.exclude) for path in args.storage]
    if args.export:
        from datax_migrate.inventory.sources.exports import ExportSource
        from datax_migrate.notebooks.limits import NotebookLimits

        limits = NotebookLimits.from_env()
        sources += [ExportSource(Path(folder), limits) for folder in args.export]
    if not sources:
        raise ConfigError("give at least one of --workspace, --host, --storage or --export")
    out = Path(args.out)
    checkpoint = out.with_name(f"{out.name}.partial.jsonl")
    with crawl_progress("inventory") as progress:
        result = crawl(sources, checkpoint, progress)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(out, result.to_json())
    checkpoint.unlink(missing_ok=True)
    written = [out]
    if args.parquet:
        from datax_migrate.inventory.tables import write_parquet

        written += write_parquet(result, out.parent, out.stem)
    if args.output == "json":
        _print_json(args, {**result.to_dict(), "written": [str(path) for path in written]})
    else:
        _print_inventory(result)
        _print_export_skips(result.failures)
        print(f"wrote {', '.join(str(path) for path in written)}")
    return EXIT_DIFFERENCES if result.failures else EXIT_OK


def _workspace_source(args: argparse.Namespace, profile: str | None = None, host: str | None = None) -> object:
    from datax_migrate.inventory.sources.workspace import WorkspaceSource

    return WorkspaceSource.connect(
        profile=None if profile == "DEFAULT" else profile,
        host=host,
        warehouse_id=args.warehouse,
        read_logs=args.read_logs,
        workers=args.workers,
        timeout=_databricks_timeout(args.timeout),
    )


def _databricks_timeout(given: float | None) -> float:
    """``--timeout``, else ``DATAX_DATABRICKS_TIMEOUT``, else the default."""
    import os

    from datax_migrate.inventory.sources.workspace import DEFAULT_TIMEOUT_SECONDS

    if given is not None:
        return given
    text = os.environ.get("DATAX_DATABRICKS_TIMEOUT", "").strip()
    if not text:
        return DEFAULT_TIMEOUT_SECONDS
    try:
        return _positive_float(text)
    except (ValueError, argparse.ArgumentTypeError):
        raise ConfigError(f"DATAX_DATABRICKS_TIMEOUT={text!r}: expected a positive number of seconds") from None


def _print_export_skips(failures: Sequence[CrawlFailure], shown: int = 10) -> None:
    """One line per export file skipped as not a notebook (and export folder without any), the first ``shown``."""
    skips = [f for f in failures if f.source == "export" and f.stage in ("skipped", "no-notebooks")]
    for failure in skips[:shown]:
        print(f"skipped {failure.subject}: {failure.reason}")
    if len(skips) > shown:
        print(f"... and {len(skips) - shown} more skipped (see failures in the inventory)")


def _print_inventory(inventory: object) -> None:
    from collections import Counter

    from rich.console import Console
    from rich.table import Table

    from datax_migrate.inventory.model import Inventory

    assert isinstance(inventory, Inventory)
    formats = Counter(t.format or t.kind for t in inventory.tables)
    table = Table(title="Inventory", title_justify="left")
    table.add_column("Objects")
    table.add_column("Count", justify="right")
    table.add_column("Detail")
    table.add_row("tables", f"{len(inventory.tables):,}", ", ".join(f"{k} {v:,}" for k, v in sorted(formats.items())))
    strategies = Counter(t.strategy for t in inventory.tables)
    table.add_row("", "", ", ".join(f"{k} {v:,}" for k, v in sorted(strategies.items()) if k))
    table.add_row("notebooks", f"{len(inventory.notebooks):,}", "")
    table.add_row("jobs", f"{len(inventory.jobs):,}", "")
    table.add_row("failures", f"{len(inventory.failures):,}", "; ".join(f.subject for f in inventory.failures[:3]))
    Console(soft_wrap=True).print(table)


def _run_assess(args: argparse.Namespace) -> int:
    from pathlib import Path

    from datax_migrate.errors import InventoryError
    from datax_migrate.inventory.assess import assess
    from datax_migrate.inventory.assess.estimates import S3_TABLES_PRICES, S3TablesPrices
    from datax_migrate.inventory.assess.report import write_reports
    from datax_migrate.inventory.model import Inventory

    try:
        text = Path(args.inventory).read_text(encoding="utf-8")
    except OSError as exc:
        raise InventoryError(f"cannot read the inventory {args.inventory}: {exc.strerror or exc}") from exc
    prices = S3TablesPrices.load(Path(args.prices)) if args.prices else S3_TABLES_PRICES
    assessment = assess(Inventory.from_json(text), prices)
    paths = write_reports(assessment, Path(args.report_dir))
    if args.output == "json":
        _print_json(args, {**assessment.to_dict(), "reports": [str(path) for path in paths]})
    else:
        _print_assessment(assessment)
        print(f"reports: {', '.join(str(path) for path in paths)}")
    return EXIT_DIFFERENCES if assessment.blockers else EXIT_OK


def _print_assessment(assessment: object) -> None:
    from datax_migrate.inventory.assess import Assessment
    from datax_migrate.inventory.assess.report import print_console

    assert isinstance(assessment, Assessment)
    print_console(assessment)


def _run_translate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from datax_migrate.notebooks.context import TranslateOptions
    from datax_migrate.notebooks.limits import NotebookLimits
    from datax_migrate.notebooks.paths import Locations
    from datax_migrate.notebooks.report import run_report
    from datax_migrate.notebooks.translate import translate_tree

    locations = Locations.from_files(
        catalog=args.catalog,
        name_map=Path(args.name_map) if args.name_map else None,
        path_map=Path(args.path_map) if args.path_map else None,
        default_catalog=args.default_catalog,
        inventory=Path(args.inventory) if args.inventory else None,
    )
    options = TranslateOptions(
        locations=locations,
        dialect=args.dialect,
        managed_maintenance=args.managed_maintenance,
        limits=NotebookLimits.from_env(),
    )
    outcomes = translate_tree([Path(s) for s in args.sources], Path(args.out), options)
    summary = run_report(outcomes)
    if args.output == "json":
        # "version" is the package's here; the summary's own format version is its schema_version.
        _print_json(args, {"schema_version": summary.pop("version"), **summary})
    else:
        for outcome in summary["outcomes"]:
            print(
                f"{outcome['status']:<12} {outcome['source']}: {outcome['blocker']} blocker, "
                f"{outcome['review']} review, {outcome['info']} info"
            )
        statuses = ", ".join(f"{count} {status}" for status, count in summary["status"].items())
        print(f"{summary['notebooks']} notebook(s): {statuses or 'none found'}; reports in {args.out}")
    return EXIT_OK if all(o.status == "translated" for o in outcomes) else EXIT_DIFFERENCES


def _run_demo(args: argparse.Namespace) -> int:
    from datax_migrate.demo import run_demo

    if args.output == "text":
        return EXIT_OK if run_demo(args.workdir) else EXIT_DIFFERENCES
    from contextlib import redirect_stdout
    from pathlib import Path

    with redirect_stdout(sys.stderr):  # the demo's console, so that stdout holds only the JSON
        matches = run_demo(args.workdir)
    workdir = Path(args.workdir).resolve()
    _print_json(
        args,
        {
            "matches": matches,
            "workdir": str(workdir),
            "report": str(workdir / "report.md"),
            "reconciliation": str(workdir / "reports"),
        },
    )
    return EXIT_OK if matches else EXIT_DIFFERENCES


def _parse_timestamp(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"--timestamp {text!r} is not an ISO-8601 date or time") from None
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


if __name__ == "__main__":
    run()
