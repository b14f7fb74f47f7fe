"""The two sides of a reconciliation: a Delta table version and the Iceberg snapshot it became."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.parquet as pq
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.expressions import AlwaysTrue
from pyiceberg.io import FileIO, load_file_io
from pyiceberg.io.pyarrow import ArrowScan, schema_to_pyarrow
from pyiceberg.partitioning import PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.table import FileScanTask, Table
from pyiceberg.table.metadata import TableMetadata
from pyiceberg.table.snapshots import Snapshot

from datax_migrate.delta.actions import AddFile
from datax_migrate.delta.commit_times import AUTO
from datax_migrate.delta.scan import DEFAULT_BATCH_ROWS as BATCH_ROWS
from datax_migrate.delta.scan import FileReader, arrow_schema
from datax_migrate.delta.table import DeltaSnapshot, DeltaTable
from datax_migrate.errors import ReconcileError
from datax_migrate.iceberg.target import SOURCE_LOCATION, SOURCE_VERSION
from datax_migrate.reconcile.model import Side


def _iso(milliseconds: int) -> str:
    return dt.datetime.fromtimestamp(milliseconds / 1000, tz=dt.timezone.utc).isoformat()


@dataclass(frozen=True)
class DeltaSide:
    """A Delta table at one version, read with our own log replay and file reader."""

    snapshot: DeltaSnapshot

    @classmethod
    def open(cls, uri: str, version: int | None, commit_times: str = AUTO) -> DeltaSide:
        """Open ``uri`` at ``version`` (default: the latest); ``commit_times`` as in :class:`DeltaTable`."""
        return cls(DeltaTable(uri, commit_times=commit_times).snapshot(version=version))

    @property
    def schema(self) -> pa.Schema:
        """Arrow schema of the rows, with the logical column names."""
        return arrow_schema(self.snapshot.metadata.schema)

    @property
    def partition_columns(self) -> list[str]:
        """Delta partition columns."""
        return list(self.snapshot.metadata.partition_columns)

    def metadata_rows(self) -> int | None:
        """Live rows according to the log (``numRecords`` minus deleted rows); ``None`` without stats."""
        total = 0
        for add in self.snapshot.files:
            records = json.loads(add.stats).get("numRecords") if add.stats else None
            if records is None:
                return None
            total += int(records) - (add.deletion_vector.cardinality if add.deletion_vector else 0)
        return total

    def identity(self, rows: int | None = None) -> Side:
        """This side in the report."""
        return Side(
            kind="delta",
            location=self.snapshot.location,
            version=self.snapshot.version,
            commit_timestamp=_iso(self.snapshot.commit_timestamp_ms),
            rows=rows,
            commit_time_source=self.snapshot.commit_time_source,
        )

    def parts(self, use_threads: bool = False) -> list[DeltaPart]:
        """The side split into picklable parts, one per data file."""
        reader = FileReader(dataclasses.replace(self.snapshot, files=()))
        return [DeltaPart(reader, add, use_threads) for add in self.snapshot.files]

    def batches(self) -> Iterator[pa.RecordBatch]:
        """Every live row, file by file."""
        for part in self.parts(use_threads=True):
            yield from part.batches()


@dataclass(frozen=True)
class DeltaPart:
    """One Delta data file of a side: readable anywhere (picklable, for Spark tasks)."""

    reader: FileReader
    add: AddFile
    use_threads: bool = False

    def batches(self) -> Iterator[pa.RecordBatch]:
        """The file's live rows."""
        return self.reader.batches(self.add, use_threads=self.use_threads)


