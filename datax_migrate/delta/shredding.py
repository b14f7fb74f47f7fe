"""Reassemble shredded Delta ``variant`` columns into the unshredded binary encoding.

A shredded variant (Delta reader feature ``variantShredding``; Apache Parquet's
VariantShredding.md) is stored as ``struct<metadata, value, typed_value>``: ``typed_value`` holds
the value when it has the shredded type (a primitive, an array of shredded elements, or an object
whose shredded fields are ``struct<value, typed_value>`` groups), ``value`` holds it otherwise, and
for a partially shredded object ``value`` holds the fields that were not shredded.

:func:`unshred_variant_column` rebuilds ``struct<value, metadata>`` with the spec's reconstruction
algorithm: the metadata is kept, unshredded parts are copied byte for byte, shredded primitives are
encoded in the variant type the spec pairs with their Parquet type, and objects list their fields in
key order. A layout the spec does not define (a ``typed_value`` of another type, a field group
without ``value`` or ``typed_value``) is refused by name; data that breaks the spec's rules (both
``value`` and ``typed_value`` set for a non-object, a shredded key missing from the metadata) is a
corrupt file.
"""

from __future__ import annotations

import decimal
import struct
from typing import Any

import pyarrow as pa

from datax_migrate.delta.variant import metadata_keys, value_size
from datax_migrate.errors import CorruptLogError, UnsupportedFeatureError

VARIANT_NULL = b"\x00"
_OBJECT, _ARRAY = 2, 3


def is_shredded(array: pa.Array) -> bool:
    """Whether a variant column's Parquet group carries a ``typed_value``."""
    return pa.types.is_struct(array.type) and array.type.get_field_index("typed_value") >= 0


def unshred_variant_column(array: pa.Array) -> pa.StructArray:
    """Turn a shredded ``struct<metadata, value, typed_value>`` column into ``struct<value, metadata>``.

    A NULL row stays NULL; a row whose ``value`` and ``typed_value`` are both NULL is a variant null.

    Raises:
        UnsupportedFeatureError: the shredded layout is not one the spec defines.
        CorruptLogError: the data breaks the spec's rules.
    """
    typed_type = array.type.field("typed_value").type
    _check_layout(typed_type)
    metadata = array.field("metadata")
    values = _field_values(array, "value")
    typed = _raw(array.field("typed_value")).to_pylist()
    valid = array.is_valid().to_pylist()
    out: list[bytes | None] = []
    for row, (ok, meta, value, typed_value) in enumerate(zip(valid, metadata.to_pylist(), values, typed, strict=True)):
        if not ok:
            out.append(None)
            continue
        try:
            rebuilt = _rebuild(typed_type, value, typed_value, _Dictionary(metadata_keys(meta)))
        except (IndexError, struct.error, ValueError, UnicodeDecodeError) as exc:
            raise CorruptLogError(f"shredded variant in row {row} is invalid: {exc}") from exc
        out.append(VARIANT_NULL if rebuilt is None else rebuilt)
    mask = array.is_null() if array.null_count else None
    return pa.StructArray.from_arrays(
        [pa.array(out, pa.binary()), metadata.cast(pa.binary())], names=["value", "metadata"], mask=mask
    )


def _field_values(array: pa.Array, name: str) -> list[Any]:
    if array.type.get_field_index(name) < 0:
        return [None] * len(array)
    return array.field(name).to_pylist()


def _check_layout(typed_type: pa.DataType) -> None:
    """Refuse, naming the type, any ``typed_value`` the shredding spec does not define."""
    if pa.types.is_struct(typed_type):
        for index in range(typed_type.num_fields):
            group = typed_type.field(index)
            _check_group(group.type, f"object field {group.name!r}")
    elif pa.types.is_list(typed_type) or pa.types.is_large_list(typed_type):
        _check_group(typed_type.value_type, "array element")
    elif _primitive_encoder(typed_type) is None:
        raise UnsupportedFeatureError(
            f"variant shredded as {typed_type} cannot be reassembled: the Variant shredding spec "
            "defines no such typed_value"
        )


def _check_group(group_type: pa.DataType, what: str) -> None:
    names = (
        {group_type.field(i).name for i in range(group_type.num_fields)} if pa.types.is_struct(group_type) else set()
    )
    if not names or not names <= {"value", "typed_value"}:
        raise UnsupportedFeatureError(
            f"shredded variant {what} is {group_type}, not a group of value and typed_value; it cannot be reassembled"
        )
    if "typed_value" in names:
        _check_layout(group_type.field("typed_value").type)


