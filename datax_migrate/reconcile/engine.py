"""Where reconcile's passes over both sides run: the engine protocol, the local engine, row counting.

:class:`LocalScanEngine` reads both sides in this process; the Spark engine
(:mod:`datax_migrate.reconcile.spark_engine`) runs the same scanners in Spark tasks. Both count the
rows they read with :class:`RowCounter`, which reports :class:`ReconcileProgress`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol, TypeVar

import numpy as np
import pyarrow as pa

from datax_migrate.errors import DataxError, ReconcileError
from datax_migrate.reconcile.checksum.table import RowHasher
from datax_migrate.reconcile.delta_side import DeltaSide
from datax_migrate.reconcile.diff.rows import rows_in_buckets
from datax_migrate.reconcile.duplicates import KeyCounts, count_keys
from datax_migrate.reconcile.scan import ScanSummary, SideScanner
from datax_migrate.reconcile.sides import IcebergSide

T = TypeVar("T")


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
    """Reads both sides at once in this process (readers and kernels release the GIL).

    Each side is decoded on a thread of its own (:mod:`datax_migrate.prefetch`) and hashed on
    another, so decoding goes on while a side waits: the first kernel call sets the kernels up
    holding the GIL, and hashing and decoding do not take equally long.
    """

    def scan(
        self, delta: DeltaSide, iceberg: IcebergSide, new_scanner: Callable[[], SideScanner], counter: RowCounter
    ) -> tuple[ScanSummary, ScanSummary]:
        """Scan both sides with scanners from ``new_scanner``; the summaries of source and target."""
        return _both(
            lambda: _repeats_found(new_scanner().scan(delta.batches(ahead=True), counter.source)),
            lambda: _repeats_found(new_scanner().scan(_iceberg_batches(iceberg), counter.target)),
        )

    def rows_in_buckets(
        self, delta: DeltaSide, iceberg: IcebergSide, hasher: RowHasher, buckets: np.ndarray, counter: RowCounter
    ) -> tuple[pa.Table, pa.Table]:
        """The rows of both sides that fall into ``buckets``."""
        return _both(
            lambda: rows_in_buckets(counted(delta.batches(ahead=True), counter.source), hasher, buckets),
            lambda: rows_in_buckets(counted(_iceberg_batches(iceberg), counter.target), hasher, buckets),
        )

    def key_counts(
        self, delta: DeltaSide, iceberg: IcebergSide, keys: list[str], hashes: np.ndarray, counter: RowCounter
    ) -> tuple[KeyCounts, KeyCounts]:
        """Exact row counts, on both sides, of the key values whose 64-bit key hash is in ``hashes``."""
        return _both(
            lambda: count_keys(counted(delta.batches(ahead=True), counter.source), keys, hashes),
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
        yield from iceberg.batches(ahead=True)
    except DataxError:
        raise
    except (OSError, ValueError) as exc:
        raise ReconcileError(f"cannot read Iceberg table {iceberg.name}: {exc}") from exc


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
