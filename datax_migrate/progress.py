"""Console progress for long jobs, on stderr.

On a terminal: a live bar. Elsewhere (CI logs, cron, ``nohup``): one plain line at most every
``interval`` seconds, and a last one when the job ends, so long runs are never silent.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported for annotations only: the reconcile engine is slow to import
    from datax_migrate.convert.table import Progress as ConversionProgress
    from datax_migrate.inventory.crawl import CrawlCounts
    from datax_migrate.reconcile.run import ReconcileProgress


@dataclass(frozen=True)
class _Step:
    """One job's progress in common terms."""

    done: int
    total: int | None
    unit: str
    line: str
    finished: bool


def _conversion_step(progress: ConversionProgress) -> _Step:
    return _Step(
        progress.files_done,
        progress.files_total,
        f"files  {progress.rows_written:,} rows",
        f"{progress.files_done}/{progress.files_total} Delta files, {progress.rows_written:,} rows",
        progress.groups_done == progress.groups_total,
    )


def _reconcile_step(progress: ReconcileProgress) -> _Step:
    expected = progress.expected_rows
    done = min(progress.source_rows, progress.target_rows)
    of = f"/{expected:,}" if expected is not None else ""
    return _Step(
        done,
        expected,
        f"rows ({progress.phase})",
        f"{progress.phase}: Delta {progress.source_rows:,}{of} rows, Iceberg {progress.target_rows:,}{of} rows",
        expected is not None and done >= expected,
    )


@contextmanager
def conversion_progress(label: str, interval: float = 10.0) -> Iterator[Callable[[ConversionProgress], None]]:
    """Report conversion progress; yields the callback to hand to ``convert_table``."""
    with _progress(label, interval) as show:
        yield lambda progress: show(_conversion_step(progress))


@contextmanager
def reconcile_progress(label: str, interval: float = 10.0) -> Iterator[Callable[[ReconcileProgress], None]]:
    """Report reconciliation progress; yields the callback to hand to ``reconcile_table``."""
    with _progress(label, interval) as show:
        yield lambda progress: show(_reconcile_step(progress))


@contextmanager
def _progress(label: str, interval: float) -> Iterator[Callable[[_Step], None]]:
    if sys.stderr.isatty():
        with _bar(label) as update:
            yield update
    else:
        yield _lines(label, interval)


@contextmanager
def _bar(label: str) -> Iterator[Callable[[_Step], None]]:
    from rich.console import Console  # only on a terminal: rich takes a while to import
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[unit]}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None, unit="")

        def update(step: _Step) -> None:
            bar.update(task, completed=step.done, total=step.total, unit=step.unit)

        yield update


def _lines(label: str, interval: float) -> Callable[[_Step], None]:
    started = last = time.monotonic()
    lock = threading.Lock()
    shown = ""

    def update(step: _Step) -> None:
        nonlocal last, shown
        with lock:
            now = time.monotonic()
            if (step.finished and step.line != shown) or now - last >= interval:
                last, shown = now, step.line
                print(f"{label}: {step.line}, {now - started:.0f} s", file=sys.stderr, flush=True)

    return update


@contextmanager
def crawl_progress(label: str, interval: float = 10.0) -> Iterator[Callable[[CrawlCounts], None]]:
    """Report what an inventory crawl has found so far; yields the callback to hand to ``crawl``."""
    with _progress(label, interval) as show:
        yield lambda counts: show(_crawl_step(counts))


def _crawl_step(counts: CrawlCounts) -> _Step:
    line = (
        f"{counts.tables:,} tables, {counts.notebooks:,} notebooks, {counts.jobs:,} jobs, {counts.failures:,} failures"
    )
    return _Step(counts.total, None, "objects", line, False)
