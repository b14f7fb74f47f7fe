"""The base class every inventory source implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator

from datax_migrate.inventory.model import Record

AlreadyDone = Callable[[str], bool]
"""Tells a source whether a record key was crawled by an earlier, interrupted run."""


class Source(ABC):
    """Somewhere objects to migrate are found: a workspace, a storage prefix, an export folder.

    A source yields records as it finds them and a :class:`~datax_migrate.inventory.model.CrawlFailure`
    for each object it cannot read, then goes on; it raises only when it cannot start at all.
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
