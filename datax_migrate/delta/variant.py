"""Decode Delta ``variant`` values (Parquet's Variant binary encoding) into JSON text.

Delta stores a variant column in Parquet as ``struct<value: binary, metadata: binary>``; the
encoding is Apache Parquet's VariantEncoding.md: ``metadata`` holds the dictionary of object keys,
``value`` a self-describing tree of primitives, short strings, objects and arrays.

JSON cannot keep every variant type, which is why the conversion maps variant only on request
(``--lossy variant-as-json``): decimals keep their digits, dates and timestamps become ISO-8601
strings, binary becomes base64, and integer/float widths are not kept.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import struct
import uuid
from typing import Any

import pyarrow as pa

from datax_migrate.errors import CorruptLogError

_EPOCH = dt.datetime(1970, 1, 1)
_PRIMITIVE, _SHORT_STRING, _OBJECT, _ARRAY = 0, 1, 2, 3


def variant_column_to_json(array: pa.Array) -> pa.Array:
    """Decode a ``struct<value, metadata>`` variant column into a string column of JSON text."""
    values = array.field("value").to_pylist()
    metadata = array.field("metadata").to_pylist()
    valid = array.is_valid().to_pylist()
    texts = [
        variant_to_json(v, m) if ok and v is not None else None
        for v, m, ok in zip(values, metadata, valid, strict=True)
    ]
    return pa.array(texts, type=pa.string())


def variant_to_json(value: bytes, metadata: bytes) -> str:
    """One variant as compact JSON text.

    Raises:
        CorruptLogError: the bytes are not a valid variant.
    """
    try:
        keys = metadata_keys(metadata)
        decoded, _ = _decode(value, 0, keys)
    except (IndexError, struct.error, ValueError, UnicodeDecodeError) as exc:
        raise CorruptLogError(f"invalid variant value: {exc}") from exc
    return _to_json(decoded)


def metadata_keys(metadata: bytes) -> list[str]:
    """The dictionary of object keys in a variant's ``metadata``, in id order.

    Raises:
        ValueError, IndexError, UnicodeDecodeError: the metadata is not valid.
    """
    header = metadata[0]
    if header & 0x0F != 1:
        raise ValueError(f"unsupported variant metadata version {header & 0x0F}")
    size = ((header >> 6) & 0x03) + 1
    count = int.from_bytes(metadata[1 : 1 + size], "little")
    offsets_start = 1 + size
    offsets = [
        int.from_bytes(metadata[offsets_start + i * size : offsets_start + (i + 1) * size], "little")
        for i in range(count + 1)
    ]
    strings = offsets_start + (count + 1) * size
    return [metadata[strings + offsets[i] : strings + offsets[i + 1]].decode("utf-8") for i in range(count)]


def _decode(value: bytes, position: int, keys: list[str]) -> tuple[Any, int]:
    header = value[position]
    basic_type, info = header & 0x03, header >> 2
    body = position + 1
    if basic_type == _SHORT_STRING:
        return value[body : body + info].decode("utf-8"), body + info
    if basic_type == _PRIMITIVE:
        return _primitive(info, value, body)
    if basic_type == _OBJECT:
        offset_size, id_size, large = (info & 0x03) + 1, ((info >> 2) & 0x03) + 1, bool(info & 0x10)
        count, cursor = _count(value, body, large)
        ids = [_int(value, cursor + i * id_size, id_size) for i in range(count)]
        cursor += count * id_size
        offsets = [_int(value, cursor + i * offset_size, offset_size) for i in range(count + 1)]
        start = cursor + (count + 1) * offset_size
        return {keys[ids[i]]: _decode(value, start + offsets[i], keys)[0] for i in range(count)}, start + offsets[-1]
    offset_size, large = (info & 0x03) + 1, bool(info & 0x04)
    count, cursor = _count(value, body, large)
    offsets = [_int(value, cursor + i * offset_size, offset_size) for i in range(count + 1)]
    start = cursor + (count + 1) * offset_size
    return [_decode(value, start + offsets[i], keys)[0] for i in range(count)], start + offsets[-1]


_PRIMITIVE_SIZES = {0: 0, 1: 0, 2: 0, 3: 1, 4: 2, 5: 4, 6: 8, 7: 8, 8: 5, 9: 9, 10: 17, 11: 4, 12: 8, 13: 8}
_PRIMITIVE_SIZES |= {14: 4, 17: 8, 18: 8, 19: 8, 20: 16}


def value_size(value: bytes, position: int) -> int:
    """The number of bytes of the encoded value that starts at ``position``.

    Raises:
        ValueError, IndexError: the bytes are not a valid variant value.
    """
    header = value[position]
    basic_type, info = header & 0x03, header >> 2
    if basic_type == _SHORT_STRING:
        return 1 + info
    if basic_type == _PRIMITIVE:
        if info in (15, 16):
            return 5 + _int(value, position + 1, 4)
        if info not in _PRIMITIVE_SIZES:
            raise ValueError(f"unknown variant primitive type {info}")
        return 1 + _PRIMITIVE_SIZES[info]
    offset_size = (info & 0x03) + 1
    id_size = ((info >> 2) & 0x03) + 1 if basic_type == _OBJECT else 0
    large = bool(info & (0x10 if basic_type == _OBJECT else 0x04))
    count, cursor = _count(value, position + 1, large)
    cursor += count * id_size
    start = cursor + (count + 1) * offset_size
    return start + _int(value, cursor + count * offset_size, offset_size) - position


def _count(value: bytes, position: int, large: bool) -> tuple[int, int]:
    size = 4 if large else 1
    return _int(value, position, size), position + size


def _int(value: bytes, position: int, size: int) -> int:
    return int.from_bytes(value[position : position + size], "little")


_FIXED = {3: "<b", 4: "<h", 5: "<i", 6: "<q", 7: "<d", 14: "<f"}


def _primitive(type_id: int, value: bytes, body: int) -> tuple[Any, int]:
    if type_id == 0:
        return None, body
    if type_id in (1, 2):
        return type_id == 1, body
    if type_id in _FIXED:
        fmt = _FIXED[type_id]
        return struct.unpack_from(fmt, value, body)[0], body + struct.calcsize(fmt)
    if type_id in (8, 9, 10):
        width = {8: 4, 9: 8, 10: 16}[type_id]
        scale = value[body]
        unscaled = int.from_bytes(value[body + 1 : body + 1 + width], "little", signed=True)
        return decimal.Decimal(unscaled).scaleb(-scale), body + 1 + width
    if type_id == 11:
        days = struct.unpack_from("<i", value, body)[0]
        return (dt.date(1970, 1, 1) + dt.timedelta(days=days)).isoformat(), body + 4
    if type_id in (12, 13, 18, 19):
        raw = struct.unpack_from("<q", value, body)[0]
        micros = raw // 1000 if type_id in (18, 19) else raw
        moment = _EPOCH + dt.timedelta(microseconds=micros)
        text = moment.isoformat() + ("+00:00" if type_id in (12, 18) else "")
        return text, body + 8
    if type_id == 17:
        micros = struct.unpack_from("<q", value, body)[0]
        return (dt.datetime.min + dt.timedelta(microseconds=micros)).time().isoformat(), body + 8
    if type_id in (15, 16):
        length = struct.unpack_from("<I", value, body)[0]
        data = value[body + 4 : body + 4 + length]
        text = base64.b64encode(data).decode("ascii") if type_id == 15 else data.decode("utf-8")
        return text, body + 4 + length
    if type_id == 20:
        return str(uuid.UUID(bytes=bytes(value[body : body + 16]))), body + 16
    raise ValueError(f"unknown variant primitive type {type_id}")


def _to_json(value: Any) -> str:
    """Compact JSON; decimals are written with all their digits (``json`` would need floats)."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k, ensure_ascii=False)}:{_to_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_to_json(v) for v in value) + "]"
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    return json.dumps(value, ensure_ascii=False)
