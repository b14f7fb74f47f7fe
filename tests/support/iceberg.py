"""Iceberg tables read below pyiceberg's scan: the files a table references, rows by field id."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from pyiceberg.table import Table


def files_the_table_references(table: Table) -> set[Path]:
    """Every metadata file, manifest list, manifest and data file reachable from the table's metadata."""
    paths = {table.metadata_location, *(entry.metadata_file for entry in table.metadata.metadata_log)}
    if "datax.sync.lineage" in table.properties:  # the lineage file sync reads (datax_migrate.convert.lineage)
        paths.add(table.properties["datax.sync.lineage"])
    for snapshot in table.snapshots():
        paths.add(snapshot.manifest_list)
        for manifest in snapshot.manifests(table.io):
            paths.add(manifest.manifest_path)
            paths.update(entry.data_file.file_path for entry in manifest.fetch_manifest_entry(table.io))
    return {Path(p.removeprefix("file://")) for p in paths}


def read_by_field_id(table: Table, snapshot_id: int) -> pa.Table:
    """The rows of one snapshot, read from its data files with pyarrow, columns named by that snapshot's schema."""
    snapshot = table.snapshot_by_id(snapshot_id)
    assert snapshot is not None and snapshot.schema_id is not None
    schema = table.schemas()[snapshot.schema_id]
    names = {f.field_id: f.name for f in schema.fields}
    parts = []
    for task in table.scan(snapshot_id=snapshot_id).plan_files():
        with table.io.new_input(task.file.file_path).open() as stream:
            data = pq.read_table(stream)
        ids = [int(f.metadata[b"PARQUET:field_id"]) for f in data.schema]
        parts.append(data.rename_columns([names[i] for i in ids]).select(sorted(names.values())))
    return pa.concat_tables(parts)
