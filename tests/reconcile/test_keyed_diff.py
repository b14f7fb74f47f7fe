"""The keyed row comparison on Arrow tables: values keep their identity, only real differences are listed."""

from __future__ import annotations

import decimal
import math

import pyarrow as pa

from datax_migrate.reconcile.diff.keyed import keyed_comparison
from datax_migrate.reconcile.model import ColumnSummary, Difference
from datax_migrate.reconcile.tolerance import Tolerance


def test_nan_equals_nan_but_not_null_and_bytes_compare_as_bytes() -> None:
    source = pa.table({"Id": [1, 2, 3], "x": [math.nan, math.nan, 1.0], "b": [b"A", b"", None]})
    target = pa.table({"Id": [1, 2, 3], "x": [math.nan, None, 1.0], "b": [b"A", b"", None]})
    assert keyed_comparison(source, target, ["Id"], {}).differences == [Difference("cell", {"Id": 2}, "x", "NaN", None)]


def test_null_and_duplicate_keys_are_listed_with_their_real_values() -> None:
    source = pa.table({"k": pa.array([None, 5, 5, 7], pa.int32()), "v": ["a", "b", "b", "c"]})
    target = pa.table({"k": pa.array([5, 7, 7], pa.int32()), "v": ["b", "c", "d"]})
    assert keyed_comparison(source, target, ["k"], {}).differences == [
        Difference("source_only", {"k": None}, None, {"v": "a"}),
        Difference("duplicate_key", {"k": 5}, None, 2, 1),
        Difference("source_only", {"k": 5}, None, {"v": "b"}),
        Difference("duplicate_key", {"k": 7}, None, 1, 2),
        Difference("target_only", {"k": 7}, None, None, {"v": "d"}),
    ]


def test_tolerances_accept_close_numbers_only() -> None:
    source = pa.table({"id": [1, 2], "rate": [1.0, 2.0]})
    target = pa.table({"id": [1, 2], "rate": [1.0005, 2.1]})
    found = keyed_comparison(source, target, ["id"], {"rate": Tolerance("rate", absolute=0.001)}).differences
    assert found == [Difference("cell", {"id": 2}, "rate", 2.0, 2.1)]


def test_nested_values_compare_deeply_and_maps_ignore_entry_order() -> None:
    kind = pa.map_(pa.string(), pa.list_(pa.struct([("x", pa.int64())])))
    source = pa.table({"id": [1, 2, 3], "m": pa.array([None, [("a", [{"x": 1}]), ("b", None)], []], kind)})
    target = pa.table({"id": [1, 2, 3], "m": pa.array([[], [("b", None), ("a", [{"x": 1}])], []], kind)})
    assert keyed_comparison(source, target, ["id"], {}).differences == [Difference("cell", {"id": 1}, "m", None, [])]


def test_column_summaries_count_unequal_values_and_the_largest_differences_as_datacompy() -> None:
    money = pa.decimal128(9, 2)
    source = pa.table(
        {
            "id": [1, 2, 3, 4, 5],
            "amount": pa.array(
                [
                    decimal.Decimal("1.00"),
                    decimal.Decimal("2.00"),
                    None,
                    decimal.Decimal("4.00"),
                    decimal.Decimal("-3.00"),
                ],
                money,
            ),
            "rate": [1.0, 2.0, math.nan, 4.0, 0.5],
            "name": ["a", "b", None, "d", "e"],
        }
    )
    target = pa.table(
        {
            "id": [1, 2, 3, 4, 6],
            "amount": pa.array(
                [
                    decimal.Decimal("1.00"),
                    decimal.Decimal("2.50"),
                    decimal.Decimal("3.00"),
                    decimal.Decimal("4.01"),
                    decimal.Decimal("0"),
                ],
                money,
            ),
            "rate": [1.0, 2.0, 3.0, 5.0, 0.0],
            "name": ["a", "x", "c", "d", "e"],
        }
    )

    found = keyed_comparison(source, target, ["id"], {"amount": Tolerance("amount", absolute=0.1)})

    assert found.columns == [
        # ids 1-4 are matched (5 and 6 are rows on one side); 2.00 vs 2.50 is beyond the tolerance, 4.00 vs 4.01 within
        ColumnSummary("amount", 4, 2, 1, "0.50", 0.2),
        ColumnSummary("rate", 4, 2, 0, 1.0, 0.2),  # NaN vs 3.0 is unequal but has no numeric difference
        ColumnSummary("name", 4, 2, 1, None, None),
    ]
    assert {d.kind for d in found.differences} == {"cell", "source_only", "target_only"}
    equal = keyed_comparison(source, source, ["id"], {})
    assert [(c.unequal, c.max_abs_diff, c.max_rel_diff) for c in equal.columns] == [(0, 0, 0.0)] * 2 + [(0, None, None)]
