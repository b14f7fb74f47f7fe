"""Comparing query answers: source against target, and either against a reference answer.

Rows are compared in order when the query orders its result, otherwise as multisets (sorted first).
An ordered answer whose rows differ only in their order still agrees when the two hold the same rows:
the same engine ran the same ORDER BY on both sides, so such rows tie on its keys (files laid out
differently hand tied rows over in another order). Values compare exactly, except floating-point
numbers: both sides' floats agree when within :data:`RELATIVE_TOLERANCE` of each other (a sum over
differently laid-out files adds in another order). A reference answer is text (TPC-H's answers as
DuckDB's tpch extension ships them): an integer in it must match exactly, a float within
:data:`REFERENCE_TOLERANCE` (relative), a computed decimal within half a unit of the last place
either prints (Spark's average of a decimal is a decimal of six places).
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

RELATIVE_TOLERANCE = 1e-9
"""Floats on the two sides agree within this relative difference."""
REFERENCE_TOLERANCE = 1e-6
"""Numbers agree with a reference answer's text within this relative difference (or its printed precision)."""
TOLERANCE_NOTE = (
    f"floats equal within a relative {RELATIVE_TOLERANCE:g} between the sides; against the reference answers "
    f"integers exactly, floats within a relative {REFERENCE_TOLERANCE:g}, decimals within half a unit of the "
    "last place printed; everything else exactly; rows in order where the query has a top-level ORDER BY "
    "(rows tied on its keys in any order), else as multisets"
)
Rows = list[tuple[Any, ...]]


def rows_of(table: pa.Table) -> Rows:
    """The rows of an answer as tuples of Python values."""
    columns = [column.to_pylist() for column in table.columns]
    return list(zip(*columns, strict=True)) if columns else []


def compare(source: Rows, target: Rows, ordered: bool) -> str | None:
    """``None`` when the answers agree, else one sentence saying where they differ."""
    if len(source) != len(target):
        return f"the source returned {_rows(len(source))}, the target {_rows(len(target))}"
    if ordered:
        difference = _first_difference(source, target, ordered)
        return None if difference is None or compare(source, target, ordered=False) is None else difference
    return _first_difference(source, target, ordered)


def _first_difference(source: Rows, target: Rows, ordered: bool) -> str | None:
    if not ordered:
        source, target = sorted(source, key=_sort_key), sorted(target, key=_sort_key)
    for index, (left, right) in enumerate(zip(source, target, strict=True)):
        if len(left) != len(right) or not all(map(_same, left, right)):
            where = f"row {index + 1}" if ordered else "a row (after sorting both answers)"
            return f"{where} differs: source {_show(left)}, target {_show(right)}"
    return None


def compare_to_reference(answer: Rows, reference: str, ordered: bool) -> str | None:
    """``None`` when ``answer`` agrees with ``reference`` (``|``-separated text with a header line)."""
    lines = reference.split("\n")[1:]  # a header line, then one line per row (a NULL prints as nothing)
    if lines and lines[-1] == "":
        lines.pop()  # the newline that ends the last row
    expected = [tuple(line.split("|")) for line in lines]
    if len(answer) != len(expected):
        return f"{_rows(len(answer))} where the reference answer has {_rows(len(expected))}"
    given = sorted(answer, key=lambda row: tuple(map(as_text, row))) if not ordered else answer
    if not ordered:
        expected = sorted(expected)
    for index, (row, wanted) in enumerate(zip(given, expected, strict=True)):
        if len(row) != len(wanted) or not all(map(_same_as_text, row, wanted)):
            shown = "|".join(map(as_text, row))
            return f"row {index + 1} is {shown}; the reference answer has {'|'.join(wanted)}"
    return None


def _same(left: Any, right: Any) -> bool:
    if isinstance(left, float) and isinstance(right, float):
        if math.isnan(left) or math.isnan(right):
            return math.isnan(left) and math.isnan(right)
        return math.isclose(left, right, rel_tol=RELATIVE_TOLERANCE, abs_tol=1e-12)
    return bool(left == right) and type(left) is type(right)


def _same_as_text(value: Any, wanted: str) -> bool:
    text = as_text(value)
    if text == wanted:
        return True
    if isinstance(value, bool) or not isinstance(value, (int, float, decimal.Decimal)):
        return text.rstrip() == wanted.rstrip()
    try:
        expected = float(wanted)
    except ValueError:
        return False
    # A decimal answer carries its places: within half a unit of the last place either side prints.
    if isinstance(value, int):
        return False  # a count or an integer sum is exact (the text differs)
    if isinstance(value, decimal.Decimal):
        return math.isclose(float(value), expected, rel_tol=0.0, abs_tol=max(_half_unit(text), _half_unit(wanted)))
    return math.isclose(value, expected, rel_tol=REFERENCE_TOLERANCE)


def _half_unit(number: str) -> float:
    """Half a unit of the last decimal ``number`` prints (0 for an integer or an exponent form)."""
    decimals = len(number.partition(".")[2]) if "e" not in number.lower() else 0
    return 0.5 * 10.0**-decimals if decimals else 0.0


def as_text(value: Any) -> str:
    """A value as a reference answer's text prints it."""
    if value is None:
        return ""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    return str(value)


def _sort_key(row: Sequence[Any]) -> tuple[tuple[int, Any], ...]:
    """Sort rows whatever their values' types.

    Floats sort first by a rounded value, so near-equal floats sort alike, then (rows tied on every
    rounded value) by their exact values.
    """
    exact = tuple((0, value) if isinstance(value, float) and math.isfinite(value) else (0, 0) for value in row)
    return tuple(_value_key(value) for value in row) + exact


def _value_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, 0)
    if isinstance(value, float):
        return (1, float(f"{value:.8g}")) if math.isfinite(value) else (3, str(value))
    if isinstance(value, (int, decimal.Decimal)) and not isinstance(value, bool):
        return (1, value)  # compared exactly with each other and with floats
    return (2, repr(value))


def _rows(count: int) -> str:
    return f"{count:,} row{'' if count == 1 else 's'}"


def _show(row: Sequence[Any]) -> str:
    text = ", ".join(repr(value) for value in row[:8])
    return f"({text}{', ...' if len(row) > 8 else ''})"
