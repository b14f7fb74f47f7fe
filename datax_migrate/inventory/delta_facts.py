"""Facts about a Delta table, read from its log by our own reader.

The log is replayed without the converter's feature check, so a table the converter would refuse
is still described (its unknown features recorded by name); the assessment then applies the
converter's own checks to these facts.
"""

from __future__ import annotations

import json

import pyarrow.fs as pafs

from datax_migrate.delta.log import DeltaLog
from datax_migrate.delta.storage import TableStorage
from datax_migrate.errors import CorruptLogError
from datax_migrate.inventory.model import DeltaFacts


def read_delta_facts(uri: str, filesystem: pafs.FileSystem | None = None) -> tuple[DeltaFacts, str]:
    """Replay the log of the Delta table at ``uri`` to its latest version.

    Args:
        uri: Table location (local path, ``file://`` or ``s3://``).
        filesystem: The filesystem to read through, when the caller has one open.

    Returns:
        The facts and the table's schema in Delta's JSON form.

    Raises:
        DeltaError: the log cannot be listed or replayed (the message says why).
    """
    log = DeltaLog(TableStorage(uri, filesystem))
    segment = log.segment()
    state = log.replay(segment)
    if state.protocol is None or state.metadata is None:
        missing = "protocol" if state.protocol is None else "metaData"
        raise CorruptLogError(f"version {segment.version} of {uri} has no {missing} action")
    files = list(state.active.values())
    rows: int | None = 0
    deleted = 0
    with_dv = 0
    for add in files:
        if add.deletion_vector is not None:
            with_dv += 1
            deleted += add.deletion_vector.cardinality
        records = _num_records(add.stats)
        rows = None if rows is None or records is None else rows + records
    protocol, metadata = state.protocol, state.metadata
    facts = DeltaFacts(
        version=segment.version,
        min_reader_version=protocol.min_reader_version,
        min_writer_version=protocol.min_writer_version,
        reader_features=tuple(sorted(protocol.reader_features)),
        writer_features=tuple(sorted(protocol.writer_features)),
        partition_columns=metadata.partition_columns,
        column_mapping_mode=metadata.column_mapping_mode,
        configuration=dict(sorted(metadata.configuration.items())),
        file_count=len(files),
        total_bytes=sum(add.size for add in files),
        row_count=None if rows is None else rows - deleted,
        files_with_deletion_vectors=with_dv,
        deleted_rows=deleted,
        last_commit_ms=log.commit_timestamp(segment.version),
    )
    return facts, metadata.schema_string


def _num_records(stats: str | None) -> int | None:
    if not stats:
        return None
    try:
        value = json.loads(stats).get("numRecords")
    except (ValueError, AttributeError):
        return None
    return int(value) if value is not None else None
