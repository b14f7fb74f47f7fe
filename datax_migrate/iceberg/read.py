"""Read an Iceberg snapshot into Arrow by field id, keeping NULL nested values NULL at every depth.

pyiceberg's own scan (``Table.scan().to_arrow()``, ``ArrowScan``) turns a NULL ``list<struct>`` or
``map<_, struct>`` into an empty one (apache/iceberg-python issue 3833, pyiceberg <= 0.12). This
reader follows the Iceberg column projection rules itself: columns and nested fields are matched by
field id at every depth (by the table's name mapping for files without ids), fields missing from a
file are NULL (or their initial default) or, for identity partition columns, the file's partition
value; promoted types are cast; position deletes and deletion vectors are applied. Equality deletes
are refused.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pyiceberg.io import FileIO
from pyiceberg.io.pyarrow import _read_deletes
from pyiceberg.manifest import DataFileContent, FileFormat
from pyiceberg.schema import Schema
from pyiceberg.table import FileScanTask, Table
from pyiceberg.table.metadata import TableMetadata
from pyiceberg.table.name_mapping import MappedField
from pyiceberg.transforms import IdentityTransform
from pyiceberg.types import IcebergType, ListType, MapType, NestedField, StructType

from datax_migrate.errors import IcebergReadError
from datax_migrate.iceberg.arrow import FIELD_ID_KEY, arrow_type

BATCH_ROWS = 131_072


def read_snapshot(table: Table, snapshot_id: int | None = None, columns: Sequence[str] | None = None) -> pa.Table:
    """Every row of a snapshot of ``table`` (default: the current one), NULL nested values kept NULL.

    See :func:`snapshot_batches` for the arguments.

    Raises:
        IcebergReadError: no such snapshot, or a data file cannot be read faithfully.

    """
    schema = arrow_schema_of(_schema_of(table, snapshot_id, columns))
    return pa.Table.from_batches(snapshot_batches(table, snapshot_id, columns), schema=schema)


def snapshot_batches(
    table: Table, snapshot_id: int | None = None, columns: Sequence[str] | None = None
) -> Iterator[pa.RecordBatch]:
    """The rows of a snapshot of ``table`` (default: the current one), file by file.

    The current snapshot is read with the table's current schema, as engines read a table; an older
    one with the schema it was written with. ``columns`` selects top-level columns by name. Every
    batch has the schema :func:`arrow_schema_of` gives.

    Raises:
        IcebergReadError: no such snapshot, or a data file cannot be read faithfully.

    """
    schema = _schema_of(table, snapshot_id, columns)
    target = arrow_schema_of(schema)
    snapshot = table.snapshot_by_id(snapshot_id) if snapshot_id is not None else table.current_snapshot()
    if snapshot is None:
        return
    for task in plan_tasks(table, snapshot.snapshot_id):
        for batch in read_data_file(table.io, table.metadata, task, schema):
            yield batch if batch.schema == target else batch.cast(target)


def arrow_schema_of(schema: Schema) -> pa.Schema:
    """The Arrow schema the reader returns rows of ``schema`` in (no field ids)."""
    return pa.schema([pa.field(f.name, arrow_type(f.field_type), not f.required) for f in schema.fields])


def _schema_of(table: Table, snapshot_id: int | None, columns: Sequence[str] | None) -> Schema:
    schema_id = None
    if snapshot_id is not None:
        snapshot = table.snapshot_by_id(snapshot_id)
        if snapshot is None:
            raise IcebergReadError(f"Iceberg table {'.'.join(table.name())} has no snapshot {snapshot_id}")
        schema_id = snapshot.schema_id
    schema = snapshot_schema(table.metadata, schema_id)
    return schema.select(*columns) if columns is not None else schema


def snapshot_schema(metadata: TableMetadata, schema_id: int | None) -> Schema:
    """The schema a snapshot was written with (the current one when unknown)."""
    found = metadata.schema_by_id(schema_id) if schema_id is not None else None
    return found or metadata.schema()


def plan_tasks(table: Table, snapshot_id: int) -> list[FileScanTask]:
    """The data files of a snapshot with their delete files.

    Raises:
        IcebergReadError: the snapshot has equality delete files.

    """
    try:
        tasks = list(table.scan(snapshot_id=snapshot_id).plan_files())
    except ValueError as exc:
        if "equality delete" in str(exc).lower():
            raise IcebergReadError(
                _equality_message(f"snapshot {snapshot_id} of Iceberg table {'.'.join(table.name())}")
            ) from exc
        raise
    return tasks


def _equality_message(where: str) -> str:
    return (
        f"{where} has equality delete files, which datax-migrate does not apply; compact the table "
        "(rewrite_data_files) or read it with Spark"
    )


def read_data_file(
    io: FileIO, metadata: TableMetadata, task: FileScanTask, schema: Schema, batch_rows: int = BATCH_ROWS
) -> Iterator[pa.RecordBatch]:
    """The live rows of one data file, projected onto ``schema`` by field id.

    Raises:
        IcebergReadError: the file is not Parquet, has equality deletes, or has no field ids and the
            table no name mapping.

    """
    if any(d.content == DataFileContent.EQUALITY_DELETES for d in task.delete_files):
        raise IcebergReadError(_equality_message(f"data file {task.file.file_path}"))
    if task.file.file_format != FileFormat.PARQUET:
        raise IcebergReadError(
            f"data file {task.file.file_path} is {task.file.file_format.value}; datax-migrate reads Parquet data files"
        )
    mapping = metadata.name_mapping()
    scope = list(mapping) if mapping is not None else None
    constants = _identity_partition_values(metadata, task, schema)
    with io.new_input(task.file.file_path).open() as stream:
        parquet = pq.ParquetFile(stream)
        file_fields = {}
        for field in parquet.schema_arrow:
            field_id = _field_id(field, field.name, scope)
            if field_id is not None:
                file_fields[field_id] = field
        if not file_fields and len(parquet.schema_arrow):
            raise IcebergReadError(
                f"data file {task.file.file_path} has no Parquet field ids and the table has no name mapping "
                "(schema.name-mapping.default)"
            )
        keep = _live_rows(io, task, parquet.metadata.num_rows)
        columns = [file_fields[f.field_id].name for f in schema.fields if f.field_id in file_fields]
        first = 0
        for batch in parquet.iter_batches(batch_size=batch_rows, columns=columns, use_threads=True):
            rows = batch.num_rows
            if keep is not None:
                batch = batch.filter(pa.array(keep[first : first + rows]))
            first += rows
            if batch.num_rows:
                yield _project_batch(batch, schema, file_fields, constants, scope)


def _identity_partition_values(metadata: TableMetadata, task: FileScanTask, schema: Schema) -> dict[int, Any]:
    """Values of identity partition fields, by source field id (used for columns absent from the file)."""
    spec = metadata.specs().get(task.file.spec_id)
    if spec is None:
        return {}
    top_level = {f.field_id for f in schema.fields}
    return {
        field.source_id: task.file.partition[position]
        for position, field in enumerate(spec.fields)
        if isinstance(field.transform, IdentityTransform) and field.source_id in top_level
    }


def _live_rows(io: FileIO, task: FileScanTask, rows: int) -> np.ndarray | None:
    """A keep-mask of the file's rows after its position deletes, or ``None`` without deletes."""
    positions = [
        positions
        for delete_file in task.delete_files
        if delete_file.content == DataFileContent.POSITION_DELETES
        for path, positions in _read_deletes(io, delete_file).items()
        if path == task.file.file_path
    ]
    if not positions:
        return None
    keep = np.ones(rows, dtype=bool)
    for chunked in positions:
        for chunk in chunked.chunks:
            deleted = chunk.to_numpy(zero_copy_only=False).astype(np.int64)
            keep[deleted[deleted < rows]] = False
    return keep


