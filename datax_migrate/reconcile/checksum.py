"""Order-independent table checksums over a canonical row encoding.

Two tables get the same :class:`RowChecksum` exactly when they hold the same multiset of rows over
the compared columns (up to a 128-bit hash collision), whatever the row order, the batching, the
column order or the physical Arrow type: values are encoded by logical kind, so ``int8`` and
``int64`` of the same value, ``string``/``large_string``/``string_view``, ``binary`` and its
variants, every list layout, dictionary-encoded and plain columns, and a ``UTC`` and a ``+00:00``
time zone all encode alike. This is what lets the Delta side (Delta logical types) be compared with
the Iceberg side (``byte``/``short`` widened to ``int``, large Arrow types on read).

Canonical encoding of one value. Every value starts with a tag byte, so no value of one kind can
look like a value of another and NULL has a marker no value produces; variable-length payloads
carry their length (fixed-width ones are implied by their tag), so adjacent columns cannot run
into each other:

========== ==== ==========================================================================
kind       tag  payload
========== ==== ==========================================================================
NULL       0x00 none
boolean    0x01 one byte, 0 or 1
integer    0x02 8 bytes, signed big-endian (every integer width)
decimal    0x03 1 byte scale, 1 byte length, unscaled value as signed big-endian bytes
float      0x04 8 bytes IEEE-754 double, big-endian (float32 values widen exactly); every NaN
                is 0x7ff8000000000000 and -0.0 is encoded as 0.0, so NaN equals NaN and
                -0.0 equals 0.0
string     0x05 4-byte length, UTF-8 bytes
binary     0x06 4-byte length, bytes (fixed-size binary too)
date       0x07 4 bytes, days since 1970-01-01
timestamp  0x08 8 bytes, microseconds since the epoch in UTC (time-zone aware; any zone)
timestamp  0x09 8 bytes, microseconds since 1970-01-01T00:00 wall clock (no time zone)
list       0x0A 4-byte count, then each element
struct     0x0B 4-byte count, then each field in declaration order
map        0x0C 4-byte count, then key/value pairs sorted by the encoded key
========== ==== ==========================================================================

Decimals keep their scale, so ``1.0`` in ``decimal(5,1)`` differs from ``1.00`` in ``decimal(5,2)``.
A row is the concatenation of its values in the requested column order; its digest is BLAKE2b with
a 16-byte output read as an unsigned big-endian integer; the table digest is the sum of the row
digests modulo 2**128, which does not depend on row order and counts duplicated rows. Rows are
encoded one by one in Python: fine for reconciliation samples and small tables, not for billions of
rows.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import math
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

_MODULUS = 1 << 128
_EPOCH_DATE = dt.date(1970, 1, 1)
_EPOCH = dt.datetime(1970, 1, 1)
_EPOCH_UTC = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_MICROSECOND = dt.timedelta(microseconds=1)
_CANONICAL_NAN = bytes.fromhex("7ff8000000000000")

Encoder = Callable[[Any], bytes]

_STRING_TYPES = (pa.types.is_string, pa.types.is_large_string, pa.types.is_string_view)
_BINARY_TYPES = (pa.types.is_binary, pa.types.is_large_binary, pa.types.is_binary_view, pa.types.is_fixed_size_binary)
_LIST_TYPES = (
    pa.types.is_list,
    pa.types.is_large_list,
    pa.types.is_fixed_size_list,
    pa.types.is_list_view,
    pa.types.is_large_list_view,
)


@dataclass(frozen=True)
class RowChecksum:
    """Row count and order-independent digest of a table.

    Attributes:
        rows: number of rows checksummed.
        digest: sum of the row digests modulo 2**128, as 32 hex digits.

    """

    rows: int
    digest: str


def table_checksum(batches: Iterable[pa.RecordBatch], columns: list[str] | None = None) -> RowChecksum:
    """Checksum every row of ``batches`` over ``columns``.

    Args:
        batches: the rows; batches may differ in column order and physical types.
        columns: the columns to compare, in this order, matched case-insensitively (so the same list
            works on both sides of a migration); ``None`` for every column of the first batch, in
            its order.

    Returns:
        The row count and the order-independent digest.

    Raises:
        KeyError: a batch lacks one of ``columns``.
        TypeError: a column has an Arrow type without a canonical encoding (e.g. ``time64``).

    """
    total = rows = 0
    schema: pa.Schema | None = None
    encoders: list[tuple[int, Encoder]] = []
    for batch in batches:
        if batch.schema != schema:
            schema = batch.schema
            columns = schema.names if columns is None else columns
            encoders = _row_encoders(schema, columns)
        values = [(batch.column(index).to_pylist(), encode) for index, encode in encoders]
        for row in range(batch.num_rows):
            encoded = b"".join(encode(column[row]) for column, encode in values)
            total += int.from_bytes(hashlib.blake2b(encoded, digest_size=16).digest(), "big")
        rows += batch.num_rows
    return RowChecksum(rows=rows, digest=f"{total % _MODULUS:032x}")


def _row_encoders(schema: pa.Schema, columns: list[str]) -> list[tuple[int, Encoder]]:
    lookup = {name.lower(): i for i, name in enumerate(schema.names)}
    try:
        indexes = [lookup[name.lower()] for name in columns]
    except KeyError as exc:
        raise KeyError(f"column {exc.args[0]!r} is not in {schema.names}") from None
    return [(i, _encoder(schema.field(i).type)) for i in indexes]


def _encoder(arrow_type: pa.DataType) -> Encoder:
    body = _body_encoder(arrow_type)

    def encode(value: Any) -> bytes:
        return b"\x00" if value is None else body(value)

    return encode


def _body_encoder(arrow_type: pa.DataType) -> Encoder:
    if pa.types.is_dictionary(arrow_type):
        return _body_encoder(arrow_type.value_type)
    if pa.types.is_boolean(arrow_type):
        return lambda v: b"\x01\x01" if v else b"\x01\x00"
    if pa.types.is_integer(arrow_type):
        return lambda v: b"\x02" + struct.pack(">q", v)
    if pa.types.is_decimal(arrow_type):
        return _decimal
    if pa.types.is_floating(arrow_type):
        return _float
    if any(is_kind(arrow_type) for is_kind in _STRING_TYPES):
        return lambda v: _sized(b"\x05", v.encode("utf-8"))
    if any(is_kind(arrow_type) for is_kind in _BINARY_TYPES):
        return lambda v: _sized(b"\x06", bytes(v))
    if pa.types.is_date(arrow_type):
        return lambda v: b"\x07" + struct.pack(">i", (v - _EPOCH_DATE).days)
    if pa.types.is_timestamp(arrow_type):
        if arrow_type.tz is not None:
            return lambda v: b"\x08" + struct.pack(">q", (v - _EPOCH_UTC) // _MICROSECOND)
        return lambda v: b"\x09" + struct.pack(">q", (v - _EPOCH) // _MICROSECOND)
    if any(is_kind(arrow_type) for is_kind in _LIST_TYPES):
        element = _encoder(arrow_type.value_type)
        return lambda v: b"\x0a" + struct.pack(">I", len(v)) + b"".join(element(e) for e in v)
    if pa.types.is_struct(arrow_type):
        fields = [(field.name, _encoder(field.type)) for field in arrow_type]
        return lambda v: b"\x0b" + struct.pack(">I", len(fields)) + b"".join(enc(v[name]) for name, enc in fields)
    if pa.types.is_map(arrow_type):
        key, item = _encoder(arrow_type.key_type), _encoder(arrow_type.item_type)

        def encode_map(v: list[tuple[Any, Any]]) -> bytes:
            pairs = sorted((key(k), item(i)) for k, i in v)
            return b"\x0c" + struct.pack(">I", len(pairs)) + b"".join(k + i for k, i in pairs)

        return encode_map
    raise TypeError(f"no canonical encoding for Arrow type {arrow_type}")


def _sized(tag: bytes, payload: bytes) -> bytes:
    return tag + struct.pack(">I", len(payload)) + payload


def _float(value: float) -> bytes:
    if math.isnan(value):
        return b"\x04" + _CANONICAL_NAN
    # Adding 0.0 turns -0.0 into 0.0 and leaves every other value as it is.
    return b"\x04" + struct.pack(">d", value + 0.0)


def _decimal(value: decimal.Decimal) -> bytes:
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int), "Arrow decimals are finite"
    # From the digits, not via scaleb: Decimal arithmetic rounds to 28 digits, decimal(38) does not.
    unscaled = int("".join(map(str, digits))) * (-1 if sign else 1)
    payload = unscaled.to_bytes((unscaled.bit_length() + 8) // 8, "big", signed=True)
    return b"\x03" + struct.pack(">bB", -exponent, len(payload)) + payload
