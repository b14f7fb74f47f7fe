"""Console progress for long jobs (on stderr, only when it is a terminal)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from datax_migrate.convert.table import Progress as ConversionProgress


@contextmanager
def conversion_progress(label: str) -> Iterator[Callable[[ConversionProgress], None]]:
    """A progress bar over Delta files converted; yields the callback to hand to ``convert_table``."""
    console = Console(stderr=True)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("files  {task.fields[rows]:,} rows"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not sys.stderr.isatty(),
    ) as bar:
        task = bar.add_task(label, total=None, rows=0)

        def update(progress: ConversionProgress) -> None:
            bar.update(task, completed=progress.files_done, total=progress.files_total, rows=progress.rows_written)

        yield update
