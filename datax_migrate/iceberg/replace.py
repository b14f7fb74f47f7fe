"""Iceberg replace-table semantics, which pyiceberg 0.12 does not offer: the metadata updates of one commit.

Column ids carry over by name where the type stays or widens (int to long, float to double, decimal
precision), as Java's ``TypeUtil.assignFreshIds(schema, baseSchema, ...)`` does by name; a column
whose type changed otherwise gets a new id, so no id ever names two incompatible types. Partition
field ids carry over by source column and transform, across every earlier spec.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from pyiceberg.partitioning import PARTITION_FIELD_ID_START, PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.table.metadata import TableMetadata
from pyiceberg.table.refs import MAIN_BRANCH
from pyiceberg.table.sorting import UNSORTED_SORT_ORDER_ID
from pyiceberg.table.update import (
    AddPartitionSpecUpdate,
    AddSchemaUpdate,
    AssertCurrentSchemaId,
    AssertDefaultSpecId,
    AssertLastAssignedFieldId,
    AssertLastAssignedPartitionId,
    AssertRefSnapshotId,
    RemoveSnapshotRefUpdate,
    SetCurrentSchemaUpdate,
    SetDefaultSortOrderUpdate,
    SetDefaultSpecUpdate,
    TableRequirement,
    TableUpdate,
    UpgradeFormatVersionUpdate,
)
from pyiceberg.types import (
    DecimalType,
    DoubleType,
    FloatType,
    IcebergType,
    IntegerType,
    ListType,
    LongType,
    MapType,
    NestedField,
    StructType,
)


def replace_table_updates(
    metadata: TableMetadata, schema: Schema, spec: PartitionSpec, format_version: int
) -> tuple[tuple[TableUpdate, ...], tuple[TableRequirement, ...]]:
    """The metadata updates of a replace-table onto ``schema`` and ``spec``, and what they require of the table.

    As Iceberg's ``TableMetadata.buildReplacement``: the format version raised if asked, ``schema``
    and ``spec`` made current with the ids of columns and partition fields that carry over (an earlier
    schema or spec reused when identical), the default sort order unsorted, and the ``main`` branch
    removed, so that the next snapshot has no parent. When all of these stay as they are, there is no
    update at all: the caller then overwrites on top of the current snapshot, which stays the new
    snapshot's parent (so ``rollback_to_snapshot`` reaches it). The requirements fail the commit if the
    table's current snapshot, schema, spec or last assigned ids changed meanwhile.
    """
    fresh_schema = _reuse_column_ids(metadata, schema)
    fresh_spec = _reuse_partition_ids(metadata, spec, schema, fresh_schema)
    updates: list[TableUpdate] = []
    if format_version > metadata.format_version:
        updates.append(UpgradeFormatVersionUpdate.model_validate({"format-version": format_version}))
    known_schema = next((s for s in metadata.schemas if s.as_struct() == fresh_schema.as_struct()), None)
    if known_schema is None:
        updates += [
            AddSchemaUpdate.model_validate({"schema": fresh_schema}),
            SetCurrentSchemaUpdate.model_validate({"schema-id": -1}),
        ]
    elif known_schema.schema_id != metadata.current_schema_id:
        updates.append(SetCurrentSchemaUpdate.model_validate({"schema-id": known_schema.schema_id}))
    known_spec = next((s for s in metadata.partition_specs if s.fields == fresh_spec.fields), None)
    if known_spec is None:
        updates += [AddPartitionSpecUpdate(spec=fresh_spec), SetDefaultSpecUpdate.model_validate({"spec-id": -1})]
    elif known_spec.spec_id != metadata.default_spec_id:
        updates.append(SetDefaultSpecUpdate.model_validate({"spec-id": known_spec.spec_id}))
    if metadata.default_sort_order_id != UNSORTED_SORT_ORDER_ID and metadata.sort_order_by_id(UNSORTED_SORT_ORDER_ID):
        updates.append(SetDefaultSortOrderUpdate.model_validate({"sort-order-id": UNSORTED_SORT_ORDER_ID}))
    requirements = (
        AssertRefSnapshotId.model_validate({"ref": MAIN_BRANCH, "snapshot-id": metadata.current_snapshot_id}),
        AssertCurrentSchemaId.model_validate({"current-schema-id": metadata.current_schema_id}),
        AssertDefaultSpecId.model_validate({"default-spec-id": metadata.default_spec_id}),
        AssertLastAssignedFieldId.model_validate({"last-assigned-field-id": metadata.last_column_id}),
        AssertLastAssignedPartitionId.model_validate({"last-assigned-partition-id": metadata.last_partition_id}),
    )
    if updates and MAIN_BRANCH in metadata.refs:
        updates.insert(0, RemoveSnapshotRefUpdate.model_validate({"ref-name": MAIN_BRANCH}))
    return tuple(updates), requirements


def _reuse_column_ids(metadata: TableMetadata, schema: Schema) -> Schema:
    """``schema`` with the ids of the table's current columns where name and type carry over, new ids elsewhere."""
    counter = itertools.count(metadata.last_column_id + 1)
    struct = _reuse_struct(schema.as_struct(), metadata.schema().as_struct(), lambda: next(counter))
    return Schema(*struct.fields, schema_id=max(s.schema_id for s in metadata.schemas) + 1)


