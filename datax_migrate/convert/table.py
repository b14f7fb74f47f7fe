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
from pyiceberg.table import Table, Transaction

from datax_migrate import __version__
from datax_migrate.catalogs.retention import with_history_kept
from datax_migrate.convert.changes import ChangeReader, HistoryStart, history_start, initial_change, operation_of
from datax_migrate.convert.engine import Engine, LocalEngine
from datax_migrate.convert.history import (
    SYNC_LAST_SNAPSHOT_ID,
    SYNC_LAST_VERSION,
    SYNC_SOURCE_LOCATION,
    SYNC_SOURCE_TABLE_ID,
    HistoryReplay,
    ReplayOutcome,
    ReplaySettings,
    options_state,
    partition_plan,
    shape_state,
)
from datax_migrate.convert.lineage import LINEAGE_PROPERTY, Lineage, lineage_file
from datax_migrate.convert.plan import DEFAULT_TARGET_FILE_BYTES, FileGroup
from datax_migrate.convert.source import ConversionSource
from datax_migrate.convert.task import GroupTask, GroupWriter
from datax_migrate.delta.clustering import clustering_columns
from datax_migrate.delta.commit_times import AUTO
from datax_migrate.delta.table import DeltaSnapshot, DeltaTable
from datax_migrate.errors import ConfigError, TargetExistsError, VersionNotFoundError
from datax_migrate.iceberg.datafile import (
    ParquetSettings,
)
from datax_migrate.iceberg.partitioning import PartitionColumn, partition_spec
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

    A history conversion also lists the snapshots it added (one per Delta version, oldest first) and
    notes the versions before ``from_version`` that could not be reconstructed.
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
    snapshot_ids: tuple[int, ...] = ()
    from_version: int | None = None
    notes: tuple[str, ...] = ()
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
    history: bool = False,
    from_version: int | None = None,
    tag_versions: bool = False,
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
        history: write one snapshot per Delta version, from ``from_version`` (default: the first
            version whose files still exist) to ``version`` (default: latest), in one commit; only
            with a path, into a new table.
        from_version: first Delta version of the history.
        tag_versions: tag each history snapshot ``delta-v<N>``.

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
    if history or from_version is not None or tag_versions:
        if not history:
            raise ConfigError("--from-version and --tag-versions go with --history")
        if not isinstance(source, str) or timestamp is not None or options.replace:
            raise ConfigError("a history conversion takes a path and --version, without --timestamp or --replace")
        settings = ReplaySettings(
            options.lossy, options.identity_partitions, options.parquet, tag_versions=tag_versions
        )
        delta = DeltaTable(source, commit_times=commit_times)
        result = _convert_history(
            delta, catalog, identifier, from_version, version, options, settings, engine, progress
        )
        return with_history_kept(result, catalog, identifier)
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
        rewrite = options.replace and (held != sorted_by or LINEAGE_PROPERTY not in existing.properties)
        if identity.same_source(current_conversion(existing)[1]) and not rewrite:  # no lineage: sync cannot start
            snapshot_id = _current_snapshot_id(existing)
            return ConversionResult("unchanged", identity, target.name, snapshot_id, 0, 0, 0, 0.0, sorted_by=held)
        if not options.replace:
            raise TargetExistsError(_occupied(target.name, existing))

    properties = {**_table_properties(snapshot, options), **identity.properties()}
    if existing is not None:
        target.begin_replace(existing, schema, spec, properties)
    else:
        target.begin_create(schema, spec, properties)
    target.sort_by(sorted_by)

    task = GroupTask(GroupWriter.for_conversion(source, target, partitioning, options.parquet), source, target)
    tracker = ProgressTracker(source.groups, progress, target)
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
        written = (engine or LocalEngine()).run(source.groups, task, tracker.done)
        data_files = [f for files in written for f in files]
        lineage = Lineage()
        for group, files in zip(source.groups, written, strict=True):
            lineage.add({f.file_path for f in files}, {add.key for add in group.files})
        lineage_path = lineage_file(target.location, target.run_id)
        target.remember(lineage_path)
        lineage.write(target.io, lineage_path)

        def sync_state(transaction: Transaction, snapshot_id: int) -> None:
            transaction.set_properties(
                {
                    **_sync_state(snapshot, snapshot_id, lineage_path),
                    **shape_state(transaction.table_metadata),
                    **options_state(options.lossy, options.identity_partitions),
                }
            )

        target.commit(
            data_files, {**identity.properties(), "datax.converter": f"datax-migrate {__version__}"}, then=sync_state
        )
        return result()
    except BaseException as exc:
        if target.committed:  # an interrupt that arrived during the commit, which landed
            raise InterruptedAfterCommit(result(), exc) from exc
        target.discard()
        raise


