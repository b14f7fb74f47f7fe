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

from datax_migrate.errors import EncodingError
from datax_migrate.reconcile.checksum.encoding import ColumnWords, column_words
from datax_migrate.reconcile.checksum.rowhash import (
    SEED_1,
    SEED_2,
    absorb_pairs,
    absorb_words,
    bucket_sums,
    finish,
    null_bits,
    widen,
)


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
    """Per-row hashes of one batch: the two lanes and the bucket of each row.

    Attributes:
        lane_1: lane 1 of each row's hash (``uint32``).
        lane_2: lane 2 of each row's hash (``uint32``).
        bucket: each row's bucket (``uint32``).
        key: with key columns, the 64-bit hash of each row's key (``uint64``: lane 1 of the key
            stream in the low half, lane 2 in the high half); ``None`` without.

    """

    lane_1: np.ndarray
    lane_2: np.ndarray
    bucket: np.ndarray
    key: np.ndarray | None = None


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

    def arrays(self, batch: pa.RecordBatch) -> list[pa.Array]:
        """The compared columns of ``batch``, in order.

        Raises:
            EncodingError: a column is missing.

        """
        lookup = {name.lower(): i for i, name in enumerate(batch.schema.names)}
        missing = [name for name in self.columns if name.lower() not in lookup]
        if missing:
            raise EncodingError(f"column {missing[0]!r} is not in {batch.schema.names}")
        return [batch.column(lookup[name.lower()]) for name in self.columns]

    def hash(self, batch: pa.RecordBatch) -> RowHashes:
        """Both hash lanes, the bucket and (with keys) the key hash of every row of ``batch``.

        Raises:
            EncodingError: a column is missing or has a type without canonical encoding.

        """
        return self.hash_words([column_words(array) for array in self.arrays(batch)], batch.num_rows)

    def hash_words(self, encoded: list[ColumnWords], rows: int, key_into: np.ndarray | None = None) -> RowHashes:
        """:meth:`hash` of a batch of ``rows`` rows whose compared columns are already ``encoded``.

        ``key_into`` (``uint64``, ``rows`` long) receives the key hashes, if given.
        """
        lane_1, lane_2 = _stream_hashes(encoded, range(len(encoded)), rows)
        if not len(self.key_indexes):
            return RowHashes(lane_1, lane_2, lane_1 & np.uint32(self.buckets - 1))
        key_1, key_2 = _stream_hashes(encoded, self.key_indexes.tolist(), rows)
        key = key_into if key_into is not None else np.empty(rows, dtype=np.uint64)
        widen(key_1, key_2, key)
        return RowHashes(lane_1, lane_2, key_1 & np.uint32(self.buckets - 1), key)


def wide(lane_1: np.ndarray, lane_2: np.ndarray) -> np.ndarray:
    """Two 32-bit hash lanes as one 64-bit hash (``uint64``, lane 1 in the low half)."""
    out = np.empty(len(lane_1), dtype=np.uint64)
    widen(lane_1, lane_2, out)
    return out


def _stream_hashes(encoded: list[ColumnWords], indexes: Sequence[int], rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Both lanes of the hash of each row's word stream over the columns ``encoded[indexes]``."""
    h1 = np.full(rows, SEED_1, dtype=np.uint32)
    h2 = np.full(rows, SEED_2, dtype=np.uint32)
    columns = [encoded[i] for i in indexes]
    mask_words = (len(columns) + 31) // 32
    count = np.full(rows, mask_words + sum(c.width for c in columns), dtype=np.uint32)
    for first in range(0, len(columns), 32):
        mask = np.zeros(rows, dtype=np.uint32)
        for bit, column in enumerate(columns[first : first + 32]):
            if column.valid is not None:
                null_bits(mask, count, column.valid, bit, column.width)
        absorb_words(h1, h2, mask, None)
    for column in columns:
        for part in column.parts:
            (absorb_pairs if part.dtype == np.int64 else absorb_words)(h1, h2, part, column.valid)
    finish(h1, count)
    finish(h2, count)
    return h1, h2


class BucketChecksums:
    """Accumulates row counts and lane sums per bucket, batch by batch."""

    def __init__(self, buckets: int) -> None:
        """Start with every bucket empty."""
        self.rows = np.zeros(buckets, dtype=np.int64)
        # Exact lane sums (below 2**31 rows a bucket they cannot overflow).
        self._sums = np.zeros((2, buckets), dtype=np.int64)

    def add(self, hashes: RowHashes) -> None:
        """Count the rows of one hashed batch."""
        bucket_sums(self.rows, self._sums, hashes.bucket, hashes.lane_1, hashes.lane_2)

    def merge(self, other: BucketChecksums) -> None:
        """Add the rows ``other`` counted (sums are exact: merging in any order gives the same checksums)."""
        self.rows += other.rows
        self._sums += other._sums

    def lanes(self) -> np.ndarray:
        """Per-bucket lane sums modulo 2**32: an ``int64`` array of shape (2, buckets)."""
        return self._sums & 0xFFFFFFFF

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
