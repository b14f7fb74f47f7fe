"""Order-independent table checksums, whole and per bucket, over the canonical row encoding.

A row's hash is MurmurHash3_x86_32 of its canonical words (:mod:`.encoding`) under two seeds: two
32-bit lanes, 64 bits. A table's checksum is its row count and, per lane, the sum of the row
hashes modulo 2**32: it does not depend on row order or batching, and a duplicated row changes it.
Rows also fall into buckets (by the hash of their key columns, or by their own hash without keys)
whose checksums say where the differences are. docs/reconcile-checksum.md has the details.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from datax_migrate.reconcile.encoding import encode_batch
from datax_migrate.reconcile.rowhash import murmur_rows

_LOW16 = np.uint32(0xFFFF)


@dataclass(frozen=True)
class Checksum:
    """Row count and order-independent digest of a set of rows.

    Attributes:
        rows: number of rows.
        digest: the two lane sums modulo 2**32, as 16 hex digits (lane 1 first).

    """

    rows: int
    digest: str


@dataclass(frozen=True)
class RowHashes:
    """Per-row hashes of one batch: the two lanes and the bucket of each row."""

    lane_1: np.ndarray
    lane_2: np.ndarray
    bucket: np.ndarray


class RowHasher:
    """Hashes batches over ``columns`` and assigns each row to one of ``buckets`` buckets.

    Args:
        columns: the compared columns, in order (matched case-insensitively).
        keys: key columns (a subset of ``columns``); a row's bucket comes from the hash of its keys,
            or from its own hash when there are none.
        buckets: bucket count, a power of two.

    """

    def __init__(self, columns: Sequence[str], keys: Sequence[str], buckets: int) -> None:
        """Check the arguments; the hashing happens in :meth:`hash`."""
        if buckets < 1 or buckets & (buckets - 1):
            raise ValueError(f"buckets must be a power of two, not {buckets}")
        lowered = [c.lower() for c in columns]
        self.columns = list(columns)
        self.key_indexes = np.array([lowered.index(k.lower()) for k in keys], dtype=np.int64)
        self.buckets = buckets

    def hash(self, batch: pa.RecordBatch) -> RowHashes:
        """Both hash lanes and the bucket of every row of ``batch``."""
        encoded = encode_batch(batch, self.columns)
        lane_1, lane_2, by = murmur_rows(encoded.words, encoded.nulls, encoded.starts, encoded.widths, self.key_indexes)
        return RowHashes(lane_1, lane_2, (by & np.uint32(self.buckets - 1)).astype(np.int64))


class BucketChecksums:
    """Accumulates row counts and lane sums per bucket, batch by batch."""

    def __init__(self, buckets: int) -> None:
        """Start with every bucket empty."""
        self.rows = np.zeros(buckets, dtype=np.int64)
        # Lane sums kept as exact integers, split in 16-bit halves so float64 bincounts stay exact.
        self._sums = np.zeros((4, buckets), dtype=np.int64)

    def add(self, hashes: RowHashes) -> None:
        """Count the rows of one hashed batch."""
        n = len(self.rows)
        self.rows += np.bincount(hashes.bucket, minlength=n)
        for index, lane in enumerate((hashes.lane_1, hashes.lane_2)):
            for half, part in enumerate((lane & _LOW16, lane >> np.uint32(16))):
                self._sums[2 * index + half] += np.bincount(hashes.bucket, weights=part, minlength=n).astype(np.int64)

    def merge(self, other: BucketChecksums) -> None:
        """Add the rows ``other`` counted (sums are exact: merging in any order gives the same checksums)."""
        self.rows += other.rows
        self._sums += other._sums

    def lanes(self) -> np.ndarray:
        """Per-bucket lane sums modulo 2**32: an ``int64`` array of shape (2, buckets)."""
        low, high = self._sums[0::2], self._sums[1::2]
        return (low + (high << 16)) & 0xFFFFFFFF

    def total(self) -> Checksum:
        """The checksum of every row added."""
        lane_sums = [int(lane.sum()) & 0xFFFFFFFF for lane in self.lanes()]
        return Checksum(rows=int(self.rows.sum()), digest=f"{lane_sums[0]:08x}{lane_sums[1]:08x}")

    def differing(self, other: BucketChecksums) -> np.ndarray:
        """Indexes of the buckets whose count or sums differ from ``other``'s."""
        different = (self.rows != other.rows) | (self.lanes() != other.lanes()).any(axis=0)
        return np.flatnonzero(different)


def table_checksum(batches: Iterable[pa.RecordBatch], columns: Sequence[str]) -> Checksum:
    """The checksum of every row of ``batches`` over ``columns`` (one bucket)."""
    hasher, sums = RowHasher(columns, [], 1), BucketChecksums(1)
    for batch in batches:
        if batch.num_rows:
            sums.add(hasher.hash(batch))
    return sums.total()