class ProgressTracker:
    """Counts finished file groups for a :data:`ProgressCallback`; records each data file with the target."""

    def __init__(self, groups: list[FileGroup], callback: ProgressCallback | None, target: IcebergTarget) -> None:
        self.callback, self.target = callback, target
        self.groups_total = len(groups)
        self.files_total = sum(len(g.files) for g in groups)
        self.groups_done = self.files_done = self.rows = 0

    def done(self, group: FileGroup, data_files: list[DataFile]) -> None:
        """Account for one finished group and the data files it wrote (none: no rows)."""
        self.groups_done += 1
        self.files_done += len(group.files)
        for data_file in data_files:
            self.rows += data_file.record_count
            self.target.remember(data_file.file_path)  # files written on other machines (Spark executors)
        if self.callback is not None:
            self.callback(Progress(self.groups_done, self.groups_total, self.files_done, self.files_total, self.rows))


def _partitioning(snapshot: DeltaSnapshot, options: ConvertOptions) -> list[PartitionColumn]:
    return partition_plan(snapshot, options.identity_partitions)


def _sync_state(snapshot: DeltaSnapshot, snapshot_id: int, lineage_path: str) -> dict[str, str]:
    """The table properties that let ``sync`` continue from ``snapshot`` (see :mod:`datax_migrate.sync`)."""
    return {
        SYNC_SOURCE_TABLE_ID: snapshot.metadata.id,
        SYNC_SOURCE_LOCATION: snapshot.location,
        SYNC_LAST_VERSION: str(snapshot.version),
        SYNC_LAST_SNAPSHOT_ID: str(snapshot_id),
        LINEAGE_PROPERTY: lineage_path,
    }


def _convert_history(
    delta: DeltaTable,
    catalog: Catalog,
    identifier: str,
    from_version: int | None,
    version: int | None,
    options: ConvertOptions,
    settings: ReplaySettings,
    engine: Engine | None,
    progress: ProgressCallback | None,
) -> ConversionResult:
    """One snapshot per Delta version from ``from_version`` to ``version``, into a new table, in one commit."""
    started = time.monotonic()
    last = delta.latest_version if version is None else version
    start = history_start(delta, last, from_version)
    if from_version is not None and from_version < start.version:
        raise VersionNotFoundError(f"--from-version {from_version} cannot be reconstructed: {start.skipped[-1]}")
    first = start.version if from_version is None else from_version
    if first > last:
        raise ConfigError(f"--from-version {first} is after --version {last}")
    base = delta.snapshot(first)
    final = delta.snapshot(last) if last != first else base
    identity = SourceIdentity(
        location=final.location,
        delta_version=final.version,
        commit_timestamp_ms=final.commit_timestamp_ms,
        delta_table_id=final.metadata.id,
        commit_time_source=final.commit_time_source,
        commit_time_note=final.commit_time_note,
    )
    target = IcebergTarget(catalog, identifier)
    existing = target.existing()
    if existing is not None:
        if existing.properties.get(SYNC_LAST_VERSION) == str(last) and identity.same_source(
            SourceIdentity.from_properties(existing.properties)
        ):
            return ConversionResult("unchanged", identity, target.name, _current_snapshot_id(existing), 0, 0, 0, 0.0)
        raise TargetExistsError(
            f"{_occupied(target.name, existing)}; a history is written into a new table only (sync continues one)"
        )
    schema = iceberg_schema(base.metadata.schema, TypeMapOptions(options.lossy))
    spec = partition_spec(_partitioning(base, options), schema)
    target.begin_create(schema, spec, _table_properties(base, options))
    replay = HistoryReplay(target, Lineage(), {}, {}, settings, base)
    outcome = None
    try:
        replay.plan([initial_change(base, operation_of(delta, first)), *ChangeReader(delta, base).changes(last)])
        tracker = ProgressTracker(replay.groups, progress, target)
        replay.write(engine, tracker.done)
        outcome = replay.commit(identity.properties())
    except BaseException as exc:
        if target.committed:
            raise InterruptedAfterCommit(_history_result(identity, target, None, start, first, started), exc) from exc
        target.discard()
        raise
    return _history_result(identity, target, outcome, start, first, started)


def _history_result(
    identity: SourceIdentity,
    target: IcebergTarget,
    outcome: ReplayOutcome | None,
    start: HistoryStart,
    first: int,
    started: float,
) -> ConversionResult:
    notes = [f"not converted: {reason}" for reason in start.skipped]
    if identity.commit_time_note:
        notes.append(identity.commit_time_note)
    return ConversionResult(
        status="converted",
        source=identity,
        target=target.name,
        snapshot_id=target.snapshot_id,
        data_files=outcome.data_files_written if outcome else 0,
        rows=outcome.total_rows if outcome else 0,
        bytes_written=outcome.bytes_written if outcome else 0,
        seconds=time.monotonic() - started,
        snapshot_ids=target.snapshot_ids,
        from_version=first,
        notes=tuple(notes),
    )


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
