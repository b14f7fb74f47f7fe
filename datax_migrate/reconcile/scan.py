"""One streaming pass over one side: row counts, per-partition counts, column aggregates, checksums."""

from __future__ import annotations

import decimal
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numba import njit

from datax_migrate.reconcile.checksum.encoding import ColumnWords, column_kind, column_words
from datax_migrate.reconcile.checksum.table import BucketChecksums, RowHasher
from datax_migrate.reconcile.duplicates import KeyHashes

_NUMERIC = {"integer", "float", "decimal64", "decimal128"}
_ORDERED = _NUMERIC | {"boolean", "date", "timestamp", "timestamp_ntz"}
_SIZED = {"string", "binary"}
_AGGREGATED = _ORDERED | _SIZED
_BY_WORDS = {"integer", "date", "timestamp", "timestamp_ntz", "decimal64"} | _SIZED
"""Kinds whose first word array orders like the values (64-bit integers; byte lengths): aggregated from it."""
_WIDE = decimal.Context(prec=100)


@dataclass
class ColumnAggregates:
    """Aggregates of one column: NULL count, and where the kind has them, min, max and sum.

    Numeric, boolean, date and timestamp columns get their smallest and largest value; string and
    binary columns the shortest and longest byte length (ordering millions of strings costs more
    than hashing them, and the checksum already covers their content).
    """

    nulls: int = 0
    minimum: Any = None
    maximum: Any = None
    total: Any = None

    def merge(self, other: ColumnAggregates) -> None:
        """Take in the aggregates of other rows of the same column."""
        self.nulls += other.nulls
        self.minimum = _smaller(self.minimum, other.minimum)
        self.maximum = _larger(self.maximum, other.maximum)
        if other.total is not None:
            self.total = _plus(self.total, other.total)


@dataclass
class ScanSummary:
    """What one pass over a side found."""

    rows: int
    partition_rows: Counter[tuple[Any, ...]]
    aggregates: dict[str, ColumnAggregates]
    checksums: BucketChecksums
    seconds: float = 0.0
    kinds: dict[str, str] = field(default_factory=dict)
    key_hashes: KeyHashes | None = None

    def merge(self, other: ScanSummary) -> None:
        """Take in what a pass over other rows of the same side found (same columns and buckets)."""
        self.rows += other.rows
        self.partition_rows.update(other.partition_rows)
        for name, aggregates in other.aggregates.items():
            self.aggregates[name].merge(aggregates)
        self.checksums.merge(other.checksums)
        for name, kind in other.kinds.items():
            self.kinds.setdefault(name, kind)
        if self.key_hashes is not None and other.key_hashes is not None:
            self.key_hashes.merge(other.key_hashes)


class SideScanner:
    """Accumulates a :class:`ScanSummary` batch by batch.

    Args:
        columns: compared columns (case-insensitive), in checksum order.
        keys: key columns (bucket by key hash, and every row's key hash is kept to find repeated
            keys) or empty (bucket by row hash).
        buckets: bucket count (power of two), the same on both sides.
        partition_columns: columns whose value combinations get their own row count.
        expected_rows: rows the side is expected to hold (room for their key hashes is made at once).

    """

    def __init__(
        self,
        columns: Sequence[str],
        keys: Sequence[str],
        buckets: int,
        partition_columns: Sequence[str],
        expected_rows: int | None = None,
    ):
        """Start empty."""
        self.columns = list(columns)
        self.partition_columns = list(partition_columns)
        self.hasher = RowHasher(columns, keys, buckets)
        self.summary = ScanSummary(
            0,
            Counter(),
            {c: ColumnAggregates() for c in columns},
            BucketChecksums(buckets),
            key_hashes=KeyHashes(expected_rows or 1 << 16) if keys else None,
        )

    def scan(self, batches: Iterable[pa.RecordBatch], on_batch: Callable[[int], None] | None = None) -> ScanSummary:
        """Consume ``batches``; ``on_batch`` gets each batch's row count."""
        for batch in batches:
            if batch.num_rows:
                self.add(batch)
            if on_batch is not None:
                on_batch(batch.num_rows)
        return self.summary

    def add(self, batch: pa.RecordBatch) -> None:
        """Count one batch."""
        summary = self.summary
        summary.rows += batch.num_rows
        arrays = self.hasher.arrays(batch)
        encoded = [column_words(array) for array in arrays]
        keys = summary.key_hashes.reserve(batch.num_rows) if summary.key_hashes is not None else None
        summary.checksums.add(self.hasher.hash_words(encoded, batch.num_rows, keys))
        for name, array, words in zip(self.columns, arrays, encoded, strict=True):
            kind = column_kind(array.type).name
            summary.kinds.setdefault(name, kind)
            _aggregate(summary.aggregates[name], array, kind, words)
        if self.partition_columns:
            lookup = {name.lower(): i for i, name in enumerate(batch.schema.names)}
            parts = pa.table(
                [batch.column(lookup[c.lower()]) for c in self.partition_columns], names=self.partition_columns
            )
            counted = parts.group_by(self.partition_columns, use_threads=False).aggregate([([], "count_all")])
            for row in counted.to_pylist():
                summary.partition_rows[tuple(row[c] for c in self.partition_columns)] += row["count_all"]


