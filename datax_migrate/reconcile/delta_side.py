"""The Delta side of a reconciliation: a Delta table version, read with our own log replay and file reader.

Nothing here needs Iceberg code, so the command line opens this side and starts decoding its rows
(:meth:`DeltaSide.read_ahead`) before it loads the Iceberg side and the checksum kernels.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from dataclasses import dataclass, field

import pyarrow as pa

from datax_migrate.delta.actions import AddFile
from datax_migrate.delta.commit_times import AUTO
from datax_migrate.delta.scan import FileReader, arrow_schema
from datax_migrate.delta.table import DeltaSnapshot, DeltaTable
from datax_migrate.prefetch import Prefetch, prefetched
from datax_migrate.reconcile.model import Side, iso_utc

START_AHEAD_BYTES = 128 * 1024 * 1024
"""How far :meth:`DeltaSide.read_ahead` decodes ahead: the command line starts it before loading the
rest, which took about half a second on the reconcile benchmark's 5M-row pair. Measured there
against 64 and 256 MB: 256 MB added more fresh memory (page faults) than it saved, 64 MB ran out
before the scan began."""


@dataclass(frozen=True)
class DeltaSide:
    """A Delta table at one version, read with our own log replay and file reader.

    Attributes:
        snapshot: The table at the compared version.
        prefetch: The first pass over the rows, decoded ahead since :meth:`read_ahead` (``None``: not
            started). Taken by the first :meth:`batches` call.
    """

    snapshot: DeltaSnapshot
    prefetch: Prefetch | None = field(default=None, compare=False, repr=False)

    @classmethod
    def open(cls, uri: str, version: int | None, commit_times: str = AUTO) -> DeltaSide:
        """Open ``uri`` at ``version`` (default: the latest); ``commit_times`` as in :class:`DeltaTable`."""
        return cls(DeltaTable(uri, commit_times=commit_times).snapshot(version=version))

    def read_ahead(self, budget_bytes: int = START_AHEAD_BYTES) -> DeltaSide:
        """This side with its rows being decoded from now on, at most ``budget_bytes`` ahead of the first reader.

        Call :meth:`close` if the rows may never be read.
        """
        prefetch = Prefetch(self._rows, budget_bytes, name="datax-read-delta").start()
        return dataclasses.replace(self, prefetch=prefetch)

    def close(self) -> None:
        """Stop reading ahead, if this side does, and drop what was decoded."""
        if self.prefetch is not None:
            self.prefetch.close()

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
            commit_timestamp=iso_utc(self.snapshot.commit_timestamp_ms),
            rows=rows,
            commit_time_source=self.snapshot.commit_time_source,
        )

    def parts(self) -> list[DeltaPart]:
        """The side split into picklable parts, one per data file."""
        reader = FileReader(dataclasses.replace(self.snapshot, files=()))
        return [DeltaPart(reader, add) for add in self.snapshot.files]

    def batches(self, ahead: bool = False) -> Iterator[pa.RecordBatch]:
        """Every live row, file by file.

        The first call takes the rows :meth:`read_ahead` decoded. Otherwise, with ``ahead`` the rows
        are decoded on a thread of their own while the caller works on the previous ones (see
        :mod:`datax_migrate.prefetch`).
        """
        if self.prefetch is not None and self.prefetch.claim():
            return iter(self.prefetch)
        if ahead:
            return prefetched(self._rows, name="datax-read-delta")
        return self._rows()

    def _rows(self) -> Iterator[pa.RecordBatch]:
        for part in self.parts():
            yield from part.batches()


@dataclass(frozen=True)
class DeltaPart:
    """One Delta data file of a side: readable anywhere (picklable, for Spark tasks)."""

    reader: FileReader
    add: AddFile

    def batches(self) -> Iterator[pa.RecordBatch]:
        """The file's live rows, decoded on the calling thread (each side, and each Spark task, reads on one)."""
        return self.reader.batches(self.add)
