"""The ``migrate`` command: run a plan's wave (convert, reconcile, awaiting sign-off) with a resumable ledger."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from datax_migrate.cli.common import (
    CONFIG_HELP,
    EXIT_DIFFERENCES,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TERMINATED,
    Terminated,
    add_common_options,
    exit_codes,
    positive_float,
    positive_int,
    print_json,
)

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions
    from rich.text import Text

    from datax_migrate.estate.run import RunProgress, RunSummary

_SHORT_STATES = {
    "PENDING": "pend",
    "CONVERTING": "conv",
    "CONVERTED": "convd",
    "RECONCILING": "recon",
    "MATCHED": "ok",
    "MISMATCHED": "diff",
    "SIGNED_OFF": "signed",
    "FAILED": "failed",
    "BLOCKED": "blocked",
    "SKIPPED": "skip",
}  # every state of the ledger, in its order (estate.ledger.STATES)
_LINE_INTERVAL = 10.0


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the migrate command to ``commands``."""
    migrate = commands.add_parser(
        "migrate",
        help="run a plan (or one wave): convert and reconcile every table, state kept in PLAN_DIR/ledger.sqlite",
        description="Take every table of the plan (or of --wave) that is not done through convert (or history, "
        "or sync) and reconcile, to MATCHED or MISMATCHED (awaiting sign-off); reports go to "
        "PLAN_DIR/reports/CATALOG/NAMESPACE/TABLE/. Transient failures (throttling, 5xx, timeouts) are retried "
        "with backoff; permanent ones fail the table with the reason. Stopped at any moment (even kill -9), a "
        "rerun finishes the plan: no table is converted twice or marked done when it is not.",
        epilog=exit_codes(
            "0 every table of the wave matched (or is skipped or blocked)", "1 a table mismatched or failed"
        ),
    )
    migrate.add_argument("plan_dir", metavar="PLAN_DIR", help="folder written by `datax-migrate plan`")
    migrate.add_argument("--config", metavar="FILE", help=CONFIG_HELP)
    migrate.add_argument("--wave", type=positive_int, metavar="N", help="run only this wave (default: every wave)")
    migrate.add_argument("--workers", type=positive_int, default=2, metavar="K", help="tables at a time (default 2)")
    migrate.add_argument(
        "--engine", choices=["local", "spark"], default="local", help="where tables are converted and reconciled"
    )
    migrate.add_argument("--dry-run", action="store_true", help="list the tables that would run; write nothing")
    migrate.add_argument(
        "--retry-failed",
        action="store_true",
        help="also run the tables that failed before, and reconcile the mismatched ones again "
        "(after fixing their key_columns or tolerances in plan.csv)",
    )
    migrate.add_argument(
        "--timeout",
        type=positive_float,
        default=6 * 3600.0,
        metavar="SECONDS",
        help="time limit of one table, retries included (default 21600: six hours)",
    )
    add_common_options(migrate)
    migrate.set_defaults(run=run_migrate)


def run_migrate(args: argparse.Namespace) -> int:
    """Run ``migrate``: the plan's tables through convert and reconcile, states in the ledger."""
    from datax_migrate.estate.run import run_plan

    label = f"wave {args.wave}" if args.wave is not None else "plan"
    try:
        with migrate_progress(label, quiet=args.dry_run) as progress:
            summary = run_plan(
                args.plan_dir,
                config=args.config,
                wave=args.wave,
                workers=args.workers,
                engine=args.engine,
                dry_run=args.dry_run,
                retry_failed=args.retry_failed,
                progress=progress,
                timeout=args.timeout,
            )
    except (KeyboardInterrupt, Terminated) as stopped:
        what = "terminated" if isinstance(stopped, Terminated) else "interrupted"
        print(
            f"datax-migrate: {what}; the tables done so far are recorded in the ledger, and the ones in progress"
            " left nothing half-written: run migrate again to finish",
            file=sys.stderr,
        )
        return EXIT_TERMINATED if isinstance(stopped, Terminated) else EXIT_INTERRUPTED
    if args.output == "json":
        print_json(args, _document(summary))
    else:
        print(_text(summary))
    return EXIT_OK if summary.ok or summary.dry_run else EXIT_DIFFERENCES


