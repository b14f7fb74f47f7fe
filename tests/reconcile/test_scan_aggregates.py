"""Column aggregates of the scan pass, against pyarrow's own min, max and sum of the same values."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from datax_migrate.reconcile.scan import SideScanner


def columns(rows: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    nulls = rng.random(rows) < 0.15

    def masked(values: np.ndarray, arrow_type: pa.DataType) -> pa.Array:
        return pa.array(values, arrow_type, mask=nulls)

    big = rng.integers(-(2**63), 2**63 - 1, rows, dtype=np.int64)
    days = rng.integers(-30_000, 30_000, rows)
    micros = rng.integers(-(10**15), 10**16, rows)
    cents = [decimal.Decimal(int(v)).scaleb(-2) for v in rng.integers(-(10**12), 10**12, rows)]
    wide = [decimal.Decimal(int(v)).scaleb(-10) * 10**15 for v in rng.integers(-(10**12), 10**12, rows)]
    words = np.array(["", "a", "ab", "日本", "longer text here"])[rng.integers(0, 5, rows)]
    return pa.table(
        {
            "i8": masked(rng.integers(-128, 128, rows), pa.int8()),
            "u32": masked(rng.integers(0, 2**32, rows), pa.uint32()),
            "i64": pa.array(big),
            "i64n": masked(big, pa.int64()),
            "day": masked(days.astype("datetime64[D]"), pa.date32()),
            "day64": masked(days.astype("datetime64[D]"), pa.date32()).cast(pa.date64()),
            "ts_s": masked((micros // 10**6).astype("datetime64[s]"), pa.timestamp("s", tz="UTC")),
            "ts_us": masked(micros.astype("datetime64[us]"), pa.timestamp("us", tz="+00:00")),
            "ntz": masked(micros.astype("datetime64[us]"), pa.timestamp("us")),
            "dec": pa.array([None if n else v for n, v in zip(nulls, cents, strict=True)], pa.decimal128(14, 2)),
            "dec38": pa.array([None if n else v for n, v in zip(nulls, wide, strict=True)], pa.decimal128(38, 10)),
            "f": masked(np.where(rng.random(rows) < 0.05, np.nan, rng.normal(size=rows)), pa.float64()),
            "b": masked(rng.random(rows) < 0.5, pa.bool_()),
            "s": masked(words, pa.string()),
            "ls": pa.array(words, pa.large_string()),
            "bin": masked(np.array([w.encode() for w in words], dtype=object), pa.binary()),
            "dict": masked(words, pa.string()).dictionary_encode(),
            "allnull": pa.nulls(rows, pa.int64()),
        }
    )


def expected(column: pa.ChunkedArray) -> tuple[Any, ...]:
    array = column.combine_chunks()
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    sized = pa.types.is_string(array.type) or pa.types.is_large_string(array.type) or pa.types.is_binary(array.type)
    bounds = pc.min_max(pc.binary_length(array) if sized else array)
    if pa.types.is_integer(array.type):
        total: Any = sum(v for v in array.to_pylist() if v is not None) if array.null_count < len(array) else None
    elif pa.types.is_decimal(array.type):
        total = pc.sum(array.cast(pa.decimal128(38, array.type.scale))).as_py()
    elif pa.types.is_floating(array.type):
        total = pc.sum(array).as_py()
    else:
        total = None
    return array.null_count, bounds["min"].as_py(), bounds["max"].as_py(), total


@pytest.mark.parametrize("seed", [1, 2])
def test_aggregates_are_pyarrows_min_max_and_exact_sums(seed: int) -> None:
    table = columns(3_000, seed)
    scanner = SideScanner(table.column_names, ["i64"], 8, [])
    batches = table.to_batches(max_chunksize=700)
    # Sliced batches, and one-row batches (some hold only NULL or NaN in a column).
    summary = scanner.scan([batches[0], *(b.slice(1) for b in batches[1:])] + [b.slice(0, 1) for b in batches[1:]])
    for name in table.column_names:
        got = summary.aggregates[name]
        nulls, smallest, largest, total = expected(table.column(name))
        assert (got.nulls, got.minimum, got.maximum) == (nulls, smallest, largest), name
        if isinstance(total, float):  # the order of addition differs
            assert got.total == pytest.approx(total, rel=1e-12, nan_ok=True), name
        else:
            assert got.total == total and str(got.total) == str(total), name


def test_a_decimal_sum_keeps_the_scale() -> None:
    table = pa.table({"d": pa.array([decimal.Decimal("1.50"), decimal.Decimal("-1.50")], pa.decimal128(9, 2))})
    summary = SideScanner(["d"], [], 1, []).scan(table.to_batches())
    assert str(summary.aggregates["d"].total) == "0.00"
    assert summary.aggregates["d"].minimum == decimal.Decimal("-1.50")


def test_timestamps_keep_their_time_zone_and_unit() -> None:
    moment = dt.datetime(2024, 2, 29, 12, 0, 1, tzinfo=dt.timezone.utc)
    table = pa.table({"t": pa.array([moment, None], pa.timestamp("ms", tz="UTC"))})
    summary = SideScanner(["t"], [], 1, []).scan(table.to_batches())
    assert summary.aggregates["t"].minimum == moment == summary.aggregates["t"].maximum
