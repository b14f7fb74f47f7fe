"""The sample table every dialect of the checksum SQL is checked on, and the local engine's figures for it."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from datax_migrate.reconcile.checksum.table import BucketChecksums, RowHasher

EPOCH_UTC = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1
ODD_NAMES = {"b": "select", "s": "with space", "bin": "back`tick", "i32": 'dou"ble', "day": "Day"}

Figures = list[tuple[int, int, int, int]]


def supported_table(rows: int, seed: int, odd_names: bool = False) -> pa.Table:
    """Every kind the SQL generator supports, with NULLs and the awkward values of each kind."""
    rng = np.random.default_rng(seed)

    def column(special: list[Any], draw: Callable[[], Any]) -> list[Any]:
        values = [None if rng.random() < 0.15 else draw() for _ in range(rows)]
        values[: len(special)] = special[:rows]
        return values

    def pick(choices: Sequence[Any]) -> Callable[[], Any]:
        return lambda: choices[int(rng.integers(len(choices)))]

    doubles = [
        float("nan"), -0.0, 0.0, float("inf"), float("-inf"), 5e-324, -5e-324, 2.2250738585072014e-308,
        2.225073858507201e-308, 1.7976931348623157e308, -1.7976931348623157e308, 1.0, -2.5, 0.1, 2.0**-1022,
    ]  # fmt: skip
    singles = [float("nan"), -0.0, float("inf"), float("-inf"), 1.5, 3.4028234663852886e38, 1.401298464324817e-45]
    texts = ["", "a", "NULL", "日本語", "e\u0301", "😀x", "\x00", "x|y"]
    int64 = [INT64_MIN, INT64_MAX, -1, 0, 1]
    table = pa.table(
        {
            "b": pa.array(column([True, False], lambda: bool(rng.integers(2))), pa.bool_()),
            "i8": pa.array(column([-128, 127, -1], lambda: int(rng.integers(-128, 128))), pa.int8()),
            "i16": pa.array(column([-32768, 32767], lambda: int(rng.integers(-32768, 32768))), pa.int16()),
            "i32": pa.array(
                column([INT32_MIN, INT32_MAX], lambda: int(rng.integers(INT32_MIN, INT32_MAX))), pa.int32()
            ),
            "i64": pa.array(column(int64, lambda: int(rng.integers(INT64_MIN, INT64_MAX))), pa.int64()),
            "f32": pa.array(column(singles, pick([1.5, -0.0, float("nan"), -3.25])), pa.float32()),
            "f64": pa.array(
                column(doubles, lambda: float(rng.integers(0, 2**64, dtype=np.uint64).view(np.float64))), pa.float64()
            ),
            "d": pa.array(
                column(
                    [decimal.Decimal("-9999999999.99"), decimal.Decimal("9999999999.99"), decimal.Decimal("0.00")],
                    lambda: decimal.Decimal(int(rng.integers(-(10**11), 10**11))).scaleb(-2),
                ),
                pa.decimal128(12, 2),
            ),
            "d0": pa.array(
                column([decimal.Decimal(10**17)], lambda: decimal.Decimal(int(rng.integers(-(10**15), 10**15)))),
                pa.decimal128(18, 0),
            ),
            "day": pa.array(
                column(
                    [dt.date(1900, 1, 1), dt.date(1969, 12, 31), dt.date(9999, 12, 31)],
                    lambda: dt.date(1900, 1, 1) + dt.timedelta(days=int(rng.integers(0, 80000))),
                ),
                pa.date32(),
            ),
            "ts": pa.array(
                column(
                    [
                        EPOCH_UTC - dt.timedelta(microseconds=1),
                        EPOCH_UTC,
                        dt.datetime(1900, 1, 1, tzinfo=dt.timezone.utc),
                    ],
                    lambda: EPOCH_UTC + dt.timedelta(microseconds=int(rng.integers(-(10**16), 10**16))),
                ),
                pa.timestamp("us", tz="UTC"),
            ),
            "ntz": pa.array(
                column(
                    [dt.datetime(2021, 3, 14, 2, 30, 0, 123456), dt.datetime(1969, 12, 31, 23, 59, 59, 999999)],
                    lambda: dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=int(rng.integers(-(10**16), 10**16))),
                ),
                pa.timestamp("us"),
            ),
            "s": pa.array(column(texts, pick(texts)), pa.string()),
            "bin": pa.array(
                column(
                    [b"", b"\x00", b"\xff" * 9], lambda: bytes(rng.integers(0, 256, int(rng.integers(0, 6))).tolist())
                ),
                pa.binary(),
            ),
        }
    )
    if odd_names:
        table = table.rename_columns([ODD_NAMES.get(name, name) for name in table.column_names])
    return table


def local_figures(table: pa.Table, keys: Sequence[str], buckets: int) -> Figures:
    """``(bucket, row_count, lane_1, lane_2)`` of every non-empty bucket, from the local engine."""
    hasher, sums = RowHasher(table.column_names, keys, buckets), BucketChecksums(buckets)
    for batch in table.to_batches(max_chunksize=97):
        sums.add(hasher.hash(batch))
    lanes = sums.lanes()
    return [(b, int(sums.rows[b]), int(lanes[0][b]), int(lanes[1][b])) for b in range(buckets) if sums.rows[b]]