@dataclass(frozen=True)
class IcebergSide:
    """One snapshot of an Iceberg table, read through pyiceberg (delete files and all)."""

    table: Table
    snapshot: Snapshot
    name: str
    catalog_name: str

    @classmethod
    def resolve(cls, catalog: Catalog, identifier: str, source: DeltaSnapshot) -> tuple[IcebergSide, list[str]]:
        """The snapshot converted from ``source``'s version, else the current one (with a warning).

        Raises:
            ReconcileError: the table does not exist or has no snapshot.

        """
        try:
            table = catalog.load_table(identifier)
        except NoSuchTableError:
            raise ReconcileError(f"Iceberg table {identifier} does not exist in catalog {catalog.name!r}") from None
        for snapshot in sorted(table.metadata.snapshots, key=lambda s: s.timestamp_ms, reverse=True):
            summary = snapshot.summary.additional_properties if snapshot.summary else {}
            if summary.get(SOURCE_VERSION) == str(source.version) and summary.get(SOURCE_LOCATION) == source.location:
                return cls(table, snapshot, identifier, catalog.name), []
        current = table.current_snapshot()
        if current is None:
            raise ReconcileError(f"Iceberg table {identifier} has no snapshot to compare")
        summary = current.summary.additional_properties if current.summary else {}
        origin = (
            f"converted from Delta version {summary[SOURCE_VERSION]}"
            if SOURCE_VERSION in summary
            else "not written by a datax-migrate conversion"
        )
        warning = (
            f"no snapshot of {identifier} was converted from {source.location} version {source.version}; "
            f"comparing the current snapshot {current.snapshot_id} ({origin})"
        )
        return cls(table, current, identifier, catalog.name), [warning]

    @property
    def iceberg_schema(self) -> Schema:
        """Iceberg schema of the snapshot."""
        schema_id = self.snapshot.schema_id
        return next((s for s in self.table.schemas().values() if s.schema_id == schema_id), self.table.schema())

    @property
    def spec(self) -> PartitionSpec:
        """Partition spec of the table."""
        return self.table.spec()

    @property
    def schema(self) -> pa.Schema:
        """Arrow schema of the rows."""
        return schema_to_pyarrow(self.iceberg_schema, include_field_ids=False)

    def metadata_rows(self) -> int | None:
        """``total-records`` of the snapshot summary, if recorded."""
        summary = self.snapshot.summary.additional_properties if self.snapshot.summary else {}
        return int(summary["total-records"]) if "total-records" in summary else None

    def identity(self, rows: int | None = None) -> Side:
        """This side in the report."""
        return Side(
            kind="iceberg",
            location=f"{self.catalog_name}:{self.name}",
            snapshot_id=self.snapshot.snapshot_id,
            commit_timestamp=_iso(self.snapshot.timestamp_ms),
            rows=rows,
        )

    def batches(self) -> Iterator[pa.RecordBatch]:
        """Every row of the snapshot.

        A data file without delete files whose top-level columns are all primitive and carry field
        ids is read directly (threaded decode, columns matched by field id, missing columns NULL,
        promoted types cast); any other file goes through pyiceberg's reader.
        """
        for part in self.parts():
            yield from part.batches(self.table.io)

    def parts(self) -> list[IcebergPart]:
        """The snapshot split into picklable parts, one per data file (with its delete files)."""
        schema = self.iceberg_schema
        direct = all(field.field_type.is_primitive for field in schema.fields) and not self._identity_sources()
        scan = self.table.scan(snapshot_id=self.snapshot.snapshot_id)
        io_properties = dict(self.table.io.properties)
        return [
            IcebergPart(self.table.metadata, io_properties, task, schema, direct and not task.delete_files)
            for task in scan.plan_files()
        ]

    def _identity_sources(self) -> set[int]:
        # Other writers may leave identity partition columns out of the data files.
        return {f.source_id for f in self.spec.fields if str(f.transform) == "identity"}


@dataclass(frozen=True)
class IcebergPart:
    """One data file of an Iceberg snapshot and its delete files: readable anywhere (picklable).

    Attributes:
        metadata: The table's metadata.
        io_properties: Properties to open the table's FileIO with.
        task: The data file and its delete files.
        schema: The snapshot's schema.
        direct: Read the file by field id with pyarrow (see :meth:`IcebergSide.batches`).
    """

    metadata: TableMetadata
    io_properties: dict[str, str]
    task: FileScanTask
    schema: Schema
    direct: bool

    def batches(self, io: FileIO | None = None) -> Iterator[pa.RecordBatch]:
        """The rows of the file, deletes applied, read with ``io`` (default: a FileIO of its own)."""
        io = io or load_file_io(self.io_properties, self.metadata.location)
        target = schema_to_pyarrow(self.schema, include_field_ids=False)
        batches = _read_direct(io, self.task, self.schema, target) if self.direct else None
        if batches is None:
            batches = ArrowScan(self.metadata, io, self.schema, AlwaysTrue()).to_record_batches([self.task])
        return batches


def _only_offsets_differ(a: pa.DataType, b: pa.DataType) -> bool:
    """``string`` vs ``large_string``, ``binary`` vs ``large_binary``: the same values, no cast needed."""
    texts = (pa.string(), pa.large_string())
    binaries = (pa.binary(), pa.large_binary())
    return (a in texts and b in texts) or (a in binaries and b in binaries)


def _read_direct(io: FileIO, task: FileScanTask, schema: Schema, target: pa.Schema) -> Iterator[pa.RecordBatch] | None:
    """Batches of one data file read by field id, or ``None`` when it lacks field ids."""
    stream = io.new_input(task.file.file_path).open()
    parquet = pq.ParquetFile(stream)
    ids = {}
    for index, field in enumerate(parquet.schema_arrow):
        raw = (field.metadata or {}).get(b"PARQUET:field_id")
        if raw is None:
            stream.close()
            return None
        ids[int(raw)] = index
    names = parquet.schema_arrow.names
    columns = [names[ids[f.field_id]] for f in schema.fields if f.field_id in ids]

    def batches() -> Iterator[pa.RecordBatch]:
        with stream:
            for batch in parquet.iter_batches(batch_size=BATCH_ROWS, columns=columns, use_threads=True):
                arrays = []
                for field, arrow_field in zip(schema.fields, target, strict=True):
                    if field.field_id not in ids:
                        arrays.append(pa.nulls(batch.num_rows, arrow_field.type))
                        continue
                    column = batch.column(names[ids[field.field_id]])
                    same = column.type == arrow_field.type or _only_offsets_differ(column.type, arrow_field.type)
                    arrays.append(column if same else column.cast(arrow_field.type))
                yield pa.RecordBatch.from_arrays(arrays, names=target.names)

    return batches()
