"""Where reconcile's passes over both sides run: the engine protocol, the local engine, row counting.

:class:`LocalScanEngine` reads both sides in this process; the Spark engine
(:mod:`datax_migrate.reconcile.spark_engine`) runs the same scanners in Spark tasks. Both count the
rows they read with :class:`RowCounter`, which reports :class:`ReconcileProgress`.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol, TypeVar

import numpy as np
import pyarrow as pa

from datax_migrate.errors import DataxError, ReconcileError
from datax_migrate.reconcile.checksum.table import RowHasher
from datax_migrate.reconcile.diff.rows import rows_in_buckets
from datax_migrate.reconcile.duplicates import KeyCounts, count_keys
from datax_migrate.reconcile.scan import ScanSummary, SideScanner
from datax_migrate.reconcile.sides import DeltaSide, IcebergSide

T = TypeVar("T")

READ_AHEAD_BYTES = 64 * 1024 * 1024
"""Decoded bytes a side's reader may hold ahead of its hashing (see :func:`read_ahead`)."""

@dataclass(frozen=True)
class ReconcileProgress:
    """Rows read so far, per side, in the current pass (``"scan"`` or ``"row diff"``)."""

    phase: str
    source_rows: int
    target_rows: int
    expected_rows: int | None


ProgressCallback = Callable[[ReconcileProgress], None]


class ScanEngine(Protocol):
    """Where the two passes over both sides run: :class:`LocalScanEngine`, or Spark's."""

    def scan(
        self, delta: DeltaSide, iceberg: IcebergSide, new_scanner: Callable[[], SideScanner], counter: RowCounter
    ) -> tuple[ScanSummary, ScanSummary]:
        """Scan both sides with scanners from ``new_scanner``; the summaries of source and target."""
        ...

    def rows_in_buckets(
        self, delta: DeltaSide, iceberg: IcebergSide, hasher: RowHasher, buckets: np.ndarray, counter: RowCounter
    ) -> tuple[pa.Table, pa.Table]:
        """The rows of both sides that fall into ``buckets``."""
        ...

    def key_counts(
        self, delta: DeltaSide, iceberg: IcebergSide, keys: list[str], hashes: np.ndarray, counter: RowCounter
    ) -> tuple[KeyCounts, KeyCounts]:
        """Exact row counts, on both sides, of the key values whose 64-bit key hash is in ``hashes``."""
        ...


class LocalScanEngine:
    """Reads both sides at once in this process, each on its own thread (readers and kernels release the GIL)."""

    def scan(
        self, delta: DeltaSide, iceberg: IcebergSide, new_scanner: Callable[[], SideScanner], counter: RowCounter
    ) -> tuple[ScanSummary, ScanSummary]:
        """Scan both sides with scanners from ``new_scanner``; the summaries of source and target."""
        return _both(
            lambda: _repeats_found(new_scanner().scan(read_ahead(delta.batches()), counter.source)),
            lambda: _repeats_found(new_scanner().scan(read_ahead(_iceberg_batches(iceberg)), counter.target)),
        )

    def rows_in_buckets(
        self, delta: DeltaSide, iceberg: IcebergSide, hasher: RowHasher, buckets: np.ndarray, counter: RowCounter
    ) -> tuple[pa.Table, pa.Table]:
        """The rows of both sides that fall into ``buckets``."""
        return _both(
            lambda: rows_in_buckets(counted(delta.batches(), counter.source), hasher, buckets),
            lambda: rows_in_buckets(counted(_iceberg_batches(iceberg), counter.target), hasher, buckets),
        )

    def key_counts(
        self, delta: DeltaSide, iceberg: IcebergSide, keys: list[str], hashes: np.ndarray, counter: RowCounter
    ) -> tuple[KeyCounts, KeyCounts]:
        """Exact row counts, on both sides, of the key values whose 64-bit key hash is in ``hashes``."""
        return _both(
            lambda: count_keys(counted(delta.batches(), counter.source), keys, hashes),
            lambda: count_keys(counted(_iceberg_batches(iceberg), counter.target), keys, hashes),
        )


def _repeats_found(summary: ScanSummary) -> ScanSummary:
    """``summary`` with its repeated key hashes found (on the side's own thread)."""
    if summary.key_hashes is not None:
        summary.key_hashes.repeated()
    return summary