def _field_id(field: pa.Field, name: str, scope: list[MappedField] | None) -> int | None:
    raw = (field.metadata or {}).get(FIELD_ID_KEY)
    if raw is not None:
        return int(raw)
    mapped = _mapped(name, scope)
    return mapped.field_id if mapped is not None else None


def _mapped(name: str, scope: list[MappedField] | None) -> MappedField | None:
    return next((m for m in scope or () if name in m.names), None)


def _children(name: str, scope: list[MappedField] | None) -> list[MappedField] | None:
    mapped = _mapped(name, scope)
    return mapped.fields if mapped is not None else None


def _project_batch(
    batch: pa.RecordBatch,
    schema: Schema,
    file_fields: Mapping[int, pa.Field],
    constants: Mapping[int, Any],
    scope: list[MappedField] | None,
) -> pa.RecordBatch:
    arrays, fields = [], []
    for field in schema.fields:
        file_field = file_fields.get(field.field_id)
        if file_field is not None:
            array = _project(batch.column(file_field.name), field.field_type, _children(file_field.name, scope))
        else:
            value = constants.get(field.field_id, field.initial_default)
            array = _constant(value, arrow_type(field.field_type), batch.num_rows)
        arrays.append(array)
        fields.append(pa.field(field.name, array.type, not field.required))
    return pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))


