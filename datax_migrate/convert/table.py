"""Convert one Delta table, at one version, into one Iceberg commit.

    >>> from datax_migrate.config import Config
    >>> from datax_migrate.convert import convert_table
    >>> result = convert_table("s3://lake/sales", Config.load().catalog(), "finance.sales", version=42)

The flow: replay the Delta log -> map the schema and partitioning -> stage the Iceberg table ->
plan file groups -> an engine writes one Iceberg data file per group -> one commit. A failure (or
Ctrl-C / SIGTERM) before the commit deletes what was written; the target stays as it was.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from pyiceberg.catalog import Catalog
from pyiceberg.manifest import DataFile
from pyiceberg.schema import Schema
from pyiceberg.table import Table
from pyiceberg.transforms import IdentityTransform

from datax_migrate import __version__
from datax_migrate.convert.engine import Engine, LocalEngine
from datax_migrate.convert.plan import DEFAULT_TARGET_FILE_BYTES, FileGroup
from datax_migrate.convert.source import ConversionSource
from datax_migrate.convert.task import GroupTask, GroupWriter
from datax_migrate.delta.clustering import clustering_columns
from datax_migrate.delta.commit_times import AUTO
from datax_migrate.delta.table import DeltaSnapshot
from datax_migrate.errors import ConfigError, TargetExistsError
from datax_migrate.iceberg.datafile import (
    ParquetSettings,
)
from datax_migrate.iceberg.partitioning import PartitionColumn, partition_spec, plan_partitioning
from datax_migrate.iceberg.schema import TypeMapOptions, iceberg_schema
from datax_migrate.iceberg.sorting import sort_columns
from datax_migrate.iceberg.target import IcebergTarget, SourceIdentity, current_conversion


@dataclass(frozen=True)
class ConvertOptions:
    """How to convert.

    Attributes:
        lossy: opt-in lossy type mappings (see :data:`datax_migrate.iceberg.schema.LOSSY_MAPPINGS`).
        identity_partitions: keep every Delta partition column as an identity partition, even
            generated columns that map to an Iceberg time transform.
        replace: replace a target that holds anything but this conversion, in one commit, as Iceberg's
            replace-table does (schema and partitioning may change; old snapshots stay for time travel).
        target_file_bytes: Delta bytes bin-packed into one Iceberg data file (at most; see
            :func:`~datax_migrate.convert.plan.plan_file_groups`).
        parquet: Parquet writer settings.
        table_properties: extra Iceberg table properties.
        sort_by: columns (dotted for nested ones) that become the table's sort order, ascending
            with nulls first; each data file is written sorted by them (within its file group, so
            files still overlap in range). ``None``: the Delta table's clustering columns (liquid
            clustering), if any. ``()``: unsorted.

    """

    lossy: frozenset[str] = frozenset()
    identity_partitions: bool = False
    replace: bool = False
    target_file_bytes: int = DEFAULT_TARGET_FILE_BYTES
    parquet: ParquetSettings = field(default_factory=ParquetSettings)
    table_properties: dict[str, str] = field(default_factory=dict)
    sort_by: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ConversionResult:
    """What a conversion did. ``status`` is ``converted``, ``replaced`` or ``unchanged``.

    ``sorted_by`` names the columns the data files were written sorted by (empty: unsorted).
    """

    status: str
    source: SourceIdentity
    target: str
    snapshot_id: int | None
    data_files: int
    rows: int
    bytes_written: int
    seconds: float
    sorted_by: tuple[str, ...] = ()

    @property
    def commit_time(self) -> dt.datetime:
        """Commit time of the converted Delta version (UTC)."""
        return dt.datetime.fromtimestamp(self.source.commit_timestamp_ms / 1000, tz=dt.timezone.utc)


class InterruptedAfterCommit(BaseException):
    """Ctrl-C or SIGTERM arrived during the commit, and the commit landed: the conversion is done.

    Like the interrupt it carries, it is not an :class:`Exception`: it stops the caller.

    Attributes:
        result: What was converted.
        interrupt: The ``KeyboardInterrupt`` (or SIGTERM's exception) that arrived.
    """

    def __init__(self, result: ConversionResult, interrupt: BaseException) -> None:
        """Carry ``result`` and the ``interrupt`` that arrived while it was committed."""
        super().__init__(f"interrupted after the commit of snapshot {result.snapshot_id} to {result.target} landed")
        self.result = result
        self.interrupt = interrupt


@dataclass(frozen=True)
class Progress:
    """Progress of a running conversion, reported after each file group."""

    groups_done: int
    groups_total: int
    files_done: int
    files_total: int
    rows_written: int


ProgressCallback = Callable[[Progress], None]


def convert_table(
    source: str | ConversionSource,
    catalog: Catalog,
    identifier: str,
    *,
    version: int | None = None,
    timestamp: dt.datetime | None = None,
    options: ConvertOptions | None = None,
    engine: Engine | None = None,
    progress: ProgressCallback | None = None,
    commit_times: str = AUTO,
) -> ConversionResult:
    """Convert the Delta table at ``source`` into the Iceberg table ``identifier`` of ``catalog``.

    Args:
        source: Delta table path or URI (local, ``file://``, ``s3://``), or a source already opened
            (and perhaps reading ahead) with :meth:`ConversionSource.open`.
        catalog: target pyiceberg catalog.
        identifier: ``namespace.table``; the namespace is created if missing.
        version: Delta version to convert (default: latest); only with a path.
        timestamp: convert the version current at this time instead; only with a path.
        options: see :class:`ConvertOptions`.
        engine: where file groups run (default: :class:`LocalEngine` on every core).
        progress: called after each file group.
        commit_times: how Delta commit times are read for ``timestamp`` and the recorded commit
            time: ``auto`` (detect copied logs), ``mtime`` or ``commit-info``; only with a path.

    Returns:
        What was written. Converting the same source version again returns ``unchanged`` while the
        table's current snapshot is that conversion (unless ``options.replace`` asks for other
        sort columns than the table's: then it is rewritten sorted).

    Raises:
        DataxError: the source cannot be read faithfully, the schema cannot be mapped, or the
            target exists with other content (or moved on since it was converted); nothing is left behind.
        InterruptedAfterCommit: Ctrl-C or SIGTERM arrived during the commit, which landed.

    """
    started = time.monotonic()
    options = options or ConvertOptions()
    if isinstance(source, str):
        source = ConversionSource.open(source, version, timestamp, options.target_file_bytes, commit_times=commit_times)
    elif version is not None or timestamp is not None or commit_times != AUTO:
        raise ConfigError("pass the version, timestamp or commit times to ConversionSource.open, not to convert_table")
    try:
        return _convert(source, catalog, identifier, options, engine, progress, started)
    finally:
        source.close()


def _convert(
    source: ConversionSource,
    catalog: Catalog,
    identifier: str,
    options: ConvertOptions,
    engine: Engine | None,
    progress: ProgressCallback | None,
    started: float,
) -> ConversionResult:
    snapshot = source.snapshot
    identity = SourceIdentity(
        location=snapshot.location,
        delta_version=snapshot.version,
        commit_timestamp_ms=snapshot.commit_timestamp_ms,
        delta_table_id=snapshot.metadata.id,
        commit_time_source=snapshot.commit_time_source,
        commit_time_note=snapshot.commit_time_note,
    )
    schema = iceberg_schema(snapshot.metadata.schema, TypeMapOptions(options.lossy))
    partitioning = _partitioning(snapshot, options)
    spec = partition_spec(partitioning, schema)
    sorted_by = _sort_columns(snapshot, schema, options)
    target = IcebergTarget(catalog, identifier)

    existing = target.existing()
    if existing is not None:
        held = _sorted_by(existing)
        if identity.same_source(current_conversion(existing)[1]) and (not options.replace or held == sorted_by):
            snapshot_id = _current_snapshot_id(existing)
            return ConversionResult("unchanged", identity, target.name, snapshot_id, 0, 0, 0, 0.0, held)
        if not options.replace:
            raise TargetExistsError(_occupied(target.name, existing))

    properties = {**_table_properties(snapshot, options), **identity.properties()}
    if existing is not None:
        target.begin_replace(existing, schema, spec, properties)
    else:
        target.begin_create(schema, spec, properties)
    target.sort_by(sorted_by)

    task = GroupTask(GroupWriter.for_conversion(source, target, partitioning, options.parquet), source, target)
    tracker = _ProgressTracker(source.groups, progress, target)
    data_files: list[DataFile] = []

    def result() -> ConversionResult:
        return ConversionResult(
            status="replaced" if existing is not None else "converted",
            source=identity,
            target=target.name,
            snapshot_id=target.snapshot_id,
            data_files=len(data_files),
            rows=sum(f.record_count for f in data_files),
            bytes_written=sum(f.file_size_in_bytes for f in data_files),
            seconds=time.monotonic() - started,
            sorted_by=sorted_by,
        )

    try:
        data_files = [f for f in (engine or LocalEngine()).run(source.groups, task, tracker.done) if f is not None]
        target.commit(data_files, {**identity.properties(), "datax.converter": f"datax-migrate {__version__}"})
        return result()
    except BaseException as exc:
        if target.committed:  # an interrupt that arrived during the commit, which landed
            raise InterruptedAfterCommit(result(), exc) from exc
        target.discard()
        raise


class _ProgressTracker:
    def __init__(self, groups: list[FileGroup], callback: ProgressCallback | None, target: IcebergTarget) -> None:
        self.callback, self.target = callback, target
        self.groups_total = len(groups)
        self.files_total = sum(len(g.files) for g in groups)
        self.groups_done = self.files_done = self.rows = 0

    def done(self, group: FileGroup, data_file: DataFile | None) -> None:
        self.groups_done += 1
        self.files_done += len(group.files)
        if data_file is not None:
            self.rows += data_file.record_count
            self.target.remember(data_file.file_path)  # files written on other machines (Spark executors)
        if self.callback is not None:
            self.callback(Progress(self.groups_done, self.groups_total, self.files_done, self.files_total, self.rows))


def _partitioning(snapshot: DeltaSnapshot, options: ConvertOptions) -> list[PartitionColumn]:
    columns = snapshot.metadata.partition_columns
    if options.identity_partitions:
        schema = snapshot.metadata.schema
        return [PartitionColumn(schema.field(c).name, IdentityTransform(), (c,)) for c in columns]
    return plan_partitioning(snapshot.metadata.schema, columns)


def _sort_columns(snapshot: DeltaSnapshot, schema: Schema, options: ConvertOptions) -> tuple[str, ...]:
    if options.sort_by is not None:
        return sort_columns(schema, options.sort_by)
    try:
        return sort_columns(schema, clustering_columns(snapshot))
    except ConfigError as exc:
        raise ConfigError(f"{exc} (a clustering column of the Delta table; --no-sort converts it unsorted)") from exc


def _table_properties(snapshot: DeltaSnapshot, options: ConvertOptions) -> dict[str, str]:
    carried = {k: v for k, v in snapshot.metadata.configuration.items() if not k.startswith("delta.")}
    if snapshot.metadata.description:
        carried["comment"] = snapshot.metadata.description
    codec = {"write.parquet.compression-codec": options.parquet.compression}  # later writers: the same codec
    return {"format-version": "2", **codec, **carried, **options.table_properties}


def _occupied(name: str, table: Table) -> str:
    """Why a conversion will not write into ``table`` without ``--replace``."""
    snapshot, converted = current_conversion(table)
    recorded = converted or SourceIdentity.from_properties(table.properties)
    was = f"Delta version {recorded.delta_version} of {recorded.location}" if recorded else "another source"
    if converted is None and recorded is not None and snapshot is not None:
        written = dt.datetime.fromtimestamp(snapshot.timestamp_ms / 1000, tz=dt.timezone.utc)
        operation = snapshot.summary.operation.value if snapshot.summary else "write"
        return (
            f"{name} was converted from {was}, but the table has moved on since: its current snapshot "
            f"{snapshot.snapshot_id} ({operation} at {written:%Y-%m-%d %H:%M:%S} UTC) was written by another "
            "writer; pass --replace to convert over it, or leave it as it is"
        )
    return f"{name} exists (converted from {was}); pass --replace to rewrite it"


def _sorted_by(table: Table) -> tuple[str, ...]:
    """The columns of the table's sort order; a replace with other sort columns rewrites the same source."""
    schema = table.schema()
    return tuple(schema.find_column_name(f.source_id) or str(f.source_id) for f in table.sort_order().fields)


def _current_snapshot_id(table: object) -> int | None:
    snapshot = table.current_snapshot()  # type: ignore[attr-defined]
    return snapshot.snapshot_id if snapshot else None
