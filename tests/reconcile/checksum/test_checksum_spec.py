"""docs/reconcile-checksum.md, implemented in plain Python, against the compiled engine."""

from __future__ import annotations

import datetime as dt
import decimal
import math
import struct
import zlib
from typing import Any

import mmh3
import numpy as np
import pyarrow as pa
import pytest

from datax_migrate.reconcile.checksum.rowhash import SEED_1, SEED_2
from datax_migrate.reconcile.checksum.table import RowHasher, table_checksum

EPOCH_UTC = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
MICRO = dt.timedelta(microseconds=1)
WIDE = decimal.Context(prec=100)


def integer_of(value: Any, arrow_type: pa.DataType) -> int:
    """Section 1: the integer behind a fixed-width value."""
    if pa.types.is_boolean(arrow_type):
        return int(value)
    if pa.types.is_date(arrow_type):
        return (value - dt.date(1970, 1, 1)).days
    if pa.types.is_timestamp(arrow_type):
        return (value - (EPOCH_UTC if arrow_type.tz else dt.datetime(1970, 1, 1))) // MICRO
    if pa.types.is_floating(arrow_type):
        if math.isnan(value):
            return 0x7FF8000000000000
        return struct.unpack("<q", struct.pack("<d", 0.0 if value == 0 else value))[0]
    if pa.types.is_decimal(arrow_type):
        return int(value.scaleb(arrow_type.scale, WIDE))
    return int(value)


def nested_text(value: Any, arrow_type: pa.DataType) -> str:
    """Section 2."""
    if value is None:
        return "N"
    if pa.types.is_struct(arrow_type):
        payload = "".join(nested_text(value[f.name], f.type) for f in arrow_type)
    elif pa.types.is_map(arrow_type):
        entries = [nested_text(k, arrow_type.key_type) + nested_text(v, arrow_type.item_type) for k, v in value]
        payload = "".join(sorted(entries, key=lambda e: e.encode()))
    elif pa.types.is_list(arrow_type):
        payload = "".join(nested_text(e, arrow_type.value_type) for e in value)
    elif pa.types.is_string(arrow_type):
        payload = value
    elif pa.types.is_binary(arrow_type):
        payload = value.hex()
    else:
        payload = str(integer_of(value, arrow_type))
    return f"{len(payload.encode())}:{payload}"


def value_words(value: Any, arrow_type: pa.DataType) -> list[int]:
    """Section 1."""
    if pa.types.is_boolean(arrow_type):
        return [int(value)]
    if pa.types.is_string(arrow_type) or pa.types.is_nested(arrow_type):
        text = value if pa.types.is_string(arrow_type) else nested_text(value, arrow_type)
        data = text.encode()
        return [len(data), zlib.crc32(data), zlib.crc32(text[::-1].encode())]
    if pa.types.is_binary(arrow_type):
        return [len(value), zlib.crc32(value), zlib.crc32(value.hex().encode())]
    number = integer_of(value, arrow_type)
    count = 4 if pa.types.is_decimal(arrow_type) and arrow_type.precision > 18 else 2
    unsigned = number % (1 << (32 * count))
    return [(unsigned >> (32 * i)) & 0xFFFFFFFF for i in range(count)]


