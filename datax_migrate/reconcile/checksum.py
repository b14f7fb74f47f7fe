"""Order-independent table checksums over a canonical row encoding.

Two tables get the same :class:`RowChecksum` exactly when they hold the same multiset of rows,
whatever the row order, the column order or the physical Arrow types (``int8`` and ``int64`` of the
same value, ``string`` and ``large_string``, a ``UTC`` and a ``+00:00`` time zone are the same).

Canonical encoding of one value (every value starts with a tag byte, so no value can look like
another, and variable-length payloads carry their length, so columns cannot run into each other):

========== ==== ==========================================================================
kind       tag  payload
========== ==== ==========================================================================
NULL       0x00 none (no non-NULL value has tag 0x00)
boolean    0x01 one byte, 0 or 1
integer    0x02 8 bytes, signed big-endian (every integer width)
decimal    0x03 1 byte scale, 1 byte length, unscaled value as signed big-endian bytes
float      0x04 8 bytes IEEE-754 double, big-endian; every NaN as 0x7ff8000000000000 and
                -0.0 as 0.0 (float32 values are widened exactly)
string     0x05 4-byte length, UTF-8 bytes
binary     0x06 4-byte length, bytes
date       0x07 4 bytes, days since 1970-01-01
timestamp  0x08 8 bytes, microseconds since the epoch, UTC (time-zone aware)
timestamp  0x09 8 bytes, microseconds since 1970-01-01T00:00 wall clock (no time zone)
list       0x0A 4-byte count, then each element
struct     0x0B 4-byte count, then each field in declaration order
map        0x0C 4-byte count, then key/value pairs sorted by the encoded key
========== ==== ==========================================================================

A row is the concatenation of its values in the requested column order; its digest is BLAKE2b with
a 16-byte output read as an unsigned integer; the table checksum is the row count plus the sum of
the row digests modulo 2**128 (order-independent, and a duplicated row changes it).
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
_CANONICAL_NAN = bytes.fromhex("7ff8000000000000")

Encoder = Callable[[Any], bytes]


@dataclass(frozen=True)
class RowChecksum:
    """Row count and order-independent digest of a table (hex, 128 bits)."""

    rows: int
    digest: str


def table_checksum(batches: Iterable[pa.RecordBatch], columns: list[str] | None = None) -> RowChecksum:
    """Checksum every row of ``batches`` over ``columns`` (default: all, in schema order).

    Column names match case-insensitively, so the same list works on both sides of a migration.
    """
    total = rows = 0
    encoders: list[tuple[int, Encoder]] | None = None
    for batch in batches:
        if encoders is None:
            encoders = _encoders(batch.schema, columns)
        values = [(batch.column(index).to_pylist(), encode) for index, encode in encoders]
        for row in range(batch.num_rows):
            encoded = b"".join(encode(column[row]) for column, encode in values)
            total += int.from_bytes(hashlib.blake2b(encoded, digest_size=16).digest(), "big")
        rows += batch.num_rows
    return RowChecksum(rows=rows, digest=f"{total % _MODULUS:032x}")


def _encoders(schema: pa.Schema, columns: list[str] | None) -> list[tuple[int, Encoder]]:
    lookup = {name.lower(): i for i, name in enumerate(schema.names)}
    wanted = columns or schema.names
    try:
        indexes = [lookup[name.lower()] for name in wanted]
    except KeyError as exc:
        raise KeyError(f"column {exc.args[0]!r} is not in {schema.names}") from None
    return [(i, encoder_for(schema.field(i).type)) for i in indexes]


def encoder_for(arrow_type: pa.DataType) -> Encoder:
    """The canonical encoder for values of ``arrow_type`` (as given by ``Array.to_pylist``)."""
    body = _body_encoder(arrow_type)

    def encode(value: Any) -> bytes:
        return b"\x00" if value is None else body(value)

    return encode


def _body_encoder(arrow_type: pa.DataType) -> Encoder:
    if pa.types.is_boolean(arrow_type):
        return lambda v: b"\x01\x01" if v else b"\x01\x00"
    if pa.types.is_integer(arrow_type):
        return lambda v: b"\x02" + struct.pack(">q", v)
    if pa.types.is_decimal(arrow_type):
        return _decimal
    if pa.types.is_floating(arrow_type):
        return _float
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return lambda v: _sized(b"\x05", v.encode("utf-8"))
    if pa.types.is_binary(arrow_type) or pa.types.is_large_binary(arrow_type):
        return lambda v: _sized(b"\x06", bytes(v))
    if pa.types.is_fixed_size_binary(arrow_type):
        return lambda v: _sized(b"\x06", bytes(v))
    if pa.types.is_date(arrow_type):
        return lambda v: b"\x07" + struct.pack(">i", (v - _EPOCH_DATE).days)
    if pa.types.is_timestamp(arrow_type):
        if arrow_type.tz is not None:
            return lambda v: b"\x08" + struct.pack(">q", _micros(v - _EPOCH_UTC))
        return lambda v: b"\x09" + struct.pack(">q", _micros(v - _EPOCH))
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        element = encoder_for(arrow_type.value_type)
        return lambda v: b"\x0a" + struct.pack(">I", len(v)) + b"".join(element(e) for e in v)
    if pa.types.is_struct(arrow_type):
        fields = [
            (arrow_type.field(i).name, encoder_for(arrow_type.field(i).type)) for i in range(arrow_type.num_fields)
        ]
        return lambda v: b"\x0b" + struct.pack(">I", len(fields)) + b"".join(enc(v[name]) for name, enc in fields)
    if pa.types.is_map(arrow_type):
        key, item = encoder_for(arrow_type.key_type), encoder_for(arrow_type.item_type)

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
    return b"\x04" + struct.pack(">d", value + 0.0 if value != 0 else 0.0)


def _decimal(value: decimal.Decimal) -> bytes:
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    unscaled = int("".join(map(str, digits)) or "0") * (-1 if sign else 1)
    payload = unscaled.to_bytes((unscaled.bit_length() + 8) // 8, "big", signed=True)
    return b"\x03" + bytes([(-exponent) & 0xFF, len(payload)]) + payload


def _micros(delta: dt.timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
