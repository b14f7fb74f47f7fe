"""The keyed row comparison over the rows of the differing buckets, in Arrow and plain Python values.

Values keep their identity: an integer key stays an integer, a NULL stays NULL (never NaN), bytes
are compared as bytes, and NaN equals NaN (both sides hold the same value). Rows are matched by
key; a key held by several rows on one side is reported as a duplicate, and its rows are matched
whole, the unmatched ones listed as only in the source or only in the target.
"""

from __future__ import annotations

import decimal
import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from datax_migrate.reconcile.model import ColumnSummary, Difference
from datax_migrate.reconcile.tolerance import Tolerance
from datax_migrate.reconcile.values import plain

_NAN = ("NaN",)


@dataclass(frozen=True)
class KeyedComparison:
    """What the keyed comparison found: every difference, and a summary of each non-key column."""

    differences: list[Difference]
    columns: list[ColumnSummary]


def keyed_comparison(
    source: pa.Table, target: pa.Table, keys: list[str], tolerances: dict[str, Tolerance]
) -> KeyedComparison:
    """Rows only in ``source``, only in ``target``, duplicate keys, and cells that differ beyond ``tolerances``.

    Also a :class:`ColumnSummary` of each non-key column over the rows matched by key.
    ``source`` and ``target`` hold the same columns under the same names; ``tolerances`` are by
    lower-case column name.
    """
    mine, theirs = _rows_by_key(source, keys), _rows_by_key(target, keys)
    differences: list[Difference] = []
    left: list[int] = []
    right: list[int] = []
    for key in [*mine, *(k for k in theirs if k not in mine)]:
        ours, others = mine.get(key, []), theirs.get(key, [])
        if len(ours) == 1 and len(others) == 1:
            left.append(ours[0])
            right.append(others[0])
        else:
            differences += _unpaired(source, target, keys, ours, others)
    summaries = []
    for column in source.column_names:
        if column not in keys:
            found, summary = _cells(source, target, keys, column, left, right, tolerances.get(column.lower()))
            differences += found
            summaries.append(summary)
    return KeyedComparison(differences, summaries)


def _rows_by_key(table: pa.Table, keys: list[str]) -> dict[tuple[Any, ...], list[int]]:
    columns = [table.column(k).to_pylist() for k in keys]
    rows: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for index, key in enumerate(zip(*columns, strict=True)):
        rows[tuple(_canonical(v) for v in key)].append(index)
    return rows


def _unpaired(
    source: pa.Table, target: pa.Table, keys: list[str], mine: list[int], theirs: list[int]
) -> list[Difference]:
    """A key held by no row or by several rows on a side: its rows matched whole."""
    key = _key(source, keys, mine[0]) if mine else _key(target, keys, theirs[0])
    result = []
    if len(mine) > 1 or len(theirs) > 1:
        result.append(Difference("duplicate_key", key, None, len(mine), len(theirs)))
    (left, left_first), (right, right_first) = _tally(source, mine), _tally(target, theirs)
    for row, surplus in (left - right).items():
        result += [Difference("source_only", key, None, _values(source, keys, left_first[row]))] * surplus
    for row, surplus in (right - left).items():
        result += [Difference("target_only", key, None, None, _values(target, keys, right_first[row]))] * surplus
    return result


def _tally(table: pa.Table, rows: list[int]) -> tuple[Counter[tuple[Any, ...]], dict[tuple[Any, ...], int]]:
    """How often each whole row occurs among ``rows``, and the first position of each."""
    counts: Counter[tuple[Any, ...]] = Counter()
    first: dict[tuple[Any, ...], int] = {}
    for row in rows:
        whole = _whole_row(table, row)
        counts[whole] += 1
        first.setdefault(whole, row)
    return counts, first


def _whole_row(table: pa.Table, row: int) -> tuple[Any, ...]:
    return tuple(_canonical(table.column(c)[row].as_py()) for c in table.column_names)


def _values(table: pa.Table, keys: list[str], row: int) -> dict[str, Any]:
    """The values of a row's columns other than its key."""
    return {c: plain(table.column(c)[row].as_py()) for c in table.column_names if c not in keys}