def _raw(array: pa.Array) -> pa.Array:
    """Temporal leaves as their stored integers, so ``to_pylist`` keeps every digit."""
    kind = array.type
    if pa.types.is_struct(kind):
        children = [_raw(array.field(i)) for i in range(kind.num_fields)]
        names = [kind.field(i).name for i in range(kind.num_fields)]
        mask = array.is_null() if array.null_count else None
        return pa.StructArray.from_arrays(children, names=names, mask=mask)
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        values = _raw(array.values)
        list_type = pa.large_list(values.type) if pa.types.is_large_list(kind) else pa.list_(values.type)
        mask = array.is_null() if array.null_count else None
        return type(array).from_arrays(array.offsets, values, type=list_type, mask=mask)
    if pa.types.is_timestamp(kind) or pa.types.is_time64(kind):
        return array.view(pa.int64())
    if pa.types.is_date32(kind):
        return array.view(pa.int32())
    if isinstance(kind, pa.BaseExtensionType):
        return array.storage
    return array


class _Dictionary:
    """The metadata's keys, by id and by name (the first id of a key that appears twice)."""

    def __init__(self, keys: list[str]) -> None:
        self.keys = keys
        self.ids: dict[str, int] = {}
        for index, key in enumerate(keys):
            self.ids.setdefault(key, index)


def _rebuild(typed_type: pa.DataType, value: bytes | None, typed: Any, ids: _Dictionary) -> bytes | None:
    """The variant that ``value`` and ``typed_value`` encode together; ``None`` when it is missing."""
    if typed is None:
        return value
    if pa.types.is_struct(typed_type):
        return _rebuild_object(typed_type, value, typed, ids)
    if value is not None:
        raise ValueError("both value and typed_value are set for a value that is not an object")
    if pa.types.is_list(typed_type) or pa.types.is_large_list(typed_type):
        element_type = typed_type.value_type
        element_typed = _typed_child(element_type)
        elements = [
            _rebuild(element_typed, element.get("value"), element.get("typed_value"), ids) or VARIANT_NULL
            for element in typed
        ]
        return _container(_ARRAY, [], elements)
    encoder = _primitive_encoder(typed_type)
    assert encoder is not None  # _check_layout refused the others
    return encoder(typed)


def _rebuild_object(typed_type: pa.StructType, value: bytes | None, typed: dict[str, Any], ids: _Dictionary) -> bytes:
    fields: dict[str, tuple[int, bytes]] = {}
    for index in range(typed_type.num_fields):
        group = typed_type.field(index)
        cell = typed[group.name] or {}
        child = _rebuild(_typed_child(group.type), cell.get("value"), cell.get("typed_value"), ids)
        if child is not None:
            if group.name not in ids.ids:
                raise ValueError(f"shredded field {group.name!r} is not in the variant metadata")
            fields[group.name] = (ids.ids[group.name], child)
    if value is not None:
        for key_id, child in _object_fields(value):
            if key_id >= len(ids.keys):
                raise ValueError(f"field id {key_id} is not in the variant metadata")
            key = ids.keys[key_id]
            if typed_type.get_field_index(key) >= 0:
                # Invalid per the spec, and readers differ (some error, some keep the shredded value).
                raise ValueError(f"field {key!r} is both shredded and in the object's value")
            fields[key] = (key_id, child)
    ordered = [fields[k] for k in sorted(fields, key=lambda k: k.encode("utf-8"))]
    return _container(_OBJECT, [key_id for key_id, _ in ordered], [child for _, child in ordered])


def _typed_child(group_type: pa.DataType) -> pa.DataType:
    index = group_type.get_field_index("typed_value")
    return group_type.field(index).type if index >= 0 else pa.null()


def _object_fields(value: bytes) -> list[tuple[int, bytes]]:
    """The (field id, encoded value) pairs of an encoded object."""
    header = value[0]
    if header & 0x03 != _OBJECT:
        raise ValueError("a partially shredded value is not an object")
    info = header >> 2
    offset_size, id_size, large = (info & 0x03) + 1, ((info >> 2) & 0x03) + 1, bool(info & 0x10)
    count_size = 4 if large else 1
    count = int.from_bytes(value[1 : 1 + count_size], "little")
    cursor = 1 + count_size
    field_ids = [
        int.from_bytes(value[cursor + i * id_size : cursor + (i + 1) * id_size], "little") for i in range(count)
    ]
    cursor += count * id_size
    offsets = [
        int.from_bytes(value[cursor + i * offset_size : cursor + (i + 1) * offset_size], "little") for i in range(count)
    ]
    start = cursor + (count + 1) * offset_size
    return [
        (field_id, bytes(value[start + offset : start + offset + value_size(value, start + offset)]))
        for field_id, offset in zip(field_ids, offsets, strict=True)
    ]


