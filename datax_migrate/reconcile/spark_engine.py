"""Reconcile on Spark: both sides' data files are scanned by Spark tasks, the driver merges.

Each task scans a share of the data files of either side with the same
:class:`~datax_migrate.reconcile.scan.SideScanner` the local engine uses and returns one summary
per side (with the key hashes of its rows, when there are keys); the driver merges them. Checksums
are exact sums, so they come out the same as the local engine's whatever the split; floating-point
column sums may differ from it in the last digits (the order of addition differs). The row diff
collects the rows of the chosen buckets the same way, and repeated keys are counted the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from datax_migrate.reconcile.checksum.table import RowHasher
from datax_migrate.reconcile.delta_side import DeltaPart, DeltaSide
from datax_migrate.reconcile.diff.rows import combine_rows, rows_in_buckets
from datax_migrate.reconcile.duplicates import KeyCounts, count_keys
from datax_migrate.reconcile.engine import RowCounter, counted
from datax_migrate.reconcile.scan import ScanSummary, SideScanner
from datax_migrate.reconcile.sides import IcebergPart, IcebergSide
from datax_migrate.spark.jobs import run_tasks

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog

    from datax_migrate.reconcile.engine import ProgressCallback
    from datax_migrate.reconcile.model import Report
    from datax_migrate.reconcile.run import ReconcileOptions

Part = DeltaPart | IcebergPart
Chunk = list[tuple[int, Part]]
TASKS_PER_CORE = 2


class SparkScanEngine:
    """Runs the passes of a reconciliation as Spark tasks of a ``SparkSession``."""

    def __init__(self, spark: Any, tasks_per_core: int = TASKS_PER_CORE) -> None:
        """Use ``spark``; split the files of both sides into ``tasks_per_core`` tasks per core."""
        self.spark = spark
        self.tasks_per_core = tasks_per_core

    def scan(
        self, delta: DeltaSide, iceberg: IcebergSide, new_scanner: Callable[[], SideScanner], counter: RowCounter
    ) -> tuple[ScanSummary, ScanSummary]:
        """Scan both sides with scanners from ``new_scanner``; the summaries of source and target."""
        merged = (new_scanner().summary, new_scanner().summary)

        def scan_chunk(chunk: Chunk) -> dict[int, ScanSummary]:
            scanners: dict[int, SideScanner] = {}
            for side, part in chunk:
                scanners.setdefault(side, new_scanner()).scan(part.batches())
            return {side: scanner.summary for side, scanner in scanners.items()}

        def merge(_: int, summaries: dict[int, ScanSummary]) -> None:
            for side, summary in summaries.items():
                merged[side].merge(summary)
                counter.add(side, summary.rows)

        run_tasks(self.spark, self._chunks(delta, iceberg), scan_chunk, merge)
        return merged

    def rows_in_buckets(
        self, delta: DeltaSide, iceberg: IcebergSide, hasher: RowHasher, buckets: np.ndarray, counter: RowCounter
    ) -> tuple[pa.Table, pa.Table]:
        """The rows of both sides that fall into ``buckets``."""
        found: tuple[list[pa.Table], list[pa.Table]] = ([], [])

        def collect_chunk(chunk: Chunk) -> list[tuple[int, pa.Table, int]]:
            collected = []
            for side, part in chunk:
                read: list[int] = []
                rows = rows_in_buckets(counted(part.batches(), read.append), hasher, buckets)
                collected.append((side, rows, sum(read)))
            return collected

        def gather(_: int, collected: list[tuple[int, pa.Table, int]]) -> None:
            for side, rows, read in collected:
                found[side].append(rows)
                counter.add(side, read)

        run_tasks(self.spark, self._chunks(delta, iceberg), collect_chunk, gather)
        return combine_rows(found[0], hasher.columns), combine_rows(found[1], hasher.columns)

    def key_counts(
        self, delta: DeltaSide, iceberg: IcebergSide, keys: list[str], hashes: np.ndarray, counter: RowCounter
    ) -> tuple[KeyCounts, KeyCounts]:
        """Exact row counts, on both sides, of the key values whose 64-bit key hash is in ``hashes``."""
        merged = (KeyCounts(), KeyCounts())

        def count_chunk(chunk: Chunk) -> list[tuple[int, KeyCounts, int]]:
            found = []
            for side, part in chunk:
                read: list[int] = []
                found.append((side, count_keys(counted(part.batches(), read.append), keys, hashes), sum(read)))
            return found

        def merge(_: int, found: list[tuple[int, KeyCounts, int]]) -> None:
            for side, counts, read in found:
                merged[side].merge(counts)
                counter.add(side, read)

        run_tasks(self.spark, self._chunks(delta, iceberg), count_chunk, merge)
        return merged

    def _chunks(self, delta: DeltaSide, iceberg: IcebergSide) -> list[Chunk]:
        """Both sides' files dealt round-robin, largest first, into a few tasks per core."""
        parts: list[tuple[int, Part]] = [(0, part) for part in delta.parts()]
        parts += [(1, part) for part in iceberg.parts()]
        parts.sort(key=lambda item: -_size(item[1]))
        count = max(1, min(len(parts), int(self.spark.sparkContext.defaultParallelism) * self.tasks_per_core))
        chunks: list[Chunk] = [[] for _ in range(count)]
        for position, item in enumerate(parts):
            chunks[position % count].append(item)
        return [chunk for chunk in chunks if chunk]


def _size(part: Part) -> int:
    return part.add.size if isinstance(part, DeltaPart) else part.task.file.file_size_in_bytes


def reconcile_table(
    spark: Any,
    source: str,
    catalog: Catalog,
    identifier: str,
    options: ReconcileOptions | None = None,
    progress: ProgressCallback | None = None,
) -> Report:
    """Reconcile a Delta table version with its Iceberg twin, both sides scanned by Spark tasks.

    Takes the arguments of :func:`datax_migrate.reconcile.reconcile_table`, plus the
    ``SparkSession``; the checks, checksums and report are the local engine's.
    """
    from datax_migrate.reconcile.run import reconcile_table as reconcile

    return reconcile(source, catalog, identifier, options, progress, engine=SparkScanEngine(spark))
