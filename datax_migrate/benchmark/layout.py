"""How each side of a table pair is stored: files, bytes, codecs, row groups, partitioning, sort order.

The figures come from the Delta log (our reader) and the Iceberg snapshot (its manifests), and the
codecs and row groups from the Parquet footers of the data files (all of them, up to
:data:`FOOTER_CAP` per side, spread evenly over the files).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence

import pyarrow.parquet as pq

from datax_migrate.benchmark.model import SOURCE, TARGET, TableLayout
from datax_migrate.benchmark.pairs import OpenedPair

FOOTER_CAP = 256
"""Parquet footers read per side of a table, at most."""

Opener = Callable[[str], pq.FileMetaData]


def table_layouts(pairs: Sequence[OpenedPair]) -> tuple[TableLayout, ...]:
    """Both sides of every pair, source first."""
    return tuple(layout for opened in pairs for layout in (delta_layout(opened), iceberg_layout(opened)))


def delta_layout(opened: OpenedPair) -> TableLayout:
    """The Delta source's current version as the log and the footers describe it."""
    from datax_migrate.delta.clustering import clustering_columns
    from datax_migrate.delta.table import DeltaTable

    snapshot = DeltaTable(opened.pair.source).snapshot()
    storage = snapshot.storage

    def footer(path: str) -> pq.FileMetaData:
        with storage.filesystem.open_input_file(storage.resolve(path)) as handle:
            return pq.read_metadata(handle)

    partitioning = ", ".join(snapshot.metadata.partition_columns) or "none"
    clustering = clustering_columns(snapshot)
    return _layout(
        opened.pair.name,
        SOURCE,
        snapshot.location,
        snapshot.version,
        [(f.path, f.size) for f in snapshot.files],
        footer,
        partitioning,
        f"clustered by {', '.join(clustering)}" if clustering else "none recorded (no clustering columns)",
    )


def iceberg_layout(opened: OpenedPair) -> TableLayout:
    """The Iceberg target's current snapshot as its manifests and the footers describe it."""
    from datax_migrate.iceberg.read import plan_tasks

    table = opened.table
    snapshot = table.current_snapshot()
    tasks = plan_tasks(table, snapshot.snapshot_id) if snapshot else []

    def footer(path: str) -> pq.FileMetaData:
        with table.io.new_input(path).open() as handle:
            return pq.read_metadata(handle)

    spec = table.spec()
    partitioning = ", ".join(f"{f.transform}({f.name})" for f in spec.fields) or "none"
    order = table.sort_order()
    sort_order = ", ".join(str(f) for f in order.fields) or "none"
    return _layout(
        opened.pair.name,
        TARGET,
        f"{opened.pair.target} ({opened.metadata_location})",
        snapshot.snapshot_id if snapshot else -1,
        [(task.file.file_path, task.file.file_size_in_bytes) for task in tasks],
        footer,
        partitioning,
        sort_order,
    )


def _layout(
    name: str,
    side: str,
    location: str,
    version: int,
    files: list[tuple[str, int]],
    footer: Opener,
    partitioning: str,
    sort_order: str,
) -> TableLayout:
    step = max(1, -(-len(files) // FOOTER_CAP))
    codecs: set[str] = set()
    group_rows: list[int] = []
    group_bytes: list[int] = []
    rows = 0
    for path, _ in files[::step]:
        metadata = footer(path)
        rows += metadata.num_rows
        for index in range(metadata.num_row_groups):
            group = metadata.row_group(index)
            group_rows.append(group.num_rows)
            columns = [group.column(c) for c in range(group.num_columns)]
            group_bytes.append(sum(column.total_compressed_size for column in columns))
            codecs.update(column.compression for column in columns)
    read = len(files[::step])
    return TableLayout(
        name=name,
        side=side,
        location=location,
        version=version,
        files=len(files),
        bytes=sum(size for _, size in files),
        rows=rows if read == len(files) else round(rows * len(files) / max(read, 1)),
        codecs=tuple(sorted(codecs)),
        row_groups=len(group_rows) if read == len(files) else round(len(group_rows) * len(files) / max(read, 1)),
        row_group_rows=(
            (min(group_rows), int(statistics.median(group_rows)), max(group_rows)) if group_rows else (0, 0, 0)
        ),
        row_group_bytes_median=int(statistics.median(group_bytes)) if group_bytes else 0,
        partitioning=partitioning,
        sort_order=sort_order,
        footers_read=read,
    )
