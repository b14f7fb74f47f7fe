"""The ``inventory`` and ``assess`` commands: crawl into inventory.json, then judge it."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING

from datax_migrate.cli.common import (
    EXIT_DIFFERENCES,
    EXIT_OK,
    add_common_options,
    exit_codes,
    positive_float,
    positive_int,
    print_json,
)
from datax_migrate.errors import ConfigError

if TYPE_CHECKING:
    from datax_migrate.assess import Assessment
    from datax_migrate.inventory.model import CrawlFailure, Inventory
    from datax_migrate.inventory.sources.workspace import WorkspaceSource


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the inventory commands to ``commands``."""
    from datax_migrate.inventory import DEFAULT_WORKERS

    inventory = commands.add_parser(
        "inventory",
        help="crawl a workspace, storage or notebook exports into inventory.json",
        description="Crawl Databricks workspaces, storage prefixes and notebook export folders into one "
        "inventory file. An interrupted crawl resumes from OUT.partial.jsonl when run again with the same "
        "sources.",
        epilog=exit_codes("0 every object crawled", "1 crawled, but some objects failed (listed in the inventory)"),
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
        type=positive_float,
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
        type=positive_int,
        default=DEFAULT_WORKERS,
        metavar="N",
        help=f"objects read at once: tables, Delta logs, notebook exports, folders (default {DEFAULT_WORKERS})",
    )
    inventory.add_argument("--out", metavar="FILE", default="inventory.json", help="where the inventory goes")
    inventory.add_argument("--parquet", action="store_true", help="also write the records as Parquet beside --out")
    add_common_options(inventory)
    inventory.set_defaults(run=run_inventory)

    assess = commands.add_parser(
        "assess",
        help="assess an inventory: findings, strategy and estimates per object, as reports",
        description="Assess an inventory and write assessment.json, assessment.md and assessment.html.",
        epilog=exit_codes("0 no blocker found", "1 blockers found (the reports list them)"),
    )
    assess.add_argument("inventory", metavar="INVENTORY", help="inventory.json from `datax-migrate inventory`")
    assess.add_argument("--report-dir", metavar="DIR", default="assessment", help="where the reports go")
    assess.add_argument("--prices", metavar="FILE", help="YAML/JSON overriding the S3 Tables prices used")
    add_common_options(assess)
    assess.set_defaults(run=run_assess)


def run_inventory(args: argparse.Namespace) -> int:
    """Run ``inventory``: crawl the sources into the inventory file."""
    from pathlib import Path

    from datax_migrate.assess.assessment import with_verdicts
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
        result = with_verdicts(crawl(sources, checkpoint, progress))
    out.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(out, result.to_json())
    checkpoint.unlink(missing_ok=True)
    written = [out]
    if args.parquet:
        from datax_migrate.inventory.tables import write_parquet

        written += write_parquet(result, out.parent, out.stem)
    if args.output == "json":
        print_json(args, {**result.to_dict(), "written": [str(path) for path in written]})
    else:
        _print_inventory(result)
        _print_export_skips(result.failures)
        print(f"wrote {', '.join(str(path) for path in written)}")
    # A file an export folder holds besides notebooks (a README, .DS_Store) is listed, not a failure.
    failed = [f for f in result.failures if f.stage != "skipped"]
    return EXIT_DIFFERENCES if failed else EXIT_OK


def _workspace_source(args: argparse.Namespace, profile: str | None = None, host: str | None = None) -> WorkspaceSource:
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
        return positive_float(text)
    except (ValueError, argparse.ArgumentTypeError):
        raise ConfigError(f"DATAX_DATABRICKS_TIMEOUT={text!r}: expected a positive number of seconds") from None


def _print_export_skips(failures: Sequence[CrawlFailure], shown: int = 10) -> None:
    """One line per export file skipped as not a notebook (and export folder without any), the first ``shown``."""
    skips = [f for f in failures if f.source == "export" and f.stage in ("skipped", "no-notebooks")]
    for failure in skips[:shown]:
        print(f"skipped {failure.subject}: {failure.reason}")
    if len(skips) > shown:
        print(f"... and {len(skips) - shown} more skipped (see failures in the inventory)")


def _print_inventory(inventory: Inventory) -> None:
    from collections import Counter

    from rich.console import Console
    from rich.table import Table

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


def run_assess(args: argparse.Namespace) -> int:
    """Run ``assess``: judge an inventory and write the assessment reports."""
    from pathlib import Path

    from datax_migrate.assess import assess
    from datax_migrate.assess.estimates import S3_TABLES_PRICES, S3TablesPrices
    from datax_migrate.assess.report import write_reports
    from datax_migrate.inventory.model import Inventory

    prices = S3TablesPrices.load(Path(args.prices)) if args.prices else S3_TABLES_PRICES
    assessment = assess(Inventory.read(args.inventory), prices)
    paths = write_reports(assessment, Path(args.report_dir))
    if args.output == "json":
        print_json(args, {**assessment.to_dict(), "reports": [str(path) for path in paths]})
    else:
        _print_assessment(assessment)
        print(f"reports: {', '.join(str(path) for path in paths)}")
    return EXIT_DIFFERENCES if assessment.blockers else EXIT_OK


def _print_assessment(assessment: Assessment) -> None:
    from datax_migrate.assess.report import print_console

    print_console(assessment)