def _constant(value: Any, arrow: pa.DataType, rows: int) -> pa.Array:
    if value is None:
        return pa.nulls(rows, arrow)
    return pa.repeat(pa.scalar(value, type=arrow), rows)


def _project(array: pa.Array, iceberg: IcebergType, scope: list[MappedField] | None) -> pa.Array:
    """``array`` as Iceberg type ``iceberg``: nested fields by id, NULLs kept at every level."""
    if isinstance(iceberg, StructType):
        return _project_struct(array, iceberg, scope)
    if isinstance(iceberg, ListType):
        element = _project(array.values, iceberg.element_type, _children("element", scope))
        element_field = pa.field("element", element.type, not iceberg.element_required)
        list_class, list_type = (
            (pa.LargeListArray, pa.large_list) if pa.types.is_large_list(array.type) else (pa.ListArray, pa.list_)
        )
        return list_class.from_arrays(array.offsets, element, type=list_type(element_field), mask=_nulls(array))
    if isinstance(iceberg, MapType):
        keys = _project(array.keys, iceberg.key_type, _children("key", scope))
        items = _project(array.items, iceberg.value_type, _children("value", scope))
        map_type = pa.map_(pa.field("key", keys.type, False), pa.field("value", items.type, not iceberg.value_required))
        return pa.MapArray.from_arrays(array.offsets, keys, items, type=map_type, mask=_nulls(array))
    target = arrow_type(iceberg)
    if array.type == target or _only_offsets_differ(array.type, target):
        return array
    if pa.types.is_timestamp(array.type) and pa.types.is_timestamp(target) and array.type.unit == "ns":
        return array.cast(target, safe=False)
    return array.cast(target)


def _project_struct(array: pa.Array, iceberg: StructType, scope: list[MappedField] | None) -> pa.Array:
    struct_type = array.type
    by_id: dict[int, tuple[int, pa.Field]] = {}
    for index in range(struct_type.num_fields):
        child = struct_type.field(index)
        field_id = _field_id(child, child.name, scope)
        if field_id is not None:
            by_id[field_id] = (index, child)
    children, fields = [], []
    for nested in iceberg.fields:
        found = by_id.get(nested.field_id)
        if found is None:
            child_array = _constant(nested.initial_default, arrow_type(nested.field_type), len(array))
        else:
            index, child = found
            child_array = _project(array.field(index), nested.field_type, _children(child.name, scope))
        children.append(child_array)
        fields.append(_output_field(nested, child_array.type))
    return pa.StructArray.from_arrays(children, fields=fields, mask=_nulls(array))


def _output_field(nested: NestedField, arrow: pa.DataType) -> pa.Field:
    return pa.field(nested.name, arrow, not nested.required)


def _nulls(array: pa.Array) -> pa.Array | None:
    return pc.is_null(array) if array.null_count else None


def _only_offsets_differ(a: pa.DataType, b: pa.DataType) -> bool:
    """``string`` vs ``large_string``, ``binary`` vs ``large_binary``: the same values, no cast needed."""
    texts = (pa.string(), pa.large_string())
    binaries = (pa.binary(), pa.large_binary())
    return (a in texts and b in texts) or (a in binaries and b in binaries)
