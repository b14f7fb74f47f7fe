"""The source side of a conversion: a Delta snapshot, its file groups and a read-ahead buffer.

Opening a source needs no Iceberg code, so the command line opens it (and starts reading data)
while pyiceberg is imported and the target catalog connects; the writers then find the first file
groups already decoded. Read-ahead stays within a byte budget of decoded data held, and starts no
new group once the writers have asked for their first one: from then on the writers read the rest
themselves, so the decoded data held at once does not depend on how far reading could run ahead of
writing (on a large table it would fill the whole budget).
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import pyarrow as pa

from datax_migrate.convert.engine import Cancelled
from datax_migrate.convert.plan import DEFAULT_SPLIT_MIN_BYTES, DEFAULT_TARGET_FILE_BYTES, FileGroup, plan_file_groups
from datax_migrate.delta.commit_times import AUTO
from datax_migrate.delta.scan import FileReader
from datax_migrate.delta.table import DeltaSnapshot, DeltaTable

DEFAULT_READ_AHEAD_BYTES = 256 * 1024 * 1024


class ConversionSource:
    """A Delta table at one version, planned into file groups, optionally reading ahead.

    Example:
        >>> source = ConversionSource.open("s3://lake/sales", version=3)
        >>> source.start_read_ahead()
    """

    def __init__(
        self,
        snapshot: DeltaSnapshot,
        target_file_bytes: int = DEFAULT_TARGET_FILE_BYTES,
        workers: int | None = None,
        split_min_bytes: int = DEFAULT_SPLIT_MIN_BYTES,
    ) -> None:
        """Plan ``snapshot`` into file groups of about ``target_file_bytes`` of Delta data for ``workers``.

        ``split_min_bytes``: see :func:`~datax_migrate.convert.plan.plan_file_groups`.
        """
        self.snapshot = snapshot
        self.reader = FileReader(snapshot)
        self.groups = plan_file_groups(self.reader, target_file_bytes, workers or os.cpu_count() or 1, split_min_bytes)
        self._ahead: dict[int, Future[tuple[list[pa.RecordBatch], int]]] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._held = 0
        self._budget = DEFAULT_READ_AHEAD_BYTES
        self._writers_started = False  # once a writer has asked for a group, no new group is read ahead
        self._next = 0  # position in self.groups of the next group to read ahead

    @classmethod
    def open(
        cls,
        uri: str,
        version: int | None = None,
        timestamp: dt.datetime | None = None,
        target_file_bytes: int = DEFAULT_TARGET_FILE_BYTES,
        workers: int | None = None,
        commit_times: str = AUTO,
        split_min_bytes: int = DEFAULT_SPLIT_MIN_BYTES,
    ) -> ConversionSource:
        """Replay the Delta log of ``uri`` at ``version`` / ``timestamp`` (default latest); plan it for ``workers``.

        ``commit_times`` (``auto``, ``mtime``, ``commit-info``) says how commit times are read: see
        :class:`~datax_migrate.delta.commit_times.CommitClock`. ``split_min_bytes``: see
        :func:`~datax_migrate.convert.plan.plan_file_groups`.
        """
        table = DeltaTable(uri, commit_times=commit_times)
        snapshot = table.snapshot(version=version, timestamp=timestamp)
        return cls(snapshot, target_file_bytes, workers, split_min_bytes)

    def start_read_ahead(self, budget_bytes: int = DEFAULT_READ_AHEAD_BYTES, workers: int = 2) -> None:
        """Start decoding file groups in the background, in order, while under ``budget_bytes``.

        Each of ``workers`` takes the next group, as long as the decoded bytes held are under the
        budget and no writer has asked for a group yet; groups being read when the writers start
        are finished, and no new one is started. Within a group, reading ahead stops at a file
        boundary once the bytes held would pass the budget (the writers then read the rest of that
        group themselves).
        """
        if self._pool is not None:
            return
        self._budget = budget_bytes
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="datax-read-ahead")
        for _ in range(workers):
            self._read_next()

    def batches(self, group: FileGroup) -> Iterator[pa.RecordBatch]:
        """The live rows of a file group, from the read-ahead buffer when it holds them."""
        with self._lock:
            self._writers_started = True
            future = self._ahead.pop(group.index, None)
        files_read = 0
        if future is not None:
            batches, files_read = future.result()
            del future
            held = sum(batch.nbytes for batch in batches)
            yield from batches
            del batches
            with self._lock:
                self._held -= held
        for add in group.files[files_read:]:
            yield from self.reader.batches(add)

    def close(self) -> None:
        """Stop reading ahead and drop what was buffered."""
        with self._lock:
            self._stop.set()
            futures = list(self._ahead.values())
            self._ahead.clear()
        for future in futures:
            future.cancel()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def _read_next(self) -> None:
        """Read the next group, if under budget and the writers have not started; chains itself when done."""
        with self._lock:
            if self._pool is None or self._stop.is_set() or self._held >= self._budget or self._writers_started:
                return
            if self._next == len(self.groups):
                return
            group = self.groups[self._next]
            self._next += 1
            future = self._pool.submit(self._read_group, group)
            self._ahead[group.index] = future
        future.add_done_callback(lambda _: self._read_next())

    def _read_group(self, group: FileGroup) -> tuple[list[pa.RecordBatch], int]:
        """Decode the group's files in order; stop at a file boundary when over budget."""
        batches: list[pa.RecordBatch] = []
        for files_read, add in enumerate(group.files):
            file_batches, file_bytes = [], 0
            for batch in self.reader.batches(add):
                if self._stop.is_set():
                    raise Cancelled("read-ahead stopped")
                file_batches.append(batch)
                file_bytes += batch.nbytes
                with self._lock:
                    over_budget = self._held + file_bytes > self._budget
                if over_budget:
                    return batches, files_read
            with self._lock:
                self._held += file_bytes
            batches += file_batches
        return batches, len(group.files)