def _width(number: int) -> int:
    return 1 if number < 1 << 8 else 2 if number < 1 << 16 else 3 if number < 1 << 24 else 4


def _container(basic_type: int, field_ids: list[int], children: list[bytes]) -> bytes:
    """Encode an object (``field_ids`` given) or an array with the smallest offset and id widths."""
    offsets = [0]
    for child in children:
        offsets.append(offsets[-1] + len(child))
    offset_size = _width(offsets[-1])
    large = len(children) > 0xFF
    count = len(children).to_bytes(4 if large else 1, "little")
    if basic_type == _OBJECT:
        id_size = _width(max(field_ids, default=0))
        header = (offset_size - 1) | ((id_size - 1) << 2) | (int(large) << 4)
        ids = b"".join(i.to_bytes(id_size, "little") for i in field_ids)
    else:
        header = (offset_size - 1) | (int(large) << 2)
        ids = b""
    encoded_offsets = b"".join(o.to_bytes(offset_size, "little") for o in offsets)
    return bytes([basic_type | (header << 2)]) + count + ids + encoded_offsets + b"".join(children)


def _primitive(type_id: int, payload: bytes = b"") -> bytes:
    return bytes([type_id << 2]) + payload


def _string(text: str) -> bytes:
    data = text.encode("utf-8")
    if len(data) < 64:
        return bytes([1 | (len(data) << 2)]) + data
    return _primitive(16, struct.pack("<I", len(data)) + data)


def _decimal(type_id: int, width: int, scale: int) -> Any:
    def encode(number: decimal.Decimal) -> bytes:
        sign, digits, exponent = number.as_tuple()
        assert isinstance(exponent, int)
        unscaled = int("".join(map(str, digits)) or "0") * 10 ** (exponent + scale)
        return _primitive(
            type_id, bytes([scale]) + (-unscaled if sign else unscaled).to_bytes(width, "little", signed=True)
        )

    return encode


def _fixed(type_id: int, fmt: str) -> Any:
    return lambda number: _primitive(type_id, struct.pack(fmt, number))


def _primitive_encoder(kind: pa.DataType) -> Any:
    """The encoder of a shredded primitive's variant type (VariantShredding.md table), or None."""
    if isinstance(kind, pa.BaseExtensionType):
        return _primitive_encoder(kind.storage_type) if kind.extension_name == "arrow.uuid" else None
    simple = {
        pa.bool_(): lambda b: _primitive(1 if b else 2),
        pa.int8(): _fixed(3, "<b"),
        pa.int16(): _fixed(4, "<h"),
        pa.int32(): _fixed(5, "<i"),
        pa.int64(): _fixed(6, "<q"),
        pa.float32(): _fixed(14, "<f"),
        pa.float64(): _fixed(7, "<d"),
        pa.date32(): _fixed(11, "<i"),
        pa.time64("us"): _fixed(17, "<q"),
        pa.timestamp("us", tz="UTC"): _fixed(12, "<q"),
        pa.timestamp("us"): _fixed(13, "<q"),
        pa.timestamp("ns", tz="UTC"): _fixed(18, "<q"),
        pa.timestamp("ns"): _fixed(19, "<q"),
        pa.binary(): lambda data: _primitive(15, struct.pack("<I", len(data)) + data),
        pa.large_binary(): lambda data: _primitive(15, struct.pack("<I", len(data)) + data),
        pa.string(): _string,
        pa.large_string(): _string,
        pa.binary(16): lambda data: _primitive(20, bytes(data)),
    }
    if pa.types.is_decimal(kind) and kind.precision <= 38:
        width = 4 if kind.precision <= 9 else 8 if kind.precision <= 18 else 16
        return _decimal({4: 8, 8: 9, 16: 10}[width], width, kind.scale)
    if pa.types.is_timestamp(kind) and kind.tz is not None and kind.tz not in ("UTC", "+00:00"):
        return None
    if pa.types.is_timestamp(kind) and kind.tz is not None:
        kind = pa.timestamp(kind.unit, tz="UTC")
    return simple.get(kind)