def _both(source: Callable[[], T], target: Callable[[], T]) -> tuple[T, T]:
    """Run both sides at once (the readers and kernels release the GIL)."""
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="reconcile") as pool:
        mine, theirs = pool.submit(source), pool.submit(target)
        return mine.result(), theirs.result()


def _iceberg_batches(iceberg: IcebergSide) -> Iterator[pa.RecordBatch]:
    try:
        yield from iceberg.batches()
    except DataxError:
        raise
    except (OSError, ValueError) as exc:
        raise ReconcileError(f"cannot read Iceberg table {iceberg.name}: {exc}") from exc


def read_ahead(batches: Iterator[pa.RecordBatch], budget_bytes: int = READ_AHEAD_BYTES) -> Iterator[pa.RecordBatch]:
    """``batches``, decoded on a thread of their own while the caller works on the ones before.

    The reader stays at most ``budget_bytes`` of decoded batches ahead (always at least one batch), so
    decoding goes on while the caller hashes, or waits for the compiled kernels to load on its first
    batch. An error of the reader is raised to the caller where its batch would have come; when the
    caller stops early, the reader stops at its next batch.
    """
    buffer = _AheadBuffer(budget_bytes)
    reader = threading.Thread(target=buffer.fill, args=(batches,), name="reconcile-read-ahead", daemon=True)
    reader.start()
    try:
        yield from buffer.drain()
    finally:
        buffer.stop()
        reader.join()


class _AheadBuffer:
    """Batches handed from a reader thread to the caller of :func:`read_ahead`, within a byte budget."""

    def __init__(self, budget_bytes: int) -> None:
        self.budget = budget_bytes
        self.held = 0
        self.batches: deque[pa.RecordBatch] = deque()
        self.done = self.stopped = False
        self.error: BaseException | None = None
        self.changed = threading.Condition()

    def fill(self, batches: Iterator[pa.RecordBatch]) -> None:
        """Read ``batches`` into the buffer (on the reader thread) until they end or :meth:`stop`."""
        try:
            for batch in batches:
                with self.changed:
                    while self.batches and self.held >= self.budget and not self.stopped:
                        self.changed.wait()
                    if self.stopped:
                        break
                    self.batches.append(batch)
                    self.held += batch.nbytes
                    self.changed.notify_all()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread, raised there
            with self.changed:
                self.error = exc
        finally:
            close = getattr(batches, "close", None)
            if close is not None:
                close()
            with self.changed:
                self.done = True
                self.changed.notify_all()

    def drain(self) -> Iterator[pa.RecordBatch]:
        """The batches in order, as the reader provides them; its error once the batches before it are out."""
        while True:
            with self.changed:
                while not self.batches and not self.done:
                    self.changed.wait()
                if self.batches:
                    batch = self.batches.popleft()
                    self.held -= batch.nbytes
                    self.changed.notify_all()
                elif self.error is not None:
                    raise self.error
                else:
                    return
            yield batch

    def stop(self) -> None:
        """Tell the reader to stop at its next batch and let go of what the buffer holds."""
        with self.changed:
            self.stopped = True
            self.batches.clear()
            self.held = 0
            self.changed.notify_all()


def counted(batches: Iterator[pa.RecordBatch], on_batch: Callable[[int], None]) -> Iterator[pa.RecordBatch]:
    """``batches`` passed through, ``on_batch`` told each one's row count."""
    for batch in batches:
        on_batch(batch.num_rows)
        yield batch


class RowCounter:
    """Counts the rows read per side in one pass and reports them to the progress callback."""

    def __init__(self, phase: str, expected: int | None, progress: ProgressCallback | None) -> None:
        """Count for ``phase``, out of ``expected`` rows per side (if known)."""
        self.phase, self.expected, self.progress = phase, expected, progress
        self.rows = [0, 0]
        self._lock = threading.Lock()

    def source(self, rows: int) -> None:
        """``rows`` more rows of the source were read."""
        self.add(0, rows)

    def target(self, rows: int) -> None:
        """``rows`` more rows of the target were read."""
        self.add(1, rows)

    def add(self, side: int, rows: int) -> None:
        """``rows`` more rows of side 0 (source) or 1 (target) were read."""
        with self._lock:
            self._add(side, rows)

    def _add(self, side: int, rows: int) -> None:
        self.rows[side] += rows
        if self.progress is not None:
            self.progress(ReconcileProgress(self.phase, self.rows[0], self.rows[1], self.expected))

