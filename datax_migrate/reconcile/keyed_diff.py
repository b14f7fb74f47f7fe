"""The keyed row comparison over the rows of the differing buckets, in Arrow and plain Python values.

Values keep their identity: an integer key stays an integer, a NULL stays NULL (never NaN), bytes
are compared as bytes, and NaN equals NaN (both sides hold the same value). Rows are matched by
key; a key held by several rows on one side is reported as a duplicate, and its rows are matched
whole, the unmatched ones listed as only in the source or only in the target.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from datax_migrate.reconcile.model import Difference
from datax_migrate.reconcile.tolerance import Tolerance
from datax_migrate.reconcile.values import plain

_NAN = ("NaN",)


def keyed_differences(
    source: pa.Table, target: pa.Table, keys: list[str], tolerances: dict[str, Tolerance]
) -> list[Difference]:
    """Rows only in ``source``, only in ``target``, duplicate keys, and cells that differ beyond ``tolerances``.

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
    for column in source.column_names:
        if column not in keys:
            differences += _cells(source, target, keys, column, left, right, tolerances.get(column.lower()))
    return differences


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
    left = Counter(_whole_row(source, row) for row in mine)
    right = Counter(_whole_row(target, row) for row in theirs)
    result += [Difference("source_only", key)] * sum((left - right).values())
    result += [Difference("target_only", key)] * sum((right - left).values())
    return result


def _whole_row(table: pa.Table, row: int) -> tuple[Any, ...]:
    return tuple(_canonical(table.column(c)[row].as_py()) for c in table.column_names)


def _cells(
    source: pa.Table,
    target: pa.Table,
    keys: list[str],
    column: str,
    left: list[int],
    right: list[int],
    tolerance: Tolerance | None,
) -> list[Difference]:
    if not left:
        return []
    mine = source.column(column).take(pa.array(left, pa.int64()))
    theirs = target.column(column).take(pa.array(right, pa.int64()))
    candidates = pa.array(_maybe_different(mine, theirs), pa.int64())
    values = (candidates.to_pylist(), mine.take(candidates).to_pylist(), theirs.take(candidates).to_pylist())
    differences = []
    for index, a, b in zip(*values, strict=True):
        if _canonical(a) == _canonical(b) or (tolerance is not None and tolerance.accepts(a, b)):
            continue
        differences.append(Difference("cell", _key(source, keys, left[index]), column, plain(a), plain(b)))
    return differences


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
