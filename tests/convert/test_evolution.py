"""Schema evolution across a Delta schema change: Iceberg fields are matched to Delta columns, never by position."""

from __future__ import annotations

import json

from pyiceberg.schema import Schema
from pyiceberg.types import LongType, NestedField, StringType

from datax_migrate.convert.evolution import evolve_schema
from datax_migrate.delta.schema import StructType, parse_schema
from datax_migrate.iceberg.schema import TypeMapOptions
from tests.support.delta_builder import field


def delta_schema(*fields: dict[str, object]) -> StructType:
    return parse_schema(json.dumps({"type": "struct", "fields": list(fields)}))


def test_a_column_moved_on_the_iceberg_side_keeps_its_own_field_id() -> None:
    old = delta_schema(field("id", "long"), field("name", "string"))
    new = delta_schema(field("id", "long"), field("name", "string"), field("score", "long"))
    # the Iceberg schema holds the same columns in another order than the Delta schema
    current = Schema(NestedField(2, "name", StringType()), NestedField(1, "id", LongType()), schema_id=0)

    evolved = evolve_schema(current, 2, old, new, column_mapping=False, options=TypeMapOptions(), rewrites_all=False)

    assert [(f.field_id, f.name) for f in evolved.fields] == [(1, "id"), (2, "name"), (3, "score")]
