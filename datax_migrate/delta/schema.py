"""Delta table schemas (the ``schemaString`` of a metaData action) as typed dataclasses.

The JSON format is the one described in delta-io/delta PROTOCOL.md, "Schema Serialization Format".
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from datax_migrate.errors import CorruptLogError

PRIMITIVE_TYPE_NAMES = frozenset(
    {
        "string",
        "long",
        "integer",
        "short",
        "byte",
        "float",
        "double",
        "boolean",
        "binary",
        "date",
        "timestamp",
        "timestamp_ntz",
        "variant",
        "void",
    }
)
_DECIMAL = re.compile(r"^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$")

COLUMN_MAPPING_PHYSICAL_NAME = "delta.columnMapping.physicalName"
GENERATION_EXPRESSION = "delta.generationExpression"
IDENTITY_START = "delta.identity.start"
COLLATIONS = "__COLLATIONS"


@dataclass(frozen=True)
class PrimitiveType:
    """A Delta primitive type such as ``long`` or ``timestamp_ntz``."""

    name: str


@dataclass(frozen=True)
class DecimalType:
    """``decimal(precision, scale)``."""

    precision: int
    scale: int

    @property
    def name(self) -> str:
        """The type as Delta spells it."""
        return f"decimal({self.precision},{self.scale})"


@dataclass(frozen=True)
class ArrayType:
    """``array<element>``."""

    element_type: DeltaType
    contains_null: bool

    name = "array"


@dataclass(frozen=True)
class MapType:
    """``map<key, value>``."""

    key_type: DeltaType
    value_type: DeltaType
    value_contains_null: bool

    name = "map"


@dataclass(frozen=True)
class StructField:
    """One field of a struct, with its Delta field metadata (column mapping, comments, ...)."""

    name: str
    type: DeltaType
    nullable: bool
    metadata: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def physical_name(self) -> str:
        """The name the field has inside Parquet files (differs under column mapping)."""
        return str(self.metadata.get(COLUMN_MAPPING_PHYSICAL_NAME, self.name))

    @property
    def comment(self) -> str | None:
        """The column comment, if any."""
        value = self.metadata.get("comment")
        return str(value) if value is not None else None

    @property
    def generation_expression(self) -> str | None:
        """The SQL expression of a generated column, if this is one."""
        value = self.metadata.get(GENERATION_EXPRESSION)
        return str(value) if value is not None else None


@dataclass(frozen=True)
class StructType:
    """A struct: the table schema itself or a nested record."""

    fields: tuple[StructField, ...]

    name = "struct"

    def field(self, name: str) -> StructField:
        """Return the field called ``name`` (case-insensitive, as Delta resolves names)."""
        lowered = name.lower()
        for candidate in self.fields:
            if candidate.name.lower() == lowered:
                return candidate
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        """Logical names of the top-level fields."""
        return [f.name for f in self.fields]


DeltaType = PrimitiveType | DecimalType | ArrayType | MapType | StructType


def parse_schema(schema_string: str) -> StructType:
    """Parse a Delta ``schemaString`` into a :class:`StructType`.

    Raises:
        CorruptLogError: the string is not a valid Delta schema.

    """
    try:
        document = json.loads(schema_string)
    except (TypeError, ValueError) as exc:
        raise CorruptLogError(f"schemaString is not valid JSON: {exc}") from exc
    parsed = parse_type(document)
    if not isinstance(parsed, StructType):
        raise CorruptLogError("schemaString does not describe a struct")
    return parsed


def parse_type(document: Any) -> DeltaType:
    """Parse one type from its Delta JSON form (a string for primitives, an object otherwise)."""
    if isinstance(document, str):
        decimal = _DECIMAL.match(document)
        if decimal:
            return DecimalType(int(decimal.group(1)), int(decimal.group(2)))
        if document == "decimal":
            return DecimalType(10, 0)
        return PrimitiveType(document)
    if not isinstance(document, dict) or "type" not in document:
        raise CorruptLogError(f"unrecognised type in Delta schema: {document!r}")
    kind = document["type"]
    try:
        if kind == "struct":
            return StructType(
                tuple(
                    StructField(
                        name=f["name"],
                        type=parse_type(f["type"]),
                        nullable=bool(f.get("nullable", True)),
                        metadata=dict(f.get("metadata") or {}),
                    )
                    for f in document["fields"]
                )
            )
        if kind == "array":
            return ArrayType(parse_type(document["elementType"]), bool(document.get("containsNull", True)))
        if kind == "map":
            return MapType(
                parse_type(document["keyType"]),
                parse_type(document["valueType"]),
                bool(document.get("valueContainsNull", True)),
            )
    except KeyError as exc:
        raise CorruptLogError(f"Delta schema {kind} type lacks {exc}") from exc
    raise CorruptLogError(f"unrecognised type in Delta schema: {kind!r}")
