"""The unit of work of a conversion: one file group in, one Iceberg data file out (or the group's parts).

A :class:`GroupTask` holds what a task needs and nothing tied to one process when it travels: on
the driver it reads through the source's read-ahead buffer and records the files it creates with
the target; pickled (to a Spark executor) it keeps only the picklable :class:`GroupWriter` and
reads the Delta files itself.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import pyarrow as pa
from pyiceberg.io import FileIO, load_file_io
from pyiceberg.manifest import DataFile
from pyiceberg.transforms import IdentityTransform

from datax_migrate.convert.engine import Cancelled
from datax_migrate.convert.plan import FileGroup
from datax_migrate.convert.source import ConversionSource
from datax_migrate.delta.scan import FileReader
from datax_migrate.iceberg.datafile import (
    DataFileLayout,
    DataFileWriter,
    ParquetSettings,
    PartitionTracker,
    python_to_internal,
)
from datax_migrate.iceberg.partitioning import PartitionColumn
from datax_migrate.iceberg.target import DataFilePaths, IcebergTarget


@dataclass(frozen=True)
class GroupWriter:
    """Turns the rows of one file group into one Iceberg data file; picklable.

    Attributes:
        reader: Reads the snapshot's Delta files (the snapshot without its file list).
        layout: Schema, partition spec and Parquet settings of the data files.
        paths: Where the data files go.
        io_properties: Properties to open the target's FileIO with.
        identity_sources: Source column of each identity partition field, by partition field id.
    """

    reader: FileReader
    layout: DataFileLayout
    paths: DataFilePaths
    io_properties: dict[str, str]
    identity_sources: dict[int, str]

    @classmethod
    def for_conversion(
        cls,
        source: ConversionSource,
        target: IcebergTarget,
        partitioning: list[PartitionColumn],
        settings: ParquetSettings,
    ) -> GroupWriter:
        """The writer for a conversion whose target table is staged already."""
        snapshot = dataclasses.replace(source.snapshot, files=())
        return cls(
            reader=FileReader(snapshot, source.reader.target),
            layout=DataFileLayout.for_table(target.schema, target.spec, target.properties, settings, target.sort_order),
            paths=target.paths,
            io_properties={**target.catalog.properties, **target.properties},
            identity_sources={
                spec_field.field_id: column.source
                for spec_field, column in zip(target.spec.fields, partitioning, strict=True)
                if isinstance(column.transform, IdentityTransform)
            },
        )

    @cached_property
    def _same_types(self) -> bool:
        return self.reader.target.equals(self.layout.arrow_schema, check_metadata=False)

    def open_io(self) -> FileIO:
        """A FileIO on the target's location."""
        return load_file_io(self.io_properties, self.paths.location)

    def read(self, group: FileGroup) -> Iterator[pa.RecordBatch]:
        """The live rows of ``group``'s Delta files."""
        for add in group.files:
            yield from self.reader.batches(add)

    def write(
        self,
        group: FileGroup,
        batches: Iterable[pa.RecordBatch],
        io: FileIO,
        stop: threading.Event | None = None,
        on_path: Callable[[str], None] | None = None,
    ) -> list[DataFile]:
        """Write ``group``'s rows as one data file, or as :attr:`FileGroup.parts` files; none if it has no rows.

        ``on_path`` hears each file's path before it is created; a failure deletes the files.
        """
        values = dict(group.partition_values)
        identity_values = {
            field_id: python_to_internal(values[source], self.layout.arrow_schema.field(source).type)
            for field_id, source in self.identity_sources.items()
        }

        def location_for(partition: Any, part: int) -> str:
            path = self.paths.path(partition, group.index, part)
            if on_path is not None:
                on_path(path)
            return path

        writer = DataFileWriter(
            io=io,
            location_for=location_for,
            layout=self.layout,
            partition=PartitionTracker(self.layout.spec, self.layout.schema, identity_values),
            parts=group.parts,
        )
        return writer.write_all(self._cast(batches, stop))

    def _cast(self, batches: Iterable[pa.RecordBatch], stop: threading.Event | None) -> Iterator[pa.RecordBatch]:
        target = self.layout.arrow_schema
        for batch in batches:
            if stop is not None and stop.is_set():
                raise Cancelled("conversion abandoned")
            if self._same_types:
                yield pa.RecordBatch.from_arrays(batch.columns, schema=target)
            else:
                yield from pa.Table.from_batches([batch]).cast(target).to_batches()


class GroupTask:
    """An engine's task: ``task(group, stop)`` writes one file group.

    On the driver it has the source (read-ahead) and the target (which records every file for
    clean-up); a pickled copy has only the writer, reads Delta files itself and opens its own FileIO.
    """

    def __init__(
        self, writer: GroupWriter, source: ConversionSource | None = None, target: IcebergTarget | None = None
    ) -> None:
        """Write with ``writer``; read through ``source`` and record files with ``target`` when given."""
        self.writer, self.source, self.target = writer, source, target

    @cached_property
    def _io(self) -> FileIO:
        return self.target.io if self.target is not None else self.writer.open_io()

    def __call__(self, group: FileGroup, stop: threading.Event) -> list[DataFile]:
        """Write ``group``; raise :class:`Cancelled` once ``stop`` is set."""
        batches = self.source.batches(group) if self.source is not None else self.writer.read(group)
        on_path = self.target.remember if self.target is not None else None
        return self.writer.write(group, batches, self._io, stop, on_path)

    def __reduce__(self) -> tuple[type[GroupTask], tuple[GroupWriter]]:
        return (GroupTask, (self.writer,))