def row_hashes(row: dict[str, Any], schema: pa.Schema) -> tuple[int, int]:
    """Sections 3 and 4."""
    names = schema.names
    mask = [0] * ((len(names) + 31) // 32)
    words: list[int] = []
    for i, name in enumerate(names):
        if row[name] is None:
            mask[i // 32] |= 1 << (i % 32)
        else:
            words += value_words(row[name], schema.field(name).type)
    data = b"".join(struct.pack("<I", w) for w in mask + words)
    return mmh3.hash(data, SEED_1, signed=False), mmh3.hash(data, SEED_2, signed=False)


def sample_table(rows: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)

    def maybe(values: list[Any]) -> list[Any]:
        return [None if rng.random() < 0.2 else v for v in values]

    floats = [float("nan"), -0.0, 0.0, 1e308, -2.5, float("inf")]
    texts = ["", "a", "NULL", "日本語", "x|y", "e\u0301", "\x00"]
    return pa.table(
        {
            "b": pa.array(maybe([bool(rng.integers(2)) for _ in range(rows)]), pa.bool_()),
            "i8": pa.array(maybe([int(rng.integers(-128, 128)) for _ in range(rows)]), pa.int8()),
            "i64": pa.array(maybe([int(rng.integers(-(2**63), 2**63 - 1)) for _ in range(rows)]), pa.int64()),
            "f32": pa.array(maybe([float(rng.choice([1.5, -0.0, float("nan")])) for _ in range(rows)]), pa.float32()),
            "f64": pa.array(maybe([floats[rng.integers(len(floats))] for _ in range(rows)]), pa.float64()),
            "d": pa.array(
                maybe([decimal.Decimal(int(rng.integers(-(10**9), 10**9))).scaleb(-2) for _ in range(rows)]),
                pa.decimal128(12, 2),
            ),
            "d38": pa.array(
                maybe(
                    [decimal.Decimal(-(10**37) + int(rng.integers(0, 10**9))).scaleb(-10, WIDE) for _ in range(rows)]
                ),
                pa.decimal128(38, 10),
            ),
            "day": pa.array(
                maybe([dt.date(1900, 1, 1) + dt.timedelta(days=int(rng.integers(0, 80000))) for _ in range(rows)])
            ),
            "ts": pa.array(
                maybe(
                    [EPOCH_UTC + dt.timedelta(microseconds=int(rng.integers(-(10**15), 10**16))) for _ in range(rows)]
                ),
                pa.timestamp("us", tz="UTC"),
            ),
            "ntz": pa.array(
                maybe(
                    [
                        dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=int(rng.integers(0, 10**16)))
                        for _ in range(rows)
                    ]
                ),
                pa.timestamp("us"),
            ),
            "s": pa.array(maybe([texts[rng.integers(len(texts))] for _ in range(rows)]), pa.string()),
            "bin": pa.array(
                maybe([bytes(rng.integers(0, 256, rng.integers(0, 5)).tolist()) for _ in range(rows)]), pa.binary()
            ),
            "st": pa.array(
                maybe([{"x": int(rng.integers(10)), "y": texts[rng.integers(len(texts))]} for _ in range(rows)]),
                pa.struct([("x", pa.int32()), ("y", pa.string())]),
            ),
            "l": pa.array(
                maybe([[1, None, int(rng.integers(5))][: rng.integers(4)] for _ in range(rows)]), pa.list_(pa.int64())
            ),
            "m": pa.array(
                maybe([[("k", 1.5), ("a", None)][: rng.integers(3)] for _ in range(rows)]),
                pa.map_(pa.string(), pa.float64()),
            ),
        }
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_engine_computes_the_specified_row_hashes(seed: int) -> None:
    table = sample_table(300, seed)
    expected = [row_hashes(row, table.schema) for row in table.to_pylist()]
    hashes = RowHasher(table.column_names, [], 1).hash(table.combine_chunks().to_batches()[0])
    assert list(zip(hashes.lane_1.tolist(), hashes.lane_2.tolist(), strict=True)) == expected


def test_engine_computes_the_specified_table_checksum() -> None:
    table = sample_table(500, 7)
    lanes = [row_hashes(row, table.schema) for row in table.to_pylist()]
    digest = f"{sum(a for a, _ in lanes) % 2**32:08x}{sum(b for _, b in lanes) % 2**32:08x}"
    result = table_checksum(table.to_batches(max_chunksize=37), table.column_names)
    assert (result.rows, result.digest) == (500, digest)


def test_bucket_is_the_key_hash_modulo_the_bucket_count() -> None:
    table = sample_table(200, 11)
    keys = ["i64", "s"]
    key_schema = table.select(keys).schema
    expected = [row_hashes(row, key_schema)[0] % 64 for row in table.select(keys).to_pylist()]
    hashes = RowHasher(table.column_names, keys, 64).hash(table.combine_chunks().to_batches()[0])
    assert hashes.bucket.tolist() == expected
