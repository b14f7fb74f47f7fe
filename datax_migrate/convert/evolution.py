"""Delta schema and partitioning changes as Iceberg schema and partition evolution, field ids kept.

A Delta column is the same column across a schema change when its physical name is the same (column
mapping: renames and drops keep it) or, without column mapping, when its name is; the Iceberg field
keeps its id then, so data files written before the change still read under the new schema (an added
column reads as NULL, a dropped one is gone, a renamed one keeps its values). A type change keeps
the id only where Iceberg promotes the type (int to long, float to double, decimal precision);
any other type change of a column that still holds data cannot be expressed and is refused. A
partitioning change becomes a new partition spec, partition field ids kept by source and transform.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable

from pyiceberg.partitioning import PARTITION_FIELD_ID_START, PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.types import IcebergType, ListType, MapType, NestedField, StructType

from datax_migrate.delta import schema as delta
from datax_migrate.errors import MappingError
from datax_migrate.iceberg.partitioning import PartitionColumn, partition_spec
from datax_migrate.iceberg.replace import _carries_over
from datax_migrate.iceberg.schema import TypeMapOptions, iceberg_schema


def evolve_schema(
    current: Schema,
    last_column_id: int,
    old: delta.StructType,
    new: delta.StructType,
    *,
    column_mapping: bool,
    options: TypeMapOptions,
    rewrites_all: bool,
) -> Schema:
    """The Iceberg schema of Delta schema ``new``, given that ``current`` is the Iceberg schema of ``old``.

    Args:
        current: The table's current Iceberg schema (built from ``old``; fields are matched by name).
        last_column_id: The highest field id the table ever assigned.
        old: The Delta schema before the change.
        new: The Delta schema after it.
        column_mapping: Match columns by physical name (Delta column mapping) instead of by name.
        options: Type mapping options.
        rewrites_all: Every data file is replaced by the same change (an overwrite of the whole table):
            a type Iceberg cannot promote then gets a new column instead of a refusal.

    Raises:
        MappingError: a column that keeps data changed to a type Iceberg cannot promote.

    """
    fresh = iceberg_schema(new, options)
    counter = itertools.count(last_column_id + 1)
    rules = _Rules(column_mapping, rewrites_all, lambda: next(counter))
    struct = rules.struct(fresh.as_struct(), new, old, current.as_struct(), "")
    return Schema(*struct.fields, schema_id=current.schema_id + 1)


class _Rules:
    def __init__(self, column_mapping: bool, rewrites_all: bool, next_id: Callable[[], int]) -> None:
        self.column_mapping, self.rewrites_all, self.next_id = column_mapping, rewrites_all, next_id

    def _match(self, field: delta.StructField, old: delta.StructType | None) -> int | None:
        if old is None:
            return None
        for index, candidate in enumerate(old.fields):
            if self.column_mapping and candidate.physical_name == field.physical_name:
                return index
            if not self.column_mapping and candidate.name.lower() == field.name.lower():
                return index
        return None

    def struct(
        self,
        fresh: StructType,
        new: delta.StructType,
        old: delta.StructType | None,
        current: StructType | None,
        at: str,
    ) -> StructType:
        fields = []
        for made, field in zip(fresh.fields, new.fields, strict=True):
            index = self._match(field, old)
            matched = old.fields[index] if index is not None and old is not None else None
            kept = _field_named(current, matched.name) if matched is not None else None
            before = matched.type if matched is not None else None
            if kept is not None and not _carries_over(kept.field_type, made.field_type):
                if not self.rewrites_all:
                    raise MappingError(
                        f"column {at}{field.name!r} changed type from {kept.field_type} to {made.field_type}, which "
                        "Iceberg cannot promote; the change cannot be synced exactly (convert --replace rewrites it)"
                    )
                kept, before = None, None
            fields.append(
                NestedField(
                    field_id=kept.field_id if kept is not None else self.next_id(),
                    name=made.name,
                    field_type=self.type(made.field_type, field.type, before, kept.field_type if kept else None, at),
                    # a column new to files written before stays optional (they read it as NULL)
                    required=made.required and (kept.required if kept is not None else self.rewrites_all),
                    doc=made.doc,
                )
            )
        return StructType(*fields)

    def type(
        self, made: IcebergType, new: delta.DeltaType, old: delta.DeltaType | None, current: IcebergType | None, at: str
    ) -> IcebergType:
        if isinstance(made, StructType) and isinstance(new, delta.StructType):
            old_struct = old if isinstance(old, delta.StructType) else None
            return self.struct(made, new, old_struct, current if isinstance(current, StructType) else None, f"{at}.")
        if isinstance(made, ListType) and isinstance(new, delta.ArrayType):
            was = current if isinstance(current, ListType) else None
            old_element = old.element_type if isinstance(old, delta.ArrayType) else None
            return ListType(
                element_id=was.element_id if was is not None else self.next_id(),
                element=self.type(
                    made.element_type, new.element_type, old_element, was.element_type if was else None, at
                ),
                element_required=made.element_required,
            )
        if isinstance(made, MapType) and isinstance(new, delta.MapType):
            was_map = current if isinstance(current, MapType) else None
            old_map = old if isinstance(old, delta.MapType) else None
            return MapType(
                key_id=was_map.key_id if was_map is not None else self.next_id(),
                key_type=self.type(
                    made.key_type,
                    new.key_type,
                    old_map.key_type if old_map else None,
                    was_map.key_type if was_map else None,
                    at,
                ),
                value_id=was_map.value_id if was_map is not None else self.next_id(),
                value_type=self.type(
                    made.value_type,
                    new.value_type,
                    old_map.value_type if old_map else None,
                    was_map.value_type if was_map else None,
                    at,
                ),
                value_required=made.value_required,
            )
        return made


def _field_named(struct: StructType | None, name: str) -> NestedField | None:
    """The field of ``struct`` named ``name`` (the Iceberg field of a Delta column; never matched by position)."""
    if struct is None:
        return None
    return next((f for f in struct.fields if f.name == name), None)


def evolve_spec(
    partitioning: list[PartitionColumn], schema: Schema, known: Iterable[PartitionSpec], last_partition_id: int | None
) -> PartitionSpec:
    """The partition spec of ``partitioning`` over ``schema``: a known spec when identical, else a new one.

    A partition field keeps the id it had in any earlier spec with the same source column and transform.
    """
    known = list(known)
    made = partition_spec(partitioning, schema)
    ids: dict[tuple[int, str], int] = {}
    for spec in known:
        for field in spec.fields:
            ids[(field.source_id, str(field.transform))] = field.field_id
    counter = itertools.count(max(last_partition_id or 0, PARTITION_FIELD_ID_START - 1) + 1)
    fields = [
        PartitionField(
            source_id=f.source_id,
            field_id=ids.get((f.source_id, str(f.transform))) or next(counter),
            transform=f.transform,
            name=f.name,
        )
        for f in made.fields
    ]
    for spec in known:
        if spec.fields == tuple(fields):
            return spec
    return PartitionSpec(*fields, spec_id=max(s.spec_id for s in known) + 1)
