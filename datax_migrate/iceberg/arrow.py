"""Arrow schemas for Iceberg schemas, carrying the Iceberg field ids the Parquet writer needs."""

from __future__ import annotations

import pyarrow as pa
from pyiceberg.io.pyarrow import schema_to_pyarrow
from pyiceberg.schema import Schema
from pyiceberg.types import (
    BinaryType,
    BooleanType,
    DateType,
    DecimalType,
    DoubleType,
    FloatType,
    IcebergType,
    IntegerType,
    ListType,
    LongType,
    MapType,
    NestedField,
    StringType,
    StructType,
    TimestampType,
    TimestamptzType,
)

FIELD_ID_KEY = b"PARQUET:field_id"

_PRIMITIVES: dict[type, pa.DataType] = {
    BooleanType: pa.bool_(),
    IntegerType: pa.int32(),
    LongType: pa.int64(),
    FloatType: pa.float32(),
    DoubleType: pa.float64(),
    StringType: pa.string(),
    BinaryType: pa.binary(),
    DateType: pa.date32(),
    TimestampType: pa.timestamp("us"),
    TimestamptzType: pa.timestamp("us", tz="UTC"),
}


def arrow_schema_with_ids(schema: Schema) -> pa.Schema:
    """The Arrow schema for ``schema``; every field carries ``PARQUET:field_id``."""
    return pa.schema([_field(f.name, f.field_id, f.field_type, not f.required) for f in schema.fields])


def arrow_type(field_type: IcebergType) -> pa.DataType:
    """The Arrow type of ``field_type`` as written by the converter, without field ids."""
    return _type(field_type, ids=False)


def _field(name: str, field_id: int, field_type: IcebergType, nullable: bool, ids: bool = True) -> pa.Field:
    metadata = {FIELD_ID_KEY: str(field_id).encode()} if ids else None
    return pa.field(name, _type(field_type, ids), nullable, metadata=metadata)


def _type(field_type: IcebergType, ids: bool = True) -> pa.DataType:
    if isinstance(field_type, StructType):
        return pa.struct([_nested(f, ids) for f in field_type.fields])
    if isinstance(field_type, ListType):
        return pa.list_(
            _field("element", field_type.element_id, field_type.element_type, not field_type.element_required, ids)
        )
    if isinstance(field_type, MapType):
        return pa.map_(
            _field("key", field_type.key_id, field_type.key_type, False, ids),
            _field("value", field_type.value_id, field_type.value_type, not field_type.value_required, ids),
        )
    if isinstance(field_type, DecimalType):
        return pa.decimal128(field_type.precision, field_type.scale)
    if type(field_type) not in _PRIMITIVES:
        return schema_to_pyarrow(field_type, include_field_ids=ids)
    return _PRIMITIVES[type(field_type)]


def _nested(nested: NestedField, ids: bool = True) -> pa.Field:
    return _field(nested.name, nested.field_id, nested.field_type, not nested.required, ids)
