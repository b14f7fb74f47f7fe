"""Order-independent comparison of Arrow tables, value by value, used by corpus and engine tests."""

from __future__ import annotations

import datetime as dt
import decimal
import math
from typing import Any

import pyarrow as pa


def canonical_value(value: Any) -> Any:
    """A hashable, totally ordered form of a Python value read from Arrow."""
    if value is None:
        return ("0null",)
    if isinstance(value, float):
        if math.isnan(value):
            return ("float", "nan")
        return ("float", repr(value))
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int):
        return ("int", value)
    if isinstance(value, decimal.Decimal):
        return ("decimal", str(value))
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc)
        return ("datetime", value.isoformat())
    if isinstance(value, (dt.date, str, bytes)):
        return (type(value).__name__, value if not isinstance(value, dt.date) else value.isoformat())
    if isinstance(value, dict):
        return ("struct", tuple((k, canonical_value(v)) for k, v in value.items()))
    if isinstance(value, list):
        if value and isinstance(value[0], tuple) and len(value[0]) == 2:
            return ("map", tuple(sorted((canonical_value(k), canonical_value(v)) for k, v in value)))
        return ("list", tuple(canonical_value(v) for v in value))
    return (type(value).__name__, repr(value))


def canonical_rows(table: pa.Table, columns: list[str] | None = None) -> list[tuple[Any, ...]]:
    """Rows of ``table`` (the named columns, in that order) in canonical form, sorted."""
    columns = columns or table.column_names
    lookup = {name.lower(): name for name in table.column_names}
    data = [table.column(lookup[c.lower()]).to_pylist() for c in columns]
    rows = [tuple(canonical_value(column[i]) for column in data) for i in range(table.num_rows)]
    return sorted(rows, key=repr)


def assert_same_rows(actual: pa.Table, expected: pa.Table) -> None:
    """Fail unless both tables hold the same multiset of rows over the expected columns."""
    assert sorted(c.lower() for c in actual.column_names) == sorted(c.lower() for c in expected.column_names), (
        actual.column_names,
        expected.column_names,
    )
    assert actual.num_rows == expected.num_rows, f"{actual.num_rows} rows, expected {expected.num_rows}"
    columns = expected.column_names
    left, right = canonical_rows(actual, columns), canonical_rows(expected, columns)
    for a, b in zip(left, right, strict=True):
        assert a == b, f"first differing row:\n  actual   {a}\n  expected {b}"
