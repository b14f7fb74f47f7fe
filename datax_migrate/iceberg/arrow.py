"""Arrow schemas for Iceberg schemas, carrying the Iceberg field ids the Parquet writer needs."""

from __future__ import annotations

import pyarrow as pa
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


def _field(name: str, field_id: int, field_type: IcebergType, nullable: bool) -> pa.Field:
    return pa.field(name, _type(field_type), nullable, metadata={FIELD_ID_KEY: str(field_id).encode()})


def _type(field_type: IcebergType) -> pa.DataType:
    if isinstance(field_type, StructType):
        return pa.struct([_nested(f) for f in field_type.fields])
    if isinstance(field_type, ListType):
        return pa.list_(
            _field("element", field_type.element_id, field_type.element_type, not field_type.element_required)
        )
    if isinstance(field_type, MapType):
        return pa.map_(
            _field("key", field_type.key_id, field_type.key_type, False),
            _field("value", field_type.value_id, field_type.value_type, not field_type.value_required),
        )
    if isinstance(field_type, DecimalType):
        return pa.decimal128(field_type.precision, field_type.scale)
    return _PRIMITIVES[type(field_type)]


def _nested(nested: NestedField) -> pa.Field:
    return _field(nested.name, nested.field_id, nested.field_type, not nested.required)
