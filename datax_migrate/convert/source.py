"""The source side of a conversion: a Delta snapshot, its file groups and a read-ahead buffer.

Opening a source needs no Iceberg code, so the command line opens it (and starts reading data)
while pyiceberg is imported and the target catalog connects; the writers then find the first file
groups already decoded. Read-ahead reads groups in plan order, within a byte budget of decoded data
held. Once the writers have asked for their first group it starts no new group outside the last
round: from then on the writers read the rest themselves, so on a large table the decoded data held
at once does not depend on how far reading could run ahead of writing (it would fill the whole
budget). A read-ahead that has reached the last round goes on with it while the writers encode the
groups before, so no core waits at the end while one writer decodes the last group. The read-ahead
threads run at a lower priority than the rest of the process: they use the CPU that the main thread
and the writers, whose work decides when the conversion ends, leave idle.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import pyarrow as pa

from datax_migrate.convert.engine import Cancelled
from datax_migrate.convert.plan import (
    DEFAULT_SPLIT_MIN_BYTES,
    DEFAULT_TARGET_FILE_BYTES,
    FileGroup,
    last_round_start,
    plan_file_groups,
)
from datax_migrate.delta.actions import AddFile
from datax_migrate.delta.commit_times import AUTO
from datax_migrate.delta.scan import FileReader
from datax_migrate.delta.table import DeltaSnapshot, DeltaTable

DEFAULT_READ_AHEAD_BYTES = 256 * 1024 * 1024
READ_AHEAD_NICENESS = 10
"""How much lower the read-ahead threads' priority is than the process's (:func:`_yield_to_other_threads`)."""


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
        workers = workers or os.cpu_count() or 1
        self.groups = plan_file_groups(self.reader, target_file_bytes, workers, split_min_bytes)
        self._ahead: dict[int, Future[tuple[list[pa.RecordBatch], int]]] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._held = 0
        self._budget = DEFAULT_READ_AHEAD_BYTES
        self._decoded = self._delta_bytes = 0  # decoded bytes of the files read ahead, and their Delta bytes
        self._reserved = 0  # estimated decoded bytes of the first files of the groups being read
        self._taken: set[int] = set()  # groups the writers have asked for: never read ahead
        self._next = 0  # position in self.groups of the next group to read ahead
        self._last_round = last_round_start(len(self.groups), workers)
        """Groups from here on are read ahead even once the writers have started."""
        self._writers = workers  # a group read ahead holds at most budget / writers (see start_read_ahead)

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
        budget and no writer has asked for a group yet, or the next group is in the last round and
        no writer has asked for it; groups being read when the writers start are finished. Within a
        group, reading ahead stops at a file boundary once the bytes held would pass the budget, or
        once the group's next file would pass its share of the budget (the budget divided by the
        number of writers the groups were planned for): the first files of the next groups come
        before a group's later files, so every writer starts on decoded data, and the later files
        of one group are not held while its writer encodes the first. The writers read the rest of
        a group themselves. Bytes count as held until a writer takes the batch.
        """
        if self._pool is not None:
            return
        self._budget = budget_bytes
        self._pool = ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="datax-read-ahead", initializer=_yield_to_other_threads
        )
        for _ in range(workers):
            self._read_next()

    def batches(self, group: FileGroup) -> Iterator[pa.RecordBatch]:
        """The live rows of a file group, from the read-ahead buffer when it holds them.

        Files not read ahead are read here; those of a group written in :attr:`~FileGroup.parts`
        (a last round with idle cores) are decoded on Arrow's thread pool.
        """
        with self._lock:
            self._taken.add(group.index)
            future = self._ahead.pop(group.index, None)
        files_read = 0
        if future is not None:
            batches, files_read = future.result()
            del future
            batches.reverse()  # taken from the end, so the list lets go of each batch as it is handed over
            try:
                while batches:
                    batch = batches.pop()
                    self._release(batch.nbytes)
                    yield batch
            finally:
                self._release(sum(batch.nbytes for batch in batches))
        for add in group.files[files_read:]:
            yield from self.reader.batches(add, use_threads=group.parts > 1)

    def _release(self, nbytes: int) -> None:
        """``nbytes`` of read-ahead data are no longer held; the budget may now allow the next group."""
        with self._lock:
            self._held -= nbytes
        self._read_next()

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
        """Read the next group if under budget and not taken (once writers have started: in the last round only).

        Chains itself when a read is done; also called whenever a writer takes read-ahead batches.
        """
        with self._lock:
            if self._pool is None or self._stop.is_set() or self._held >= self._budget:
                return
            if self._next == len(self.groups) or (self._taken and self._next < self._last_round):
                return
            group = self.groups[self._next]
            first_file = self._decoded_estimate(group.files[0])
            if group.index in self._taken or self._held + self._reserved + first_file > self._budget:
                return  # the first file would not fit: reading it would be thrown away
            self._next += 1
            self._reserved += first_file
            future = self._pool.submit(self._read_group, group, first_file)
            self._ahead[group.index] = future
        future.add_done_callback(lambda _: self._read_next())

    def _decoded_estimate(self, add: AddFile) -> int:
        """Bytes ``add`` will decode to, at the ratio of the files read ahead so far (0 before the first)."""
        if not self._delta_bytes:
            return 0
        return add.size * self._decoded // self._delta_bytes

    def _read_group(self, group: FileGroup, reserved: int) -> tuple[list[pa.RecordBatch], int]:
        """Decode the group's files in order; stop at a file boundary when over budget.

        ``reserved``: the estimate for the first file that :meth:`_read_next` set aside, given back here.
        """
        try:
            return self._read_files(group)
        finally:
            with self._lock:
                self._reserved -= reserved

    def _read_files(self, group: FileGroup) -> tuple[list[pa.RecordBatch], int]:
        batches: list[pa.RecordBatch] = []
        group_bytes = 0
        for files_read, add in enumerate(group.files):
            if files_read and group_bytes + self._decoded_estimate(add) > self._budget // self._writers:
                return batches, files_read  # the group's share is used: the next groups' first files come first
            file_batches, file_bytes = [], 0
            for batch in self.reader.batches(add, pre_buffer=False):  # see _yield_to_other_threads
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
                self._decoded += file_bytes
                self._delta_bytes += add.size
            group_bytes += file_bytes
            batches += file_batches
        return batches, len(group.files)


def _yield_to_other_threads() -> None:
    """Make this read-ahead thread run mostly on CPU that the process's other threads leave idle.

    While the read-ahead decodes, the main thread imports the Iceberg side and opens the catalog,
    and the writers start only after that: with the read-ahead at the same priority, the main
    thread got about two thirds of a core on two cores (0.49 s of wall time for 0.30 s of CPU on
    the 5M-row unpartitioned benchmark table). On Linux a thread has a niceness of its own; the
    read-ahead's is raised by :data:`READ_AHEAD_NICENESS` (to at most 19). Elsewhere nothing changes.
    A thread started by a thread inherits its niceness, so the read-ahead reads without Arrow's
    pre-buffering: that would start Arrow's I/O threads, which every reader shares, from it.
    """
    if not sys.platform.startswith("linux"):
        return
    thread = threading.get_native_id()
    with contextlib.suppress(OSError):  # a system that refuses it: the read-ahead keeps its priority
        os.setpriority(os.PRIO_PROCESS, thread, min(os.getpriority(os.PRIO_PROCESS, thread) + READ_AHEAD_NICENESS, 19))
