"""The Iceberg side of a reconciliation: the snapshot a Delta table version became (Delta side: :mod:`.delta_side`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.io import FileIO, load_file_io
from pyiceberg.partitioning import PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.table import FileScanTask, Table
from pyiceberg.table.metadata import TableMetadata
from pyiceberg.table.snapshots import Snapshot

from datax_migrate.compat.delta import SnapshotFacts, history_snapshot, snapshot_origins
from datax_migrate.delta.scan import DEFAULT_BATCH_ROWS as BATCH_ROWS
from datax_migrate.delta.table import DeltaSnapshot
from datax_migrate.errors import ReconcileError
from datax_migrate.iceberg.read import arrow_schema_of, plan_tasks, read_data_file, snapshot_schema
from datax_migrate.prefetch import prefetched
from datax_migrate.reconcile.model import Side, iso_utc


def snapshot_facts(table: Table) -> list[SnapshotFacts]:
    """What :func:`~datax_migrate.compat.delta.history_snapshot` reads of each snapshot of ``table``."""
    return [
        SnapshotFacts(
            snapshot_id=snapshot.snapshot_id,
            parent_id=snapshot.parent_snapshot_id,
            committed_at_ms=snapshot.timestamp_ms,
            operation=snapshot.summary.operation.value if snapshot.summary else None,
            summary=snapshot.summary.additional_properties if snapshot.summary else {},
        )
        for snapshot in table.metadata.snapshots
    ]


def _source_version(table: Table, snapshot: Snapshot) -> int | None:
    """The Delta version ``snapshot`` holds: the one its summary records, or its parent's for a file rewrite."""
    origin = snapshot_origins(snapshot_facts(table)).get(snapshot.snapshot_id)
    return origin.version if origin is not None else None


@dataclass(frozen=True)
class IcebergSide:
    """One snapshot of an Iceberg table, read by field id (delete files and all)."""

    table: Table
    snapshot: Snapshot
    name: str
    catalog_name: str

    @classmethod
    def resolve(
        cls, catalog: Catalog, identifier: str, source: DeltaSnapshot, pinned: bool = False
    ) -> tuple[IcebergSide, list[str]]:
        """The snapshot to compare with ``source``, and warnings about the choice.

        Readers see the current snapshot, so that is the one compared, unless ``pinned`` (the user
        asked for one Delta version) and an older snapshot holds that version: then that one is
        compared and its :meth:`identity` names the current snapshot the table has moved on to. Of
        several snapshots holding the version (history, maintenance rewrites, rollbacks) the one
        :func:`~datax_migrate.compat.delta.history_snapshot` chooses is compared. A current
        snapshot that does not hold ``source`` comes with a warning.

        Raises:
            ReconcileError: the table does not exist or has no snapshot.

        """
        try:
            table = catalog.load_table(identifier)
        except NoSuchTableError:
            raise ReconcileError(f"Iceberg table {identifier} does not exist in catalog {catalog.name!r}") from None
        current = table.current_snapshot()
        if current is None:
            raise ReconcileError(f"Iceberg table {identifier} has no snapshot to compare")
        found = history_snapshot(
            snapshot_facts(table), current.snapshot_id, version=source.version, location=source.location
        )
        converted = table.snapshot_by_id(found) if found is not None else None
        if converted is not None and (pinned or converted.snapshot_id == current.snapshot_id):
            return cls(table, converted, identifier, catalog.name), []
        if converted is not None:
            operation = current.summary.operation.value if current.summary else "unknown"
            warning = (
                f"{identifier} has moved on since snapshot {converted.snapshot_id} was converted from "
                f"{source.location} version {source.version}: its current snapshot {current.snapshot_id} "
                f"({operation}, not a conversion of that version) is what readers see; "
                "comparing the current snapshot"
            )
        else:
            current_version = _source_version(table, current)
            origin = (
                f"converted from Delta version {current_version}"
                if current_version is not None
                else "not written by a datax-migrate conversion"
            )
            warning = (
                f"no snapshot of {identifier} was converted from {source.location} version {source.version}; "
                f"comparing the current snapshot {current.snapshot_id} ({origin})"
            )
        return cls(table, current, identifier, catalog.name), [warning]

    @property
    def iceberg_schema(self) -> Schema:
        """Iceberg schema of the snapshot: the table's current schema for the current snapshot, as readers see it."""
        if self.moved_on_to is None:
            return self.table.schema()
        return snapshot_schema(self.table.metadata, self.snapshot.schema_id)

    @property
    def moved_on_to(self) -> int | None:
        """The table's current snapshot when it is not the compared one (the table has moved on since)."""
        current = self.table.current_snapshot()
        return current.snapshot_id if current is not None and current.snapshot_id != self.snapshot.snapshot_id else None

    @property
    def spec(self) -> PartitionSpec:
        """Partition spec of the table."""
        return self.table.spec()

    @property
    def schema(self) -> pa.Schema:
        """Arrow schema of the rows."""
        return arrow_schema_of(self.iceberg_schema)

    def metadata_rows(self) -> int | None:
        """``total-records`` of the snapshot summary, if recorded."""
        summary = self.snapshot.summary.additional_properties if self.snapshot.summary else {}
        return int(summary["total-records"]) if "total-records" in summary else None

    def identity(self, rows: int | None = None) -> Side:
        """This side in the report (with the table's current snapshot when it has moved on)."""
        return Side(
            kind="iceberg",
            location=f"{self.catalog_name}:{self.name}",
            snapshot_id=self.snapshot.snapshot_id,
            commit_timestamp=iso_utc(self.snapshot.timestamp_ms),
            rows=rows,
            current_snapshot_id=self.moved_on_to,
            converted_from_version=_source_version(self.table, self.snapshot),
        )

    def batches(self, ahead: bool = False) -> Iterator[pa.RecordBatch]:
        """Every row of the snapshot, read by field id (see :mod:`datax_migrate.iceberg.read`).

        With ``ahead`` the rows are decoded on a thread of their own while the caller works on the
        previous ones (see :mod:`datax_migrate.prefetch`).
        """
        return prefetched(self._rows, name="datax-read-iceberg") if ahead else self._rows()

    def _rows(self) -> Iterator[pa.RecordBatch]:
        for part in self.parts():
            yield from part.batches(self.table.io)

    def parts(self) -> list[IcebergPart]:
        """The snapshot split into picklable parts, one per data file (with its delete files).

        Raises:
            IcebergReadError: the snapshot has equality delete files.

        """
        schema = self.iceberg_schema
        io_properties = dict(self.table.io.properties)
        return [
            IcebergPart(self.table.metadata, io_properties, task, schema)
            for task in plan_tasks(self.table, self.snapshot.snapshot_id)
        ]


@dataclass(frozen=True)
class IcebergPart:
    """One data file of an Iceberg snapshot and its delete files: readable anywhere (picklable).

    Attributes:
        metadata: The table's metadata.
        io_properties: Properties to open the table's FileIO with.
        task: The data file and its delete files.
        schema: The snapshot's schema.
    """

    metadata: TableMetadata
    io_properties: dict[str, str]
    task: FileScanTask
    schema: Schema

    def batches(self, io: FileIO | None = None) -> Iterator[pa.RecordBatch]:
        """The rows of the file, deletes applied, read with ``io`` (default: a FileIO of its own)."""
        io = io or load_file_io(self.io_properties, self.metadata.location)
        return read_data_file(io, self.metadata, self.task, self.schema, BATCH_ROWS)
