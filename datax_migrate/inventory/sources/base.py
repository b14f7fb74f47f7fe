"""The base class every inventory source implements, and the bounded thread pool sources crawl with."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from datax_migrate.inventory.model import CrawlFailure, Record

AlreadyDone = Callable[[str], bool]
"""Tells a source whether a record key was crawled by an earlier, interrupted run."""

T = TypeVar("T")
R = TypeVar("R")


class Source(ABC):
    """Somewhere objects to migrate are found: a workspace, a storage prefix, an export folder.

    A source yields records as it finds them and a :class:`~datax_migrate.inventory.model.CrawlFailure`
    for each object it cannot read, then goes on; it raises only when it cannot start at all. It
    yields in the same order whatever its number of workers, from the caller's thread.
    """

    name: str
    """Short name recorded in failures: ``workspace``, ``storage``, ``export``."""

    @property
    @abstractmethod
    def description(self) -> str:
        """What is crawled, one line without credentials (``storage s3://lake/``)."""

    @abstractmethod
    def crawl(self, done: AlreadyDone) -> Iterator[Record]:
        """Yield the records and failures of this source.

        Args:
            done: Whether a record key is already in the inventory; the source skips the work for
                such objects (a resumed crawl).

        Raises:
            InventoryError: the source cannot be crawled at all (unreachable, not a folder).
        """


def ordered_map(work: Callable[[T], R], items: Iterable[T], workers: int) -> Iterator[R]:
    """``work`` of each item on up to ``workers`` threads, yielded in the order of ``items``.

    ``items`` is drawn lazily from the caller's thread, at most ``2 * workers`` ahead of the result
    the caller waits for, so a slow object holds back the yielding but not the work on the objects
    after it. An exception of ``work`` is raised when its result is reached; work not started when
    the caller stops is cancelled. With one worker everything runs in the caller's thread.
    """
    if workers <= 1:
        yield from map(work, items)
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="datax-inventory") as pool:
        pending: deque[Future[R]] = deque()
        try:
            for item in items:
                pending.append(pool.submit(work, item))
                if len(pending) >= 2 * workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


def crawl_each(work: Callable[[T], Record], items: Iterable[T | CrawlFailure], workers: int) -> Iterator[Record]:
    """:func:`ordered_map` of ``work`` over ``items``, passing the failures among them through in place."""

    def record(item: T | CrawlFailure) -> Record:
        return item if isinstance(item, CrawlFailure) else work(item)

    return ordered_map(record, items, workers)
