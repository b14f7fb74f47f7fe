"""Facts about a Delta table, read from its log by our own reader.

The log is replayed without the converter's feature check, so a table the converter would refuse
is still described (its unknown features recorded by name); the assessment then applies the
converter's own checks to these facts.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

import pyarrow.fs as pafs

from datax_migrate.delta.commit_times import AUTO
from datax_migrate.delta.log import DeltaLog
from datax_migrate.delta.schema import IDENTITY_START, parse_schema
from datax_migrate.delta.storage import TableStorage
from datax_migrate.errors import CorruptLogError, DataxError
from datax_migrate.inventory.model import DeltaFacts

SMALL_FILE_BYTES = 32 * 1024 * 1024
"""A data file under this size is small: a quarter of 128 MiB (Spark's default split size,
``spark.sql.files.maxPartitionBytes``), an eighth of the converter's 256 MiB target file size."""

CONSTRAINT_PREFIX = "delta.constraints."
CHANGE_DATA_FEED = "delta.enableChangeDataFeed"


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
    small = sum(add.size < SMALL_FILE_BYTES for add in files)
    facts = DeltaFacts(
        version=segment.version,
        min_reader_version=protocol.min_reader_version,
        min_writer_version=protocol.min_writer_version,
        reader_features=tuple(sorted(protocol.reader_features)),
        writer_features=tuple(sorted(protocol.writer_features)),
        partition_columns=metadata.partition_columns,
        column_mapping_mode=metadata.column_mapping_mode,
        configuration=dict(sorted(metadata.configuration.items())),
        num_files=len(files),
        size_bytes=sum(add.size for add in files),
        small_file_ratio=round(small / len(files), 4) if files else None,
        row_count=None if rows is None else rows - deleted,
        files_with_deletion_vectors=with_dv,
        deleted_rows=deleted,
        history_length=len(log.commits),
        last_write=iso_timestamp(log.commit_timestamp(segment.version, AUTO)),
        **declared_features(metadata.configuration, metadata.schema_string),
    )
    return facts, metadata.schema_string


def declared_features(configuration: Mapping[str, str], schema_json: str | None) -> dict[str, Any]:
    """The change data feed, CHECK constraints, generated and identity columns a table declares.

    They are the :class:`DeltaFacts` fields of those names: what Iceberg does not carry over.

    Args:
        configuration: Table properties (``delta.*``).
        schema_json: The schema in Delta's JSON form; without one (or when it does not parse) no
            generated or identity columns are recorded.
    """
    generated: dict[str, str] = {}
    identity: list[str] = []
    if schema_json:
        try:
            schema = parse_schema(schema_json)
        except DataxError:
            schema = None
        for column in schema.fields if schema else ():
            if column.generation_expression is not None:
                generated[column.name] = column.generation_expression
            if IDENTITY_START in column.metadata:
                identity.append(column.name)
    return {
        "change_data_feed": str(configuration.get(CHANGE_DATA_FEED, "")).lower() == "true",
        "check_constraints": {
            key[len(CONSTRAINT_PREFIX) :]: value
            for key, value in sorted(configuration.items())
            if key.lower().startswith(CONSTRAINT_PREFIX)
        },
        "generated_columns": generated,
        "identity_columns": tuple(identity),
    }


def iso_timestamp(ms: int) -> str:
    """Milliseconds since the epoch as ISO-8601 in UTC (``2024-01-01T00:00:00.000+00:00``)."""
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.timezone.utc).isoformat(timespec="milliseconds")


def _num_records(stats: str | None) -> int | None:
    if not stats:
        return None
    try:
        value = json.loads(stats).get("numRecords")
    except (ValueError, AttributeError):
        return None
    return int(value) if value is not None else None
