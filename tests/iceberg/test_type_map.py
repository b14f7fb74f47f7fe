"""The Delta -> Iceberg type map."""

from __future__ import annotations

import json

import pytest
from pyiceberg.types import (
    BinaryType,
    BooleanType,
    DateType,
    DecimalType,
    DoubleType,
    FloatType,
    IntegerType,
    ListType,
    LongType,
    MapType,
    StringType,
    StructType,
    TimestampType,
    TimestamptzType,
)

from datax_migrate.delta.schema import parse_schema
from datax_migrate.errors import MappingError
from datax_migrate.iceberg.schema import TypeMapOptions, iceberg_schema


def delta_schema(*fields: dict) -> str:
    return json.dumps({"type": "struct", "fields": list(fields)})


def f(name: str, type_: object, nullable: bool = True, **metadata: object) -> dict:
    return {"name": name, "type": type_, "nullable": nullable, "metadata": metadata}


@pytest.mark.parametrize(
    ("delta", "iceberg"),
    [
        ("byte", IntegerType()),
        ("short", IntegerType()),
        ("integer", IntegerType()),
        ("long", LongType()),
        ("float", FloatType()),
        ("double", DoubleType()),
        ("boolean", BooleanType()),
        ("string", StringType()),
        ("binary", BinaryType()),
        ("date", DateType()),
        ("timestamp", TimestamptzType()),
        ("timestamp_ntz", TimestampType()),
        ("decimal(1,0)", DecimalType(1, 0)),
        ("decimal(9,2)", DecimalType(9, 2)),
        ("decimal(18,6)", DecimalType(18, 6)),
        ("decimal(38,38)", DecimalType(38, 38)),
    ],
)
def test_primitives(delta: str, iceberg: object) -> None:
    schema = iceberg_schema(parse_schema(delta_schema(f("c", delta))))
    assert schema.find_field("c").field_type == iceberg


def test_nested_types_get_distinct_ids_and_requiredness() -> None:
    nested = {
        "type": "struct",
        "fields": [
            f("tags", {"type": "array", "elementType": "string", "containsNull": False}),
            f("attrs", {"type": "map", "keyType": "string", "valueType": "long", "valueContainsNull": True}),
        ],
    }
    schema = iceberg_schema(parse_schema(delta_schema(f("id", "long", False, comment="key"), f("n", nested))))
    id_field = schema.find_field("id")
    assert id_field.required and id_field.doc == "key"
    struct = schema.find_field("n").field_type
    assert isinstance(struct, StructType)
    tags, attrs = struct.fields
    assert isinstance(tags.field_type, ListType) and tags.field_type.element_required
    assert isinstance(attrs.field_type, MapType) and not attrs.field_type.value_required
    ids = [field.field_id for field in schema._lazy_id_to_field.values()]
    assert len(ids) == len(set(ids)) == 7


def test_variant_is_refused_by_column_name() -> None:
    with pytest.raises(MappingError, match="column 'payload.v' has Delta type variant"):
        iceberg_schema(parse_schema(delta_schema(f("payload", {"type": "struct", "fields": [f("v", "variant")]}))))


def test_collation_needs_opt_in() -> None:
    schema = parse_schema(delta_schema(f("name", "string", __COLLATIONS={"name": "spark.UTF8_LCASE"})))
    with pytest.raises(MappingError, match="--lossy collation-as-string"):
        iceberg_schema(schema)
    mapped = iceberg_schema(schema, TypeMapOptions(frozenset({"collation-as-string"})))
    assert mapped.find_field("name").field_type == StringType()


def test_unknown_lossy_option_is_refused() -> None:
    with pytest.raises(MappingError, match="unknown lossy mapping"):
        TypeMapOptions(frozenset({"everything"}))
