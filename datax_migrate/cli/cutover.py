"""The ``cutover`` command: final sync, full reconcile, the ``cutover`` tag and a ledger entry."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from datax_migrate.cli.common import (
    EXIT_DIFFERENCES,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TERMINATED,
    Terminated,
    add_commit_times_option,
    add_common_options,
    add_target_options,
    exit_codes,
    open_target,
    print_json,
)

if TYPE_CHECKING:
    from datax_migrate.sync.cutover import CutoverResult


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the cutover command to ``commands``."""
    cutover = commands.add_parser(
        "cutover",
        help="cut a table over to Iceberg: final sync, full reconcile, tag 'cutover', ledger entry, steps left",
        epilog=exit_codes(
            "0 matched: the snapshot is tagged 'cutover' and the cutover recorded in the sign-off ledger",
            "1 the final reconcile found differences: nothing tagged or recorded (the reports say what differs)",
            "2 also when the final sync is refused, or the Delta table moved on during the cutover",
        ),
    )
    cutover.add_argument("source", metavar="SOURCE", help="Delta table path or URI (local, file://, s3://)")
    cutover.add_argument(
        "target",
        metavar="NAMESPACE.TABLE",
        help="the Iceberg table kept in step (with --name-map: the Databricks name)",
    )
    add_target_options(cutover)
    add_commit_times_option(cutover)
    cutover.add_argument(
        "--report-dir", metavar="DIR", help="where the reports go (default: $DATAX_HOME/reports/TABLE/cutover-TIME)"
    )
    cutover.add_argument("--by", metavar="NAME", help="who cuts over, for the ledger (default: the login name)")
    cutover.add_argument("--ledger", metavar="FILE", help="the sign-off ledger (default: $DATAX_HOME/signoffs.jsonl)")
    cutover.add_argument(
        "--key", metavar="FILE", help="sign the ledger entry with this Ed25519 private key (PEM), as signoff --key does"
    )
    add_common_options(cutover)
    cutover.set_defaults(run=run_cutover)


def run_cutover(args: argparse.Namespace) -> int:
    """Run ``cutover``."""
    from datax_migrate.config import datax_home
    from datax_migrate.progress import reconcile_progress
    from datax_migrate.sync.cutover import cutover_table
    from datax_migrate.sync.table import InterruptedAfterSync

    catalog, target = open_target(args)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    report_dir = (
        Path(args.report_dir) if args.report_dir else datax_home() / "reports" / target.identifier / f"cutover-{stamp}"
    )
    try:
        with reconcile_progress(target.identifier) as progress:
            result = cutover_table(
                args.source,
                catalog,
                target.identifier,
                report_dir=report_dir,
                by=args.by,
                ledger=Path(args.ledger) if args.ledger else None,
                key=Path(args.key) if args.key else None,
                reconcile_progress=progress,
                commit_times=args.commit_times,
            )
    except (KeyboardInterrupt, Terminated, InterruptedAfterSync) as stopped:
        cause = stopped.interrupt if isinstance(stopped, InterruptedAfterSync) else stopped
        terminated = isinstance(cause, Terminated)
        print(
            f"datax-migrate: {'terminated' if terminated else 'interrupted'}: not cut over, nothing was tagged or "
            "recorded (a final sync that had committed stays: the table is in step with Delta as far as it got)",
            file=sys.stderr,
        )
        return EXIT_TERMINATED if terminated else EXIT_INTERRUPTED
    if args.output == "json":
        print_json(args, document(result))
    else:
        print(describe(result))
    return EXIT_OK if result.matches else EXIT_DIFFERENCES


def document(result: CutoverResult) -> dict[str, Any]:
    """The cutover as the JSON document of ``--output json`` (the report as ``report.json`` holds it)."""
    fields = {name: value for name, value in asdict(result).items() if name not in ("report", "sync")}
    return {**fields, "sync": asdict(result.sync), "report": json.loads(result.report.to_json())}


def describe(result: CutoverResult) -> str:
    """The cutover in text: the sync, the reconcile summary, then what was done and what is left."""
    from datax_migrate.cli.sync import describe as describe_sync
    from datax_migrate.reconcile.reports.text import console_summary

    lines = [describe_sync(result.sync), console_summary(result.report, Path(result.report_dir))]
    name = f"{result.catalog}.{result.target}"
    if not result.matches:
        lines.append(f"not cut over: {name} differs from Delta version {result.delta_version}; nothing was tagged")
        return "\n".join(lines)
    moved = f" (moved from snapshot {result.moved_tag_from})" if result.moved_tag_from is not None else ""
    entry = result.ledger_entry
    by = f" by {entry.by} at {entry.at}" if entry is not None else ""
    lines.append(
        f"cut over: {name} snapshot {result.snapshot_id} (Delta version {result.delta_version}) tagged "
        f"'{result.tag}'{moved}; recorded in {result.ledger}{by}"
    )
    lines.append("Left to do:")
    lines.extend(f"  {number}. {step}" for number, step in enumerate(result.steps, start=1))
    return "\n".join(lines)
