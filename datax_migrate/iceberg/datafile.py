"""Write Iceberg data files: Parquet with Iceberg field ids, column metrics and a partition tuple.

The rows stream in as Arrow record batches already in the table's Arrow schema
(:func:`datax_migrate.iceberg.arrow.arrow_schema_with_ids`); they are buffered up to a row-group
size, so memory stays bounded whatever the file size.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pyiceberg.io import FileIO
from pyiceberg.io.pyarrow import (
    compute_statistics_plan,
    data_file_statistics_from_parquet_metadata,
    parquet_path_to_id_mapping,
)
from pyiceberg.manifest import DataFile, DataFileContent, FileFormat
from pyiceberg.partitioning import PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.table.sorting import UNSORTED_SORT_ORDER, SortOrder
from pyiceberg.typedef import Record

from datax_migrate.errors import MappingError
from datax_migrate.iceberg.arrow import arrow_schema_with_ids
from datax_migrate.iceberg.sorting import sorted_batches

_EPOCH_DATE = dt.date(1970, 1, 1)


@dataclass(frozen=True)
class ParquetSettings:
    """Parquet writer settings.

    The defaults are those of Delta's own writers (snappy, a dictionary on every column, row groups
    of 1Mi rows), chosen by measurement: with them DuckDB answers the TPC-H queries on the converted
    tables at least as fast as on the Delta source, where Iceberg's zstd default was slower (see
    docs/benchmarks.md, "Layout"). zstd writes about a quarter fewer bytes.

    Attributes:
        compression: Parquet codec (``snappy``, ``zstd``, ``lz4``, ``gzip``, ``none``).
        compression_level: codec level (``None``: the codec's default).
        row_group_rows: rows per row group, at most.
        row_group_bytes: a row group ends once this many bytes of Arrow data are buffered.
        data_page_bytes: target size of a data page.
        dictionary: ``all`` dictionary-encodes every column (Parquet falls back to plain pages when
            a dictionary grows too large); ``auto`` only columns whose first values repeat
            (:func:`dictionary_columns`).
    """

    compression: str = "snappy"
    compression_level: int | None = None
    row_group_rows: int = 1_048_576
    row_group_bytes: int = 128 * 1024 * 1024
    data_page_bytes: int = 1024 * 1024
    dictionary: str = "all"


@dataclass(frozen=True)
class DataFileLayout:
    """Everything about a table's data files that is the same for every file: computed once.

    A pickled layout is computed again where it is unpickled: pyiceberg 0.12's ``MetricsMode``
    does not survive pickling (every column comes back as ``truncate(16)``).
    """

    schema: Schema
    arrow_schema: pa.Schema
    spec: PartitionSpec
    settings: ParquetSettings
    statistics_plan: dict[int, Any]
    column_mapping: dict[str, int]
    properties: dict[str, str]
    sort_order: SortOrder = UNSORTED_SORT_ORDER
    """Rows of each data file are written in this order (see :mod:`datax_migrate.iceberg.sorting`)."""

    def __reduce__(
        self,
    ) -> tuple[Any, tuple[Schema, PartitionSpec, dict[str, str], ParquetSettings, SortOrder]]:
        return (DataFileLayout.for_table, (self.schema, self.spec, self.properties, self.settings, self.sort_order))

    @classmethod
    def for_table(
        cls,
        schema: Schema,
        spec: PartitionSpec,
        properties: dict[str, str],
        settings: ParquetSettings,
        sort_order: SortOrder = UNSORTED_SORT_ORDER,
    ) -> DataFileLayout:
        """The layout of data files of a table with this schema, spec, properties and sort order."""
        return cls(
            schema=schema,
            arrow_schema=arrow_schema_with_ids(schema),
            spec=spec,
            settings=settings,
            statistics_plan=compute_statistics_plan(schema, properties),
            column_mapping=parquet_path_to_id_mapping(schema),
            properties=dict(properties),
            sort_order=sort_order,
        )


@dataclass
class PartitionTracker:
    """Works out the partition tuple of one data file from the rows written into it.

    Identity partitions take their value from the source (``identity_values``); transform
    partitions apply the transform to each batch's minimum and maximum and require one value per
    file.
    """

    spec: PartitionSpec
    schema: Schema
    identity_values: dict[int, Any]
    _values: dict[int, Any] = field(default_factory=dict)
    _seen: set[int] = field(default_factory=set)

    def observe(self, batch: pa.RecordBatch) -> None:
        """Account for one batch of rows."""
        for partition_field in self.spec.fields:
            if partition_field.field_id in self.identity_values:
                continue
            source = self.schema.find_field(partition_field.source_id)
            column = batch.column(batch.schema.get_field_index(source.name))
            apply = partition_field.transform.transform(source.field_type)
            values: set[Any] = set()
            if column.null_count:
                values.add(None)
            if column.null_count < len(column):
                bounds = pc.min_max(column)
                values.add(apply(to_internal(bounds["min"])))
                values.add(apply(to_internal(bounds["max"])))
            if partition_field.field_id in self._seen:
                values.add(self._values[partition_field.field_id])
            if len(values) > 1:
                raise MappingError(
                    f"rows of one Delta partition fall into several Iceberg {partition_field.transform} partitions "
                    f"of column {source.name!r} ({sorted(map(str, values))}); the Delta generated column was "
                    "probably computed in a non-UTC session time zone. Convert with identity partitioning "
                    "(--identity-partitions) instead"
                )
            self._seen.add(partition_field.field_id)
            self._values[partition_field.field_id] = values.pop() if values else None

    def record(self) -> Record:
        """The partition tuple in spec order (internal Iceberg representation)."""
        values = [
            self.identity_values[f.field_id] if f.field_id in self.identity_values else self._values.get(f.field_id)
            for f in self.spec.fields
        ]
        return Record(*values)


def to_internal(scalar: pa.Scalar) -> Any:
    """An Arrow scalar as Iceberg's internal value: days for dates, microseconds for timestamps."""
    if not scalar.is_valid:
        return None
    if pa.types.is_date(scalar.type):
        return (scalar.as_py() - _EPOCH_DATE).days
    if pa.types.is_timestamp(scalar.type):
        return scalar.cast(pa.int64()).as_py()
    return scalar.as_py()


def python_to_internal(value: Any, arrow_type: pa.DataType) -> Any:
    """A Python value of an Arrow type as Iceberg's internal value (see :func:`to_internal`)."""
    return to_internal(pa.scalar(value, type=arrow_type))


def dictionary_columns(table: pa.Table, parquet_paths: dict[str, int], sample_rows: int = 8192) -> list[str]:
    """Parquet columns worth dictionary-encoding in a file that starts with ``table``.

    A top-level column whose first ``sample_rows`` values are mostly distinct (ids, amounts,
    timestamps) is written plain: a dictionary would only cost time and bytes. Nested columns and
    low-cardinality columns keep dictionary encoding.
    """
    plain = set()
    sample = table.slice(0, sample_rows)
    for name in table.column_names:
        column = sample.column(name)
        kind = column.type
        if pa.types.is_nested(kind) or pa.types.is_boolean(kind) or len(column) < 2:
            continue
        if pc.count_distinct(column, mode="only_valid").as_py() > 0.5 * (len(column) - column.null_count):
            plain.add(name)
    # A top-level primitive column's Parquet path is its name; nested leaves never are in ``plain``.
    return [path for path in parquet_paths if path not in plain]


class DataFileWriter:
    """Writes one Parquet data file (or ``parts`` of them) and describes each as an Iceberg :class:`DataFile`."""

    def __init__(
        self,
        io: FileIO,
        location_for: Callable[[Record, int], str],
        layout: DataFileLayout,
        partition: PartitionTracker,
        parts: int = 1,
        part: int = 0,
    ) -> None:
        """Prepare a file; it is created (at ``location_for(partition, part)``) when the first rows arrive.

        With ``parts`` above 1, rows that fit in one row group are written as that many files of
        about equal rows, numbered ``part`` 0, 1, ..., encoded side by side (see :meth:`close`).
        """
        self.io, self.location_for, self.layout, self.partition = io, location_for, layout, partition
        self.parts, self.part = parts, part
        self.settings = layout.settings
        self.path: str | None = None
        self._buffer: list[pa.RecordBatch] = []
        self._buffered_rows = 0
        self._buffered_bytes = 0
        self._stream: Any = None
        self._writer: pq.ParquetWriter | None = None

    def write_all(self, batches: Iterable[pa.RecordBatch]) -> list[DataFile]:
        """Write every batch, close the file and return its :class:`DataFile` (none if no rows; see :meth:`close`).

        With a sort order in the layout, the rows are held in memory and written sorted.
        """
        order = self.layout.sort_order
        if not order.is_unsorted:
            batches = sorted_batches(batches, self.layout.arrow_schema, self.layout.schema, order)
        try:
            for batch in batches:
                self.write(batch)
            return self.close()
        except BaseException:
            self.abort()
            raise

    def write(self, batch: pa.RecordBatch) -> None:
        """Buffer one batch; flush a row group when the buffer is full (never over ``row_group_rows`` rows)."""
        if not batch.num_rows:
            return
        self.partition.observe(batch)
        while batch.num_rows:
            head = batch.slice(0, self.settings.row_group_rows - self._buffered_rows)
            batch = batch.slice(head.num_rows)
            self._buffer.append(head)
            self._buffered_rows += head.num_rows
            self._buffered_bytes += head.nbytes
            if (
                self._buffered_rows >= self.settings.row_group_rows
                or self._buffered_bytes >= self.settings.row_group_bytes
            ):
                self._flush()

    def close(self) -> list[DataFile]:
        """Finish the file; none when no row was written (no file is left behind).

        When the writer has ``parts`` and every row is still buffered (they fit in one row group),
        the rows are cut into that many files of about equal rows, encoded on as many threads: the
        Parquet encoder releases the GIL, so a last file group that would keep one core busy while
        the others wait keeps them all busy. The cut depends only on the rows, so every engine
        writes the same files.
        """
        if self._writer is None and self.parts > 1 and self._buffered_rows >= self.parts:
            return self._close_in_parts()
        self._flush()
        data_file = self._finish()
        return [] if data_file is None else [data_file]

    def _close_in_parts(self) -> list[DataFile]:
        table = self._take_buffer()
        bounds = [part * table.num_rows // self.parts for part in range(self.parts + 1)]  # no part is empty
        slices = [table.slice(start, end - start) for start, end in itertools.pairwise(bounds)]
        others = [
            DataFileWriter(self.io, self.location_for, self.layout, self.partition, part=part)
            for part in range(1, self.parts)
        ]
        try:
            with ThreadPoolExecutor(len(others), thread_name_prefix="datax-convert-part") as helpers:
                futures = [
                    helpers.submit(other._write_table_file, rows)
                    for other, rows in zip(others, slices[1:], strict=True)
                ]
                first = self._write_table_file(slices[0])
                rest = [future.result() for future in futures]
        except BaseException:
            for other in others:
                other.abort()
            raise
        return [f for f in (first, *rest) if f is not None]

    def _write_table_file(self, table: pa.Table) -> DataFile | None:
        """Write ``table`` as this writer's whole file (one row group) and finish it."""
        try:
            self._write_row_group(table)
            return self._finish()
        except BaseException:
            self.abort()
            raise

    def _finish(self) -> DataFile | None:
        if self._writer is None:
            return None
        self._writer.close()
        size = self._stream.tell()
        self._stream.close()
        statistics = data_file_statistics_from_parquet_metadata(
            parquet_metadata=self._writer.writer.metadata,
            stats_columns=self.layout.statistics_plan,
            parquet_column_mapping=self.layout.column_mapping,
        )
        return DataFile.from_args(
            content=DataFileContent.DATA,
            file_path=str(self.path),
            file_format=FileFormat.PARQUET,
            partition=self.partition.record(),
            file_size_in_bytes=size,
            sort_order_id=None if self.layout.sort_order.is_unsorted else self.layout.sort_order.order_id,
            spec_id=self.layout.spec.spec_id,
            equality_ids=None,
            key_metadata=None,
            **statistics.to_serialized_dict(),
        )

    def abort(self) -> None:
        """Abandon a partly written file: abort its upload where the stream can, else close and delete it.

        A refused delete (table buckets refuse deletes) is not raised: it would hide the error the
        file is abandoned for; the storage's unreferenced-file removal reclaims it.
        """
        if self._stream is not None and self.path is not None:
            stream, self._stream = self._stream, None
            upload_abort = getattr(stream, "abort", None)
            if upload_abort is not None:
                upload_abort()  # nothing was stored: no object to delete
                return
            try:
                stream.close()
            finally:
                with contextlib.suppress(OSError):
                    self.io.delete(self.path)

    def _flush(self) -> None:
        if self._buffer:
            self._write_row_group(self._take_buffer())

    def _take_buffer(self) -> pa.Table:
        table = pa.Table.from_batches(self._buffer, schema=self.layout.arrow_schema)
        self._buffer, self._buffered_rows, self._buffered_bytes = [], 0, 0
        return table

    def _write_row_group(self, table: pa.Table) -> None:
        if self._writer is None:
            self.path = self.location_for(self.partition.record(), self.part)
            self._stream = self.io.new_output(self.path).create(overwrite=True)
            self._writer = pq.ParquetWriter(
                self._stream,
                schema=self.layout.arrow_schema,
                compression=self.settings.compression,
                compression_level=self.settings.compression_level,
                use_dictionary=(
                    True if self.settings.dictionary == "all" else dictionary_columns(table, self.layout.column_mapping)
                ),
                data_page_size=self.settings.data_page_bytes,
                store_decimal_as_integer=True,
            )
        self._writer.write_table(table, row_group_size=max(table.num_rows, 1))
