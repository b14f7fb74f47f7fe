"""A small encoder for Parquet's Variant binary format, to build test tables with variant columns."""

from __future__ import annotations

import datetime as dt
import decimal
import struct
from typing import Any


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
