import datetime as dt
from decimal import Decimal

import pyarrow as pa

from datax_migrate.benchmark.answers import compare, compare_to_reference, rows_of


def test_rows_come_back_as_python_values() -> None:
    table = pa.table({"a": [1, None], "b": ["x", "y"]})
    assert rows_of(table) == [(1, "x"), (None, "y")]


def test_unordered_answers_compare_as_multisets_and_ordered_ones_in_order() -> None:
    source = [(1, "a"), (2, "b"), (2, "b")]
    assert compare(source, [(2, "b"), (1, "a"), (2, "b")], ordered=False) is None
    # ordered: the same rows in another order agree (ties on the ORDER BY keys); other rows do not
    assert compare(source, [(2, "b"), (1, "a"), (2, "b")], ordered=True) is None
    assert compare(source, [(1, "a"), (2, "b"), (3, "b")], ordered=True) == (
        "row 3 differs: source (2, 'b'), target (3, 'b')"
    )
    assert compare(source, [(1, "a"), (2, "b"), (1, "a")], ordered=False) is not None


def test_floats_agree_within_the_tolerance_other_values_exactly() -> None:
    assert compare([(0.1 + 0.2,)], [(0.3,)], ordered=True) is None
    assert compare([(1.0,)], [(1.0001,)], ordered=True) is not None
    assert compare([(Decimal("1.10"),)], [(Decimal("1.11"),)], ordered=True) is not None
    assert compare([(1,)], [(1.0,)], ordered=True) is not None  # a type change is a different answer
    assert compare([(float("nan"),)], [(float("nan"),)], ordered=True) is None
    assert compare([(None,)], [(0,)], ordered=True) is not None


def test_a_missing_row_is_named_by_count() -> None:
    assert compare([(1,), (2,)], [(1,)], ordered=False) == "the source returned 2 rows, the target 1 row"


def test_reference_text_is_compared_by_value_and_printed_precision() -> None:
    reference = "flag|total|avg|day\nA|380456|25.575154611454693|1995-03-15\nN|12.35|0.5|1996-01-01\n"
    answer = [
        ("A", Decimal("380456.00"), 25.575154611454694, dt.date(1995, 3, 15)),
        ("N", Decimal("12.3456"), 0.5, dt.date(1996, 1, 1)),
    ]
    assert compare_to_reference(answer, reference, ordered=True) is None
    assert compare_to_reference(list(reversed(answer)), reference, ordered=False) is None
    wrong = [answer[0], ("N", Decimal("12.40"), 0.5, dt.date(1996, 1, 1))]
    assert compare_to_reference(wrong, reference, ordered=True) == (
        "row 2 is N|12.40|0.5|1996-01-01; the reference answer has N|12.35|0.5|1996-01-01"
    )


def test_a_decimal_answer_agrees_to_the_places_it_prints() -> None:
    reference = "avg_disc\n0.05008133906964238\n"
    assert compare_to_reference([(Decimal("0.050081"),)], reference, ordered=True) is None
    assert compare_to_reference([(Decimal("0.050082"),)], reference, ordered=True) is not None
    assert compare_to_reference([(0.54,)], "x\n0.5\n", ordered=True) is not None  # a float has no places


def test_a_null_row_and_an_empty_answer_read_as_the_reference_prints_them() -> None:
    assert compare_to_reference([(None,)], "avg_yearly\n\n", ordered=True) is None
    assert compare_to_reference([], "avg_yearly\n", ordered=True) is None
    assert compare_to_reference([(None,)], "avg_yearly\n", ordered=True) == (
        "1 row where the reference answer has 0 rows"
    )


def test_rows_pair_up_by_exact_values_beyond_the_float_rounding() -> None:
    big = [(10**18 + 1, "x"), (10**18 + 2, "x")]
    assert compare(big, list(reversed(big)), ordered=False) is None
    close = [(1.0000001, "x"), (1.00000012, "x")]
    assert compare(close, list(reversed(close)), ordered=False) is None
    assert compare(big, [(10**18 + 1, "x"), (10**18 + 3, "x")], ordered=False) is not None


def test_integers_match_the_reference_exactly_decimals_to_their_places() -> None:
    assert compare_to_reference([(1478494,)], "count_order\n1478493\n", ordered=True) is not None
    assert compare_to_reference([(Decimal("37734070.00"),)], "s\n37734107.00\n", ordered=True) is not None
    assert compare_to_reference([(Decimal("37734107.00"),)], "s\n37734107.00\n", ordered=True) is None
