"""A small encoder for Parquet's Variant binary format, to build test tables with variant columns.

Besides the unshredded encoding, :func:`shred_column` shreds values as VariantShredding.md
describes (the writer's side), and :func:`describe` decodes an encoded variant into a tree that
differs only where the spec calls two encodings equivalent (short and long strings, decimal widths).
"""

from __future__ import annotations

import datetime as dt
import decimal
import struct
import uuid
from typing import Any

import numpy as np
import pyarrow as pa

SQL_NULL = object()
"""A row whose variant column is NULL (as opposed to a variant holding JSON null, ``None``)."""

_NUMPY_TYPES = {np.int8: (3, "<b"), np.int16: (4, "<h"), np.int32: (5, "<i"), np.float32: (14, "<f")}


def encode(value: Any) -> tuple[bytes, bytes]:
    """Encode ``value`` (None, bool, int, float, str, Decimal, date, dict, list) as (value, metadata)."""
    keys: list[str] = sorted(_keys(value))
    return _value(value, {k: i for i, k in enumerate(keys)}), _metadata(keys)


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value).union(*(_keys(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_keys(v) for v in value))
    return set()


def _metadata(keys: list[str]) -> bytes:
    encoded = [k.encode() for k in keys]
    offsets = [0]
    for key in encoded:
        offsets.append(offsets[-1] + len(key))
    header = 0x01 | 0x10 | (3 << 6)  # version 1, sorted, 4-byte offsets
    body = struct.pack("<I", len(keys)) + b"".join(struct.pack("<I", o) for o in offsets)
    return bytes([header]) + body + b"".join(encoded)


def _primitive(type_id: int, payload: bytes = b"") -> bytes:
    return bytes([type_id << 2]) + payload


def _value(value: Any, ids: dict[str, int]) -> bytes:
    if value is None:
        return _primitive(0)
    if isinstance(value, bool):
        return _primitive(1 if value else 2)
    if type(value) in _NUMPY_TYPES:
        type_id, fmt = _NUMPY_TYPES[type(value)]
        return _primitive(type_id, struct.pack(fmt, value))
    if isinstance(value, dt.datetime):
        micros = (value.replace(tzinfo=None) - dt.datetime(1970, 1, 1)) // dt.timedelta(microseconds=1)
        return _primitive(12 if value.tzinfo else 13, struct.pack("<q", micros))
    if isinstance(value, dt.time):
        micros = (value.hour * 3600 + value.minute * 60 + value.second) * 1_000_000 + value.microsecond
        return _primitive(17, struct.pack("<q", micros))
    if isinstance(value, bytes):
        return _primitive(15, struct.pack("<I", len(value)) + value)
    if isinstance(value, uuid.UUID):
        return _primitive(20, value.bytes)
    if isinstance(value, int):
        return _primitive(6, struct.pack("<q", value))
    if isinstance(value, float):
        return _primitive(7, struct.pack("<d", value))
    if isinstance(value, decimal.Decimal):
        sign, digits, exponent = value.as_tuple()
        unscaled = int("".join(map(str, digits))) * (-1 if sign else 1)
        return _primitive(10, bytes([-int(exponent)]) + unscaled.to_bytes(16, "little", signed=True))
    if isinstance(value, dt.date):
        return _primitive(11, struct.pack("<i", (value - dt.date(1970, 1, 1)).days))
    if isinstance(value, str):
        data = value.encode()
        if len(data) < 64:
            return bytes([1 | (len(data) << 2)]) + data
        return _primitive(16, struct.pack("<I", len(data)) + data)
    if isinstance(value, dict):
        items = sorted(value.items())
        children = [_value(v, ids) for _, v in items]
        header = 2 | (3 << 2) | (3 << 4) | (1 << 6)  # 4-byte offsets and ids, large
        out = bytes([header]) + struct.pack("<I", len(items))
        out += b"".join(struct.pack("<I", ids[k]) for k, _ in items)
        return out + _offsets(children) + b"".join(children)
    if isinstance(value, list):
        children = [_value(v, ids) for v in value]
        header = 3 | (3 << 2) | (1 << 4)  # 4-byte offsets, large
        return bytes([header]) + struct.pack("<I", len(children)) + _offsets(children) + b"".join(children)
    raise TypeError(type(value))


def _offsets(children: list[bytes]) -> bytes:
    offsets = [0]
    for child in children:
        offsets.append(offsets[-1] + len(child))
    return b"".join(struct.pack("<I", o) for o in offsets)


def shredded_type(shape: Any) -> pa.DataType:
    """The ``typed_value`` type of a shredding shape: a dict (object), a one-item list (array) or an Arrow type."""
    if isinstance(shape, dict):
        return pa.struct([pa.field(name, _group_type(sub), nullable=False) for name, sub in shape.items()])
    if isinstance(shape, list):
        return pa.list_(pa.field("element", _group_type(shape[0]), nullable=False))
    return shape


def _group_type(shape: Any) -> pa.DataType:
    """``struct<value, typed_value>``; only ``value`` when ``shape`` is None."""
    fields = [pa.field("value", pa.binary())]
    if shape is not None:
        fields.append(pa.field("typed_value", shredded_type(shape)))
    return pa.struct(fields)


def shred_column(values: list[Any], shape: Any) -> pa.StructArray:
    """A shredded variant column ``struct<metadata, value, typed_value>``; :data:`SQL_NULL` rows are NULL."""
    rows = []
    for value in values:
        if value is SQL_NULL:
            rows.append(None)
            continue
        keys = sorted(_keys(value) | _shape_keys(shape))
        ids = {k: i for i, k in enumerate(keys)}
        rows.append({"metadata": _metadata(keys), **_shred(value, shape, ids)})
    column_type = pa.struct(
        [
            pa.field("metadata", pa.binary(), nullable=False),
            ("value", pa.binary()),
            ("typed_value", shredded_type(shape)),
        ]
    )
    return pa.array(rows, column_type)


def _shape_keys(shape: Any) -> set[str]:
    if isinstance(shape, dict):
        return set(shape).union(*(_shape_keys(s) for s in shape.values()))
    if isinstance(shape, list):
        return _shape_keys(shape[0])
    return set()


def _shred(value: Any, shape: Any, ids: dict[str, int]) -> dict[str, Any]:
    if shape is None:
        return {"value": _value(value, ids)}
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return {"value": _value(value, ids), "typed_value": None}
        typed = {
            name: _shred(value[name], sub, ids) if name in value else {"value": None, "typed_value": None}
            for name, sub in shape.items()
        }
        rest = {k: v for k, v in value.items() if k not in shape}
        return {"value": _value(rest, ids) if rest else None, "typed_value": typed}
    if isinstance(shape, list):
        if not isinstance(value, list):
            return {"value": _value(value, ids), "typed_value": None}
        return {"value": None, "typed_value": [_shred(e, shape[0], ids) for e in value]}
    if _matches(value, shape):
        return {"value": None, "typed_value": _arrow_value(value)}
    return {"value": _value(value, ids), "typed_value": None}


def _matches(value: Any, arrow: pa.DataType) -> bool:
    if pa.types.is_decimal(arrow):
        return isinstance(value, decimal.Decimal) and value.as_tuple().exponent == -arrow.scale
    if pa.types.is_timestamp(arrow):
        return isinstance(value, dt.datetime) and (value.tzinfo is not None) == (arrow.tz is not None)
    python = {
        pa.int64(): int,
        pa.int32(): np.int32,
        pa.int16(): np.int16,
        pa.int8(): np.int8,
        pa.float64(): float,
        pa.float32(): np.float32,
        pa.bool_(): bool,
        pa.string(): str,
        pa.binary(): bytes,
        pa.date32(): dt.date,
        pa.time64("us"): dt.time,
        pa.binary(16): uuid.UUID,
    }[arrow]
    return type(value) is python


def _arrow_value(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, uuid.UUID):
        return value.bytes
    return value


def describe(value: bytes, metadata: bytes) -> Any:
    """Decode a variant into nested dicts and lists of (kind, payload) leaves, by its own reading of the spec.

    Leaves keep their type id and raw payload, except where the spec names encodings equivalent:
    short and long strings are both ``("string", bytes)``, decimal4/8/16 are ``("decimal", scale, unscaled)``.
    """
    header = metadata[0]
    size = ((header >> 6) & 0x03) + 1
    count = int.from_bytes(metadata[1 : 1 + size], "little")
    offsets = [
        int.from_bytes(metadata[1 + size + i * size : 1 + size + (i + 1) * size], "little") for i in range(count + 1)
    ]
    base = 1 + size + (count + 1) * size
    keys = [metadata[base + offsets[i] : base + offsets[i + 1]].decode() for i in range(count)]
    return _describe(value, keys)


def _describe(value: bytes, keys: list[str]) -> Any:
    header = value[0]
    basic, info = header & 0x03, header >> 2
    if basic == 1:
        return ("string", value[1 : 1 + info])
    if basic == 0:
        if info == 16:
            return ("string", value[5 : 5 + struct.unpack_from("<I", value, 1)[0]])
        if info in (8, 9, 10):
            width = {8: 4, 9: 8, 10: 16}[info]
            return ("decimal", value[1], int.from_bytes(value[2 : 2 + width], "little", signed=True))
        if info == 15:
            return (info, value[5 : 5 + struct.unpack_from("<I", value, 1)[0]])
        width = {
            0: 0,
            1: 0,
            2: 0,
            3: 1,
            4: 2,
            5: 4,
            6: 8,
            7: 8,
            11: 4,
            12: 8,
            13: 8,
            14: 4,
            17: 8,
            18: 8,
            19: 8,
            20: 16,
        }[info]
        return (info, value[1 : 1 + width])
    large = bool(info & (0x10 if basic == 2 else 0x04))
    offset_size = (info & 0x03) + 1
    id_size = ((info >> 2) & 0x03) + 1 if basic == 2 else 0
    count_size = 4 if large else 1
    count = int.from_bytes(value[1 : 1 + count_size], "little")
    cursor = 1 + count_size
    field_ids = [
        int.from_bytes(value[cursor + i * id_size : cursor + (i + 1) * id_size], "little") for i in range(count)
    ]
    cursor += count * id_size
    offsets = [
        int.from_bytes(value[cursor + i * offset_size : cursor + (i + 1) * offset_size], "little")
        for i in range(count + 1)
    ]
    start = cursor + (count + 1) * offset_size
    children = [_describe(value[start + offsets[i] :], keys) for i in range(count)]
    if basic == 3:
        return children
    names = [keys[i] for i in field_ids]
    assert names == sorted(names, key=str.encode), "object fields must be in key order"
    return dict(zip(names, children, strict=True))
