"""The two sides of a reconciliation: a Delta table version and the Iceberg snapshot it became."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.io.pyarrow import schema_to_pyarrow
from pyiceberg.partitioning import PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.table import Table
from pyiceberg.table.snapshots import Snapshot

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
    def open(cls, uri: str, version: int | None) -> DeltaSide:
        """Open ``uri`` at ``version`` (default: the latest)."""
        return cls(DeltaTable(uri).snapshot(version=version))

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
        )

    def batches(self) -> Iterator[pa.RecordBatch]:
        """Every live row, file by file."""
        reader = FileReader(self.snapshot)
        for add in self.snapshot.files:
            yield from reader.batches(add)

    def files(self) -> int:
        """Number of data files read."""
        return len(self.snapshot.files)


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
        """Every row of the snapshot."""
        yield from self.table.scan(snapshot_id=self.snapshot.snapshot_id).to_arrow_batch_reader()
