"""Console progress for long jobs, on stderr.

On a terminal: a live bar. Elsewhere (CI logs, cron, ``nohup``): one plain line at most every
``interval`` seconds, and a last one when the job ends, so long runs are never silent.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from datax_migrate.convert.table import Progress as ConversionProgress

ProgressCallback = Callable[[ConversionProgress], None]


@contextmanager
def conversion_progress(label: str, interval: float = 10.0) -> Iterator[ProgressCallback]:
    """Report conversion progress; yields the callback to hand to ``convert_table``."""
    if sys.stderr.isatty():
        with _bar(label) as update:
            yield update
    else:
        yield _lines(label, interval)


@contextmanager
def _bar(label: str) -> Iterator[ProgressCallback]:
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("files  {task.fields[rows]:,} rows"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None, rows=0)

        def update(progress: ConversionProgress) -> None:
            bar.update(task, completed=progress.files_done, total=progress.files_total, rows=progress.rows_written)

        yield update


def _lines(label: str, interval: float) -> ProgressCallback:
    started = last = time.monotonic()

    def update(progress: ConversionProgress) -> None:
        nonlocal last
        now = time.monotonic()
        finished = progress.groups_done == progress.groups_total
        if finished or now - last >= interval:
            last = now
            print(
                f"{label}: {progress.files_done}/{progress.files_total} Delta files, "
                f"{progress.rows_written:,} rows, {now - started:.0f} s",
                file=sys.stderr,
                flush=True,
            )

    return update