def _reuse_struct(new: StructType, old: StructType | None, next_id: Callable[[], int]) -> StructType:
    fields = []
    for field in new.fields:
        before = old.field_by_name(field.name) if old is not None else None
        kept = before if before is not None and _carries_over(before.field_type, field.field_type) else None
        fields.append(
            NestedField(
                field_id=kept.field_id if kept is not None else next_id(),
                name=field.name,
                field_type=_reuse_type(field.field_type, kept.field_type if kept is not None else None, next_id),
                required=field.required,
                doc=field.doc,
            )
        )
    return StructType(*fields)


def _reuse_type(new: IcebergType, old: IcebergType | None, next_id: Callable[[], int]) -> IcebergType:
    if isinstance(new, StructType):
        return _reuse_struct(new, old if isinstance(old, StructType) else None, next_id)
    if isinstance(new, ListType):
        element = _kept(old.element_field if isinstance(old, ListType) else None, new.element_type)
        return ListType(
            element_id=element.field_id if element is not None else next_id(),
            element=_reuse_type(new.element_type, element.field_type if element is not None else None, next_id),
            element_required=new.element_required,
        )
    if isinstance(new, MapType):
        key = _kept(old.key_field if isinstance(old, MapType) else None, new.key_type)
        value = _kept(old.value_field if isinstance(old, MapType) else None, new.value_type)
        return MapType(
            key_id=key.field_id if key is not None else next_id(),
            key_type=_reuse_type(new.key_type, key.field_type if key is not None else None, next_id),
            value_id=value.field_id if value is not None else next_id(),
            value_type=_reuse_type(new.value_type, value.field_type if value is not None else None, next_id),
            value_required=new.value_required,
        )
    return new


def _kept(old: NestedField | None, new: IcebergType) -> NestedField | None:
    return old if old is not None and _carries_over(old.field_type, new) else None


def _carries_over(old: IcebergType, new: IcebergType) -> bool:
    """Whether a column of type ``old`` keeps its id as ``new``: the same nesting, or a primitive Iceberg promotes."""
    if old.is_primitive and new.is_primitive:
        return (
            old == new
            or (isinstance(old, IntegerType) and isinstance(new, LongType))
            or (isinstance(old, FloatType) and isinstance(new, DoubleType))
            or (
                isinstance(old, DecimalType)
                and isinstance(new, DecimalType)
                and old.scale == new.scale
                and new.precision >= old.precision
            )
        )
    return type(old) is type(new)


def _reuse_partition_ids(metadata: TableMetadata, spec: PartitionSpec, schema: Schema, fresh: Schema) -> PartitionSpec:
    """``spec`` (on ``schema``) moved onto ``fresh``, with the field id a partition field had in any earlier spec."""
    known: dict[tuple[int, str], int] = {}
    for earlier in metadata.partition_specs:
        for field in earlier.fields:
            key = (field.source_id, str(field.transform))
            known[key] = max(known.get(key, field.field_id), field.field_id)
    counter = itertools.count(max(metadata.last_partition_id or 0, PARTITION_FIELD_ID_START - 1) + 1)
    fields = []
    for field in spec.fields:
        source_id = fresh.find_field(schema.find_column_name(field.source_id) or "").field_id
        field_id = known.get((source_id, str(field.transform)))
        fields.append(
            PartitionField(
                source_id=source_id,
                field_id=field_id if field_id is not None else next(counter),
                transform=field.transform,
                name=field.name,
            )
        )
    return PartitionSpec(*fields, spec_id=max(s.spec_id for s in metadata.partition_specs) + 1)