def _aggregate(into: ColumnAggregates, array: pa.Array, kind: str, words: ColumnWords) -> None:
    into.nulls += array.null_count
    if kind not in _AGGREGATED or array.null_count == len(array):
        return
    if kind in _BY_WORDS:
        _aggregate_words(into, array, kind, words)
        return
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    bounds = pc.min_max(pc.binary_length(array) if kind in _SIZED else array)
    into.minimum = _smaller(into.minimum, bounds["min"].as_py())
    into.maximum = _larger(into.maximum, bounds["max"].as_py())
    if kind in _NUMERIC:
        into.total = _plus(into.total, _sum(array, kind))


def _aggregate_words(into: ColumnAggregates, array: pa.Array, kind: str, words: ColumnWords) -> None:
    """Min, max and sum from the words the checksum computed: 64-bit values, or byte lengths (strings)."""
    values = words.parts[0]
    valid = words.valid if words.valid is not None else _ALL_VALID
    low, high, high_sum, low_sum = _int_aggregates(values, valid, words.valid is not None)
    if kind in _SIZED:
        smallest, largest = int(values[low]), int(values[high])
    else:
        smallest, largest = array[low].as_py(), array[high].as_py()
    into.minimum = _smaller(into.minimum, smallest)
    into.maximum = _larger(into.maximum, largest)
    if kind in _NUMERIC:
        total = int(high_sum) * (1 << 32) + int(low_sum)
        summed = total if kind == "integer" else decimal.Decimal(total).scaleb(-array.type.scale, _WIDE)
        into.total = _plus(into.total, summed)


_ALL_VALID = np.ones(1, dtype=np.bool_)


@njit(nogil=True, cache=True)
def _int_aggregates(values: np.ndarray, valid: np.ndarray, has_nulls: bool) -> tuple:  # type: ignore[type-arg]
    """Index of the first smallest and first largest non-NULL value, and the exact sum in 32-bit halves.

    The halves summed apart cannot overflow below 2**31 rows.
    """
    low = high = -1
    high_sum = np.int64(0)
    low_sum = np.int64(0)
    for i in range(values.shape[0]):
        if has_nulls and not valid[i]:
            continue
        v = np.int64(values[i])
        if low < 0 or v < values[low]:
            low = i
        if high < 0 or v > values[high]:
            high = i
        high_sum += v >> 32
        low_sum += v & 0xFFFFFFFF
    return low, high, high_sum, low_sum


def _plus(total: Any, more: Any) -> Any:
    """``total + more`` (``total`` may be ``None``); decimals exactly, not to the default 28 digits."""
    if total is None:
        return more
    return _WIDE.add(total, more) if isinstance(more, decimal.Decimal) else total + more


def _smaller(a: Any, b: Any) -> Any:
    """The smaller of two partial minimums; NaN only when both are (as pyarrow's ``min_max`` does)."""
    if _unset(b):
        return b if a is None else a
    return b if _unset(a) or b < a else a


def _larger(a: Any, b: Any) -> Any:
    """The larger of two partial maximums; NaN only when both are."""
    if _unset(b):
        return b if a is None else a
    return b if _unset(a) or b > a else a


def _unset(value: Any) -> bool:
    """No bound yet: ``None``, or NaN (the bound of rows that are all NaN)."""
    return value is None or (isinstance(value, float) and value != value)


def _sum(array: pa.Array, kind: str) -> float | decimal.Decimal:
    """Sum of a float or wide decimal column (integers and narrow decimals: :func:`_aggregate_words`)."""
    if kind == "float":
        return float(pc.sum(array.cast(pa.float64())).as_py() or 0.0)
    result = pc.sum(array.cast(pa.decimal128(38, array.type.scale))).as_py()
    return result if result is not None else decimal.Decimal(0)


def sized(kind: str) -> bool:
    """Whether min and max of columns of ``kind`` are byte lengths."""
    return kind in _SIZED


def numeric(kind: str) -> bool:
    """Whether columns of ``kind`` get a sum."""
    return kind in _NUMERIC