def _cells(
    source: pa.Table,
    target: pa.Table,
    keys: list[str],
    column: str,
    left: list[int],
    right: list[int],
    tolerance: Tolerance | None,
) -> tuple[list[Difference], ColumnSummary]:
    if not left:
        return [], ColumnSummary(column, 0, 0)
    mine = source.column(column).take(pa.array(left, pa.int64()))
    theirs = target.column(column).take(pa.array(right, pa.int64()))
    candidates = pa.array(_maybe_different(mine, theirs), pa.int64())
    values = (candidates.to_pylist(), mine.take(candidates).to_pylist(), theirs.take(candidates).to_pylist())
    differences = []
    nulls, spread = 0, _Spread(_numeric(mine.type) and _numeric(theirs.type))
    for index, a, b in zip(*values, strict=True):
        if _canonical(a) == _canonical(b):
            continue
        nulls += (a is None) != (b is None)
        spread.add(a, b)
        if tolerance is not None and tolerance.accepts(a, b):
            continue
        differences.append(Difference("cell", _key(source, keys, left[index]), column, plain(a), plain(b)))
    summary = ColumnSummary(column, len(left), len(differences), nulls, plain(spread.absolute), spread.relative)
    return differences, summary


class _Spread:
    """The largest absolute and relative difference of numeric value pairs, as datacompy's ``Max Diff``."""

    def __init__(self, numeric: bool) -> None:
        """Start at 0 for a numeric column (no pair differs yet), else at ``None`` (not a number)."""
        self.absolute: Any = 0 if numeric else None
        self.relative: float | None = 0.0 if numeric else None

    def add(self, a: Any, b: Any) -> None:
        """Count the pair ``a`` (source), ``b`` (target) if both are finite numbers."""
        if not (_number(a) and _number(b)):
            return
        if isinstance(a, float) or isinstance(b, float):
            a, b = float(a), float(b)
        difference = abs(a - b)
        if self.absolute is None or difference > self.absolute:
            self.absolute = difference
        if b:
            relative = float(difference) / abs(float(b))
            self.relative = relative if self.relative is None else max(self.relative, relative)


def _numeric(kind: pa.DataType) -> bool:
    return pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)


def _number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float | decimal.Decimal):
        return False
    return value.is_finite() if isinstance(value, decimal.Decimal) else math.isfinite(value)


def _maybe_different(mine: pa.ChunkedArray, theirs: pa.ChunkedArray) -> np.ndarray:
    """Positions whose values may differ: a fast exact pass for flat types, every position otherwise."""
    everything = np.arange(len(mine))
    if pa.types.is_nested(mine.type) or pa.types.is_nested(theirs.type):
        return everything
    if mine.type != theirs.type:
        try:
            theirs = theirs.cast(mine.type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return everything
    try:
        same = pc.fill_null(pc.equal(mine, theirs), False)
    except pa.ArrowNotImplementedError:
        return everything
    same = pc.or_(same, pc.and_(pc.is_null(mine), pc.is_null(theirs)))
    if pa.types.is_floating(mine.type):
        same = pc.or_(same, pc.fill_null(pc.and_(pc.is_nan(mine), pc.is_nan(theirs)), False))
    return np.flatnonzero(~same.to_numpy(zero_copy_only=False))


def _key(table: pa.Table, keys: list[str], row: int) -> dict[str, Any]:
    return {k: plain(table.column(k)[row].as_py()) for k in keys}


def _canonical(value: Any) -> Any:
    """A hashable form of a Python value in which NaN equals NaN and maps ignore entry order."""
    if isinstance(value, float) and math.isnan(value):
        return _NAN
    if isinstance(value, dict):
        return tuple((k, _canonical(v)) for k, v in value.items())
    if isinstance(value, list):
        items = tuple(_canonical(v) for v in value)
        is_map = bool(value) and all(isinstance(v, tuple) and len(v) == 2 for v in value)
        return ("map", tuple(sorted(items, key=repr))) if is_map else items
    if isinstance(value, tuple):
        return tuple(_canonical(v) for v in value)
    return value
