"""Engines run a file-group task over every file group of a conversion.

The task (read Delta files, write one Iceberg data file) is the same everywhere; an engine decides
where it runs. :class:`LocalEngine` uses a thread pool (Arrow and Parquet release the GIL, so both
cores work).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import Protocol, TypeVar

from datax_migrate.convert.plan import FileGroup

Result = TypeVar("Result")


class Cancelled(Exception):
    """Raised inside a task when the conversion is being abandoned."""


class Engine(Protocol):
    """Runs ``task`` once per file group and returns the results in group order."""

    def run(
        self,
        groups: Sequence[FileGroup],
        task: Callable[[FileGroup, threading.Event], Result],
        on_done: Callable[[FileGroup, Result], None] | None = None,
    ) -> list[Result]:
        """Run every group; on the first failure stop the others and raise it."""
        ...


class LocalEngine:
    """Runs file-group tasks on a thread pool in this process."""

    def __init__(self, workers: int | None = None) -> None:
        """Use ``workers`` threads (default: one per core)."""
        self.workers = workers or os.cpu_count() or 1

    def run(
        self,
        groups: Sequence[FileGroup],
        task: Callable[[FileGroup, threading.Event], Result],
        on_done: Callable[[FileGroup, Result], None] | None = None,
    ) -> list[Result]:
        """Run every group; on the first failure (or Ctrl-C) stop the others and raise it."""
        stop = threading.Event()
        results: dict[int, Result] = {}
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="datax-convert") as pool:
            futures: dict[Future[Result], FileGroup] = {pool.submit(task, g, stop): g for g in groups}
            pending = set(futures)
            try:
                while pending:
                    done, pending = wait(pending, return_when=FIRST_EXCEPTION, timeout=0.5)
                    for future in done:
                        group = futures[future]
                        results[group.index] = future.result()
                        if on_done is not None:
                            on_done(group, results[group.index])
            except BaseException:
                stop.set()
                for future in pending:
                    future.cancel()
                wait(pending)
                raise
        return [results[g.index] for g in groups]
