"""The order-independent table checksum."""

from __future__ import annotations

import datetime as dt
import decimal
import struct

import pyarrow as pa
import pytest

from datax_migrate.errors import EncodingError
from datax_migrate.reconcile.checksum.table import table_checksum


def checksum(table: pa.Table, columns: list[str] | None = None) -> tuple[int, str]:
    result = table_checksum(table.to_batches(max_chunksize=2), columns or table.column_names)
    return result.rows, result.digest


def test_row_order_and_batching_do_not_matter() -> None:
    table = pa.table({"id": [1, 2, 3, 4, 5], "name": ["a", "b", None, "d", "e"]})
    shuffled = table.take([4, 2, 0, 3, 1])
    assert checksum(table) == checksum(shuffled)
    columns = table.column_names
    assert table_checksum(table.to_batches(), columns) == table_checksum(shuffled.to_batches(max_chunksize=1), columns)


def test_column_order_is_given_by_name() -> None:
    table = pa.table({"id": [1, 2], "name": ["a", "b"]})
    swapped = pa.table({"NAME": ["a", "b"], "ID": [1, 2]})
    assert checksum(table, ["id", "name"]) == checksum(swapped, ["id", "name"])


def test_null_empty_string_and_the_word_null_differ() -> None:
    digests = {checksum(pa.table({"s": pa.array([v], pa.string())}))[1] for v in (None, "", "NULL", "\x00")}
    assert len(digests) == 4


def test_duplicates_count() -> None:
    once = pa.table({"id": [1, 2]})
    twice = pa.table({"id": [1, 2, 2]})
    swapped = pa.table({"id": [2, 1, 1]})
    assert checksum(once) != checksum(twice)
    assert checksum(twice)[1] != checksum(swapped)[1]


def test_columns_cannot_run_into_each_other() -> None:
    left = pa.table({"a": ["ab"], "b": ["c"]})
    right = pa.table({"a": ["a"], "b": ["bc"]})
    assert checksum(left) != checksum(right)


@pytest.mark.parametrize(
    ("narrow", "wide"),
    [
        (pa.array([1, -2, None], pa.int8()), pa.array([1, -2, None], pa.int64())),
        (pa.array(["x", None], pa.string()), pa.array(["x", None], pa.large_string())),
        (pa.array([1.5, float("nan")], pa.float32()), pa.array([1.5, float("nan")], pa.float64())),
        (pa.array([-0.0], pa.float64()), pa.array([0.0], pa.float64())),
        (
            pa.array([dt.datetime(2024, 1, 1, 12)], pa.timestamp("us", tz="UTC")),
            pa.array([dt.datetime(2024, 1, 1, 12)], pa.timestamp("us", tz="+00:00")),
        ),
        (pa.array([[1, None]], pa.list_(pa.int32())), pa.array([[1, None]], pa.large_list(pa.int64()))),
        (pa.array(["x", "y", "x", None]).dictionary_encode(), pa.array(["x", "y", "x", None], pa.string_view())),
        (pa.array([b"ab", None], pa.binary()), pa.array([b"ab", None], pa.large_binary())),
        (
            pa.array([{"a": 1, "b": ["x"]}], pa.struct([("a", pa.int16()), ("b", pa.list_(pa.string()))])),
            pa.array([{"a": 1, "b": ["x"]}], pa.struct([("a", pa.int32()), ("b", pa.large_list(pa.large_string()))])),
        ),
    ],
)
def test_physical_types_of_the_same_values_agree(narrow: pa.Array, wide: pa.Array) -> None:
    assert checksum(pa.table({"c": narrow})) == checksum(pa.table({"c": wide}))


@pytest.mark.parametrize(
    ("left", "right"),
    [
        (
            pa.array([decimal.Decimal("1.0")], pa.decimal128(5, 1)),
            pa.array([decimal.Decimal("1.00")], pa.decimal128(5, 2)),
        ),
        (pa.array([1], pa.int64()), pa.array(["1"], pa.string())),
        (pa.array([[1, 2]], pa.list_(pa.int64())), pa.array([[2, 1]], pa.list_(pa.int64()))),
    ],
)
def test_different_values_or_kinds_differ(left: pa.Array, right: pa.Array) -> None:
    assert checksum(pa.table({"c": left})) != checksum(pa.table({"c": right}))


def test_every_nan_is_the_same_value() -> None:
    quiet, signalling, negative = (
        struct.unpack(">d", bytes.fromhex(h))[0] for h in ("7ff8000000000000", "7ff0000000000001", "fff8000000000000")
    )
    float64 = pa.table({"f": pa.array([quiet, signalling, negative], pa.float64())})
    float32 = pa.table({"f": pa.array([float("nan")] * 3, pa.float32())})
    assert checksum(float64) == checksum(float32)
    assert checksum(float64) != checksum(pa.table({"f": pa.array([None] * 3, pa.float64())}))


def test_batches_may_differ_in_column_order_and_types() -> None:
    first = pa.record_batch({"id": pa.array([1, 2], pa.int8()), "name": ["a", "b"]})
    second = pa.record_batch({"NAME": pa.array(["c"], pa.large_string()), "ID": pa.array([3], pa.int64())})
    whole = pa.table({"id": [1, 2, 3], "name": ["a", "b", "c"]})
    assert table_checksum([first, second], ["id", "name"]) == table_checksum(whole.to_batches(), ["id", "name"])


def test_map_entry_order_does_not_matter_but_values_do() -> None:
    kind = pa.map_(pa.string(), pa.int64())
    a = pa.table({"m": pa.array([[("x", 1), ("y", 2)]], kind)})
    b = pa.table({"m": pa.array([[("y", 2), ("x", 1)]], kind)})
    c = pa.table({"m": pa.array([[("y", 1), ("x", 2)]], kind)})
    assert checksum(a) == checksum(b) != checksum(c)


def test_unknown_column_is_named() -> None:
    with pytest.raises(EncodingError, match="'missing'"):
        table_checksum(pa.table({"a": [1]}).to_batches(), ["missing"])
