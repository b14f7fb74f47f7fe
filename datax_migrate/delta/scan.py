"""Read the rows of Delta data files as Arrow record batches in the table's logical schema.

Per file: read the Parquet columns by their physical names (column mapping), rename and cast them
to the logical (or a caller-given) Arrow type (type widening, legacy INT96 timestamps, columns added
after the file was written become NULL), drop the rows its deletion vector marks and add the
partition columns from the log. Batches stream; a file is never held whole in memory.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from datax_migrate.delta.actions import AddFile
from datax_migrate.delta.deletion_vectors import deleted_rows
from datax_migrate.delta.partitions import parse_partition_value
from datax_migrate.delta.schema import (
    ArrayType,
    DecimalType,
    DeltaType,
    MapType,
    StructField,
    StructType,
)
from datax_migrate.delta.shredding import is_shredded, unshred_variant_column
from datax_migrate.delta.table import DeltaSnapshot
from datax_migrate.delta.variant import variant_column_to_json
from datax_migrate.errors import CorruptLogError, DeltaError, MissingFileError, UnsupportedFeatureError

_PRIMITIVE_ARROW = {
    "string": pa.string(),
    "long": pa.int64(),
    "integer": pa.int32(),
    "short": pa.int16(),
    "byte": pa.int8(),
    "float": pa.float32(),
    "double": pa.float64(),
    "boolean": pa.bool_(),
    "binary": pa.binary(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "timestamp_ntz": pa.timestamp("us"),
    "variant": pa.string(),  # JSON text, see datax_migrate.delta.variant
}

DEFAULT_BATCH_ROWS = 131072


def arrow_type(delta_type: DeltaType) -> pa.DataType:
    """The Arrow type that holds a Delta type (logical names for nested fields)."""
    if isinstance(delta_type, DecimalType):
        return pa.decimal128(delta_type.precision, delta_type.scale)
    if isinstance(delta_type, StructType):
        return pa.struct([arrow_field(f) for f in delta_type.fields])
    if isinstance(delta_type, ArrayType):
        return pa.list_(pa.field("element", arrow_type(delta_type.element_type), delta_type.contains_null))
    if isinstance(delta_type, MapType):
        return pa.map_(
            pa.field("key", arrow_type(delta_type.key_type), False),
            pa.field("value", arrow_type(delta_type.value_type), delta_type.value_contains_null),
        )
    try:
        return _PRIMITIVE_ARROW[delta_type.name]
    except KeyError:
        raise UnsupportedFeatureError(f"Delta type {delta_type.name!r} cannot be read") from None


def arrow_field(delta_field: StructField) -> pa.Field:
    """The Arrow field for a Delta struct field."""
    return pa.field(delta_field.name, arrow_type(delta_field.type), delta_field.nullable)


def arrow_schema(schema: StructType) -> pa.Schema:
    """The Arrow schema of a Delta table (logical column names, partition columns included)."""
    return pa.schema([arrow_field(f) for f in schema.fields])


class FileReader:
    """Reads the data files of one snapshot into a target Arrow schema.

    ``target`` must have one field per Delta column, in schema order, with the logical names; its
    types may differ (they are reached by casting), its field metadata (e.g. Iceberg field ids) is
    kept. It defaults to :func:`arrow_schema` of the snapshot.
    """

    def __init__(self, snapshot: DeltaSnapshot, target: pa.Schema | None = None) -> None:
        """Prepare to read files of ``snapshot``."""
        self.snapshot = snapshot
        self.schema = snapshot.metadata.schema
        self.target = target if target is not None else arrow_schema(self.schema)
        if len(self.target) != len(self.schema.fields):
            raise ValueError("target schema must have one field per Delta column")
        partition_names = {c.lower() for c in snapshot.metadata.partition_columns}
        self.partition_fields = [f for f in self.schema.fields if f.name.lower() in partition_names]
        self._is_partition = [f.name.lower() in partition_names for f in self.schema.fields]

    def partition_values(self, add: AddFile) -> dict[str, object]:
        """Parsed partition values of a file, by logical column name."""
        raw = {k.lower(): v for k, v in add.partition_values.items()}
        values = {}
        for f in self.partition_fields:
            key = f.physical_name.lower() if f.physical_name.lower() in raw else f.name.lower()
            if key not in raw:
                raise CorruptLogError(f"file {add.path} has no partition value for column {f.name!r}")
            values[f.name] = parse_partition_value(raw[key], f.type, f.name)
        return values

    def batches(
        self, add: AddFile, batch_rows: int = DEFAULT_BATCH_ROWS, use_threads: bool = False, pre_buffer: bool = True
    ) -> Iterator[pa.RecordBatch]:
        """Yield the live rows of one data file as record batches in the target schema.

        ``use_threads`` decodes columns on Arrow's thread pool: for a single reader; callers that
        read several files at once on their own threads leave it off. ``pre_buffer`` reads a row
        group's column chunks ahead in coalesced requests, on Arrow's I/O threads (fewer requests to
        object stores); without it the calling thread reads each column chunk itself.

        Raises:
            MissingFileError: the data file or its deletion vector is missing.
            CorruptLogError: the file is not readable Parquet or contradicts the log.

        """
        storage = self.snapshot.storage
        path = storage.resolve(add.path)
        partitions = self.partition_values(add)
        deleted = deleted_rows(storage, add.deletion_vector) if add.deletion_vector else None
        try:
            handle = storage.filesystem.open_input_file(path)
        except FileNotFoundError as exc:
            raise MissingFileError(
                f"data file {path} is missing (referenced by version {self.snapshot.version})"
            ) from exc
        with handle:
            try:
                parquet = pq.ParquetFile(handle, pre_buffer=pre_buffer)
            except (pa.ArrowInvalid, OSError) as exc:
                raise CorruptLogError(f"data file {path} is not readable Parquet: {exc}") from exc
            present = set(parquet.schema_arrow.names)
            columns = [
                f.physical_name
                for f, is_partition in zip(self.schema.fields, self._is_partition, strict=True)
                if not is_partition and f.physical_name in present
            ]
            if deleted is not None and len(deleted) and int(deleted[-1]) >= parquet.metadata.num_rows:
                raise CorruptLogError(
                    f"deletion vector of {path} deletes row {int(deleted[-1])} of {parquet.metadata.num_rows}"
                )
            first_row = 0
            try:
                for batch in parquet.iter_batches(batch_size=batch_rows, columns=columns, use_threads=use_threads):
                    rows = batch.num_rows
                    if deleted is not None and len(deleted):
                        batch = _drop_deleted(batch, deleted, first_row)
                    first_row += rows
                    if batch.num_rows:
                        yield self._conform(batch, partitions)
            except (pa.ArrowInvalid, OSError) as exc:
                raise CorruptLogError(f"data file {path} cannot be read: {exc}") from exc

    def _conform(self, batch: pa.RecordBatch, partitions: dict[str, object]) -> pa.RecordBatch:
        num_rows = batch.num_rows
        arrays = []
        names = batch.schema.names
        for delta_field, target_field, is_partition in zip(
            self.schema.fields, self.target, self._is_partition, strict=True
        ):
            if is_partition:
                arrays.append(_constant(partitions[delta_field.name], target_field.type, num_rows))
            elif delta_field.physical_name in names:
                column = batch.column(names.index(delta_field.physical_name))
                try:
                    arrays.append(conform_array(column, delta_field.type, target_field.type))
                except DeltaError as exc:
                    raise type(exc)(f"column {delta_field.name!r}: {exc}") from exc
            else:
                arrays.append(pa.nulls(num_rows, target_field.type))
        return pa.RecordBatch.from_arrays(arrays, schema=self.target)


def _drop_deleted(batch: pa.RecordBatch, deleted: np.ndarray, first_row: int) -> pa.RecordBatch:
    rows = batch.num_rows
    low, high = np.searchsorted(deleted, [first_row, first_row + rows])
    if low == high:
        return batch
    keep = np.ones(rows, dtype=bool)
    keep[(deleted[low:high] - first_row).astype(np.int64)] = False
    return batch.filter(pa.array(keep))


def _constant(value: object, arrow: pa.DataType, rows: int) -> pa.Array:
    if value is None:
        return pa.nulls(rows, arrow)
    return pa.repeat(pa.scalar(value, type=arrow), rows)


def conform_array(array: pa.Array, delta_type: DeltaType, target: pa.DataType) -> pa.Array:
    """Rename nested fields from physical to logical names and cast to ``target``.

    NULL structs, lists and maps stay NULL (never become empty values).
    """
    if isinstance(array, pa.ChunkedArray):
        return pa.chunked_array([conform_array(c, delta_type, target) for c in array.chunks], type=target)
    if isinstance(delta_type, StructType):
        return _conform_struct(array, delta_type, target)
    if isinstance(delta_type, ArrayType):
        values = conform_array(array.values, delta_type.element_type, target.value_type)
        return pa.ListArray.from_arrays(array.offsets, values, type=target, mask=_null_mask(array))
    if isinstance(delta_type, MapType):
        keys = conform_array(array.keys, delta_type.key_type, target.key_type)
        items = conform_array(array.items, delta_type.value_type, target.item_type)
        return pa.MapArray.from_arrays(array.offsets, keys, items, type=target, mask=_null_mask(array))
    if delta_type.name == "variant":
        array = variant_column_to_json(unshred_variant_column(array) if is_shredded(array) else array)
    if array.type.equals(target):
        return array
    return _cast_primitive(array, delta_type, target)


def _conform_struct(array: pa.Array, delta_type: StructType, target: pa.DataType) -> pa.Array:
    struct_type = array.type
    physical_index = {struct_type.field(i).name: i for i in range(struct_type.num_fields)}
    children = []
    for child, target_child in zip(delta_type.fields, (target.field(i) for i in range(target.num_fields)), strict=True):
        index = physical_index.get(child.physical_name)
        if index is None:
            children.append(pa.nulls(len(array), target_child.type))
        else:
            children.append(conform_array(array.field(index), child.type, target_child.type))
    fields = [target.field(i) for i in range(target.num_fields)]
    return pa.StructArray.from_arrays(children, fields=fields, mask=_null_mask(array))


def _null_mask(array: pa.Array) -> pa.Array | None:
    if array.null_count == 0:
        return None
    return array.is_null()


def _cast_primitive(array: pa.Array, delta_type: DeltaType, target: pa.DataType) -> pa.Array:
    source = array.type
    if pa.types.is_timestamp(source) and pa.types.is_timestamp(target):
        # Parquet INT96 and millisecond timestamps: reinterpret in the target unit and zone.
        if (source.tz is None) != (target.tz is None):
            array = array.cast(pa.timestamp(source.unit, tz=target.tz))
    try:
        return array.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise CorruptLogError(f"a {source} column cannot be read as Delta type {delta_type.name}: {exc}") from exc
