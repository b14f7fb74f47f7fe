"""A maintenance snapshot as S3 Tables compaction or Spark's ``rewrite_data_files`` makes one.

Operation ``replace``: every data file of the current snapshot rewritten into new files holding the
same rows, no data change. Rows are read by field id (our reader), written by pyiceberg's writer.
"""

from __future__ import annotations

from pyiceberg.io.pyarrow import _dataframe_to_data_files
from pyiceberg.table import Table
from pyiceberg.table.snapshots import Operation, Summary
from pyiceberg.table.update.snapshot import _OverwriteFiles
from pyiceberg.typedef import Properties

from datax_migrate.iceberg.read import read_snapshot


class _Rewrite(_OverwriteFiles):
    """An overwrite recorded as ``replace``: pyiceberg 0.12 sums up only append, overwrite and delete."""

    def _summary(self, snapshot_properties: Properties) -> Summary:
        self._operation = Operation.OVERWRITE
        try:
            summary = super()._summary(snapshot_properties)
        finally:
            self._operation = Operation.REPLACE
        return Summary(Operation.REPLACE, **summary.additional_properties)


def compact(table: Table, summary: dict[str, str] | None = None) -> int:
    """Rewrite the current snapshot's data files as a ``replace`` snapshot; return its id.

    ``summary`` adds properties to its summary (a compaction run with commit properties, say);
    by default it records none of the converter's keys, as S3 Tables' own compaction does.
    """
    rows = read_snapshot(table)
    old_files = [task.file for task in table.scan().plan_files()]
    with table.transaction() as transaction:
        rewrite = _Rewrite(Operation.REPLACE, transaction, table.io, snapshot_properties=summary or {})
        with rewrite:
            for data_file in old_files:
                rewrite.delete_data_file(data_file)
            for data_file in _dataframe_to_data_files(transaction.table_metadata, rows, table.io):
                rewrite.append_data_file(data_file)
        snapshot_id = rewrite.snapshot_id
    return snapshot_id
