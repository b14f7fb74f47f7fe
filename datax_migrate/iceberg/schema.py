"""The Delta -> Iceberg type map (documented in docs/type-mapping.md).

Every Delta type maps to the Iceberg type that holds all its values, or is refused by name.
``byte`` and ``short`` widen to ``int`` (Iceberg has no narrower integers); ``timestamp`` (UTC
instants) becomes ``timestamptz`` and ``timestamp_ntz`` becomes ``timestamp``; NOT NULL becomes
``required``; comments become field docs. Types Iceberg v2 cannot hold (``variant``, strings with a
non-default collation, ``void``) are refused unless the caller opts into a named lossy mapping
(:data:`LOSSY_MAPPINGS`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

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

from datax_migrate.delta import schema as delta
from datax_migrate.errors import MappingError

#: Opt-in lossy mappings, by the name users pass on the command line (``--lossy NAME``).
LOSSY_MAPPINGS = {
    "collation-as-string": "strings with a non-default collation become plain (binary-ordered) strings",
    "variant-as-json": "variant values become JSON text (number widths, dates and binary lose their type)",
}

_PRIMITIVES: dict[str, IcebergType] = {
    "boolean": BooleanType(),
    "byte": IntegerType(),
    "short": IntegerType(),
    "integer": IntegerType(),
    "long": LongType(),
    "float": FloatType(),
    "double": DoubleType(),
    "string": StringType(),
    "binary": BinaryType(),
    "date": DateType(),
    "timestamp": TimestamptzType(),
    "timestamp_ntz": TimestampType(),
}

_REFUSED = {
    "variant": "Iceberg v2 has no variant type; pass --lossy variant-as-json to convert it as JSON text",
    "void": "Iceberg has no type for a column that can only hold NULL",
}


@dataclass(frozen=True)
class TypeMapOptions:
    """Which lossy mappings the caller accepted (names from :data:`LOSSY_MAPPINGS`)."""

    lossy: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        unknown = sorted(self.lossy - set(LOSSY_MAPPINGS))
        if unknown:
            raise MappingError(f"unknown lossy mapping(s): {', '.join(unknown)} (known: {', '.join(LOSSY_MAPPINGS)})")


def iceberg_schema(schema: delta.StructType, options: TypeMapOptions | None = None) -> Schema:
    """Map a Delta table schema to an Iceberg schema (field ids assigned in pre-order from 1).

    Raises:
        MappingError: a column has a type Iceberg cannot hold; the message names the column.

    """
    options = options or TypeMapOptions()
    ids = itertools.count(1)
    fields = _fields(schema, "", ids, options)
    return Schema(*fields)


def _fields(struct: delta.StructType, prefix: str, ids: Iterator[int], options: TypeMapOptions) -> list[NestedField]:
    assigned = [(f, next(ids)) for f in struct.fields]
    return [
        NestedField(
            field_id=field_id,
            name=f.name,
            field_type=_type(f.type, f"{prefix}{f.name}", ids, options, f.metadata),
            required=not f.nullable,
            doc=f.comment,
        )
        for f, field_id in assigned
    ]


def _type(
    delta_type: delta.DeltaType,
    column: str,
    ids: Iterator[int],
    options: TypeMapOptions,
    metadata: dict[str, object] | None = None,
) -> IcebergType:
    if isinstance(delta_type, delta.StructType):
        return StructType(*_fields(delta_type, f"{column}.", ids, options))
    if isinstance(delta_type, delta.ArrayType):
        element_id = next(ids)
        return ListType(
            element_id=element_id,
            element_type=_type(delta_type.element_type, f"{column}.element", ids, options),
            element_required=not delta_type.contains_null,
        )
    if isinstance(delta_type, delta.MapType):
        key_id, value_id = next(ids), next(ids)
        return MapType(
            key_id=key_id,
            key_type=_type(delta_type.key_type, f"{column}.key", ids, options),
            value_id=value_id,
            value_type=_type(delta_type.value_type, f"{column}.value", ids, options),
            value_required=not delta_type.value_contains_null,
        )
    if isinstance(delta_type, delta.DecimalType):
        if not 1 <= delta_type.precision <= 38 or not 0 <= delta_type.scale <= delta_type.precision:
            raise MappingError(
                f"column {column!r}: {delta_type.name} is outside Iceberg's decimal range (precision 1..38)"
            )
        return DecimalType(delta_type.precision, delta_type.scale)
    name = delta_type.name
    if name == "variant" and "variant-as-json" in options.lossy:
        return StringType()
    if name in _REFUSED:
        raise MappingError(f"column {column!r} has Delta type {name}: {_REFUSED[name]}; it cannot be converted")
    if name == "string" and metadata and delta.COLLATIONS in metadata and "collation-as-string" not in options.lossy:
        raise MappingError(
            f"column {column!r} is a string with collation {metadata[delta.COLLATIONS]}: Iceberg v2 has no "
            "collations; pass --lossy collation-as-string to convert it as a plain string"
        )
    try:
        return _PRIMITIVES[name]
    except KeyError:
        raise MappingError(f"column {column!r} has Delta type {name!r}, which has no Iceberg equivalent") from None