def progress_lines(progress: RunProgress, label: str, width: int = 80) -> list[str]:
    """The progress display: counts, throughput and ETA; then the tables by state. Each line fits ``width``.

    A narrow line loses the bytes, then the rows, then the elapsed time; the counts by state take short
    names (``ok`` for matched, ``diff`` for mismatched) before anything is cut.
    """
    rate = progress.tables_per_minute
    eta = progress.eta_seconds
    head = [
        f"{label}: {progress.finished}/{progress.selected} tables",
        f"{rate:.1f}/min" if rate is not None else "--/min",
        f"{_compact(progress.rows)} rows",
        f"{progress.bytes / 1e6:,.0f} MB",
        f"elapsed {_clock(progress.elapsed)}",
        f"ETA {_clock(eta) if eta is not None else '--:--'}",
    ]
    for dropped in (3, 2, 4):
        if len("  ".join(filter(None, head))) <= width:
            break
        head[dropped] = ""
    shown = [state for state in _SHORT_STATES if progress.states.get(state)]
    states = "  " + "  ".join(f"{state.lower()} {progress.states[state]}" for state in shown)
    if len(states) > width:
        states = " " + " ".join(f"{_SHORT_STATES[state]} {progress.states[state]}" for state in shown)
    return [_fit("  ".join(filter(None, head)), width), _fit(states, width)]


@contextmanager
def migrate_progress(
    label: str, *, quiet: bool = False, console: Console | None = None
) -> Iterator[Callable[[RunProgress], None] | None]:
    """Show a run's progress on stderr: live lines on a terminal, else a line per finished table and every 10 s."""
    if quiet:
        yield None
        return
    from rich.console import Console
    from rich.live import Live

    console = console or Console(stderr=True)
    if console.is_terminal:
        view = _LiveView(label)
        with Live(view, console=console, transient=True, refresh_per_second=4):
            yield view.update
        return
    shown = {"finished": -1, "at": time.monotonic()}
    stream = console.file

    def write(progress: RunProgress) -> None:
        now = time.monotonic()
        if progress.finished != shown["finished"] or now - shown["at"] >= _LINE_INTERVAL:
            print(" | ".join(line.strip() for line in progress_lines(progress, label, 200)), file=stream, flush=True)
            shown.update(finished=progress.finished, at=now)

    yield write


class _LiveView:
    """The live display: re-laid out for the terminal's width at each refresh."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.current: RunProgress | None = None

    def update(self, progress: RunProgress) -> None:
        self.current = progress

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Text]:
        from rich.text import Text

        lines = progress_lines(self.current, self.label, options.max_width) if self.current else [self.label]
        for line in lines:
            yield Text(line)


def _document(summary: RunSummary) -> dict[str, object]:
    return {
        "plan_dir": str(summary.plan_dir),
        "wave": summary.wave,
        "dry_run": summary.dry_run,
        "ok": summary.ok,
        "selected": list(summary.selected),
        "states": {state: summary.states[state] for state in _SHORT_STATES if summary.states.get(state)},
        "tables": [
            {
                "catalog": o.catalog,
                "target": o.target,
                "state": o.state,
                "reason": o.reason,
                "attempts": o.attempts,
                "seconds": o.seconds,
                "retried": list(o.retried),
            }
            for o in summary.outcomes
        ],
        "wall_seconds": round(summary.wall_seconds, 3),
        "table_seconds": round(summary.table_seconds, 3),
        "ledger_seconds": round(summary.ledger_seconds, 3),
        "setup_seconds": round(summary.setup_seconds, 3),
    }


def _text(summary: RunSummary) -> str:
    scope = f"wave {summary.wave}" if summary.wave is not None else "every wave"
    states = ", ".join(
        f"{summary.states[state]} {state.lower()}" for state in _SHORT_STATES if summary.states.get(state)
    )
    if summary.dry_run:
        lines = [f"dry run of {scope}: {len(summary.selected)} table(s) would run ({states or 'no tables'})"]
        return "\n".join(lines + [f"  {name}" for name in summary.selected])
    lines = [
        f"{scope}: {len(summary.outcomes)} table(s) run in {_clock(summary.wall_seconds)}; now {states or 'no tables'}"
    ]
    for outcome in summary.outcomes:
        if outcome.state != "MATCHED":
            reason = f": {outcome.reason}" if outcome.reason else ""
            lines.append(f"  {outcome.state.lower()} {outcome.catalog}:{outcome.target}{reason}")
    if summary.states.get("MISMATCHED"):
        lines.append(
            "mismatched tables await a person: read their reports, sign off with --accept-differences, or fix"
            " key_columns or tolerances in plan.csv and reconcile them again with --retry-failed"
        )
    if summary.states.get("FAILED"):
        lines.append("failed tables run again with --retry-failed")
    return "\n".join(lines)


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def _clock(seconds: float) -> str:
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def _compact(count: float) -> str:
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if count >= limit:
            return f"{count / limit:.1f}{suffix}"
    return f"{count:.0f}"
